"""A real cluster: three `courtav serve` processes (n1, n2, n3) on one fresh PostgreSQL database.

Shared by every test of this folder (package scope: started once for the folder, stopped
after it, so three idle nodes do not load the machine while the rest of the suite runs). A
test that kills or restarts a node leaves it running again. Locally the cluster is skipped
without COURTAV_TEST_POSTGRES_URL; under CI=true it fails instead.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import fresh_postgres

REPO = Path(__file__).resolve().parents[2]
NODE_IDS = ("n1", "n2", "n3")
HEARTBEAT_S = 0.5
DEAD_AFTER_BEATS = 4  # 2 s of silence: margin for a loaded 2-core CI machine
ADMIN = "admin"
ADMIN_PASSWORD = "cluster admin password"
NODE_SECRET = secrets.token_hex(16)  # made per run, like a province's deployment would
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_json(method: str, url: str, body: dict[str, Any] | None = None,
              token: str | None = None, timeout: float = 5.0) -> tuple[int, Any]:
    """A blocking request to a node (the fixture runs outside any event loop)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw.startswith(b"{") else raw.decode()


@dataclass
class ClusterNode:
    """One `courtav serve` process of the cluster."""

    id: str
    port: int
    data_dir: Path
    log_file: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    """The nodes, their shared database and an admin token that every node accepts."""

    database_url: str
    config_file: Path
    nodes: dict[str, ClusterNode] = field(default_factory=dict)
    token: str = ""
    heartbeat_s: float = HEARTBEAT_S
    dead_after_beats: int = DEAD_AFTER_BEATS

    @property
    def urls(self) -> dict[str, str]:
        return {n.id: n.url for n in self.nodes.values()}

    def env(self, node: ClusterNode) -> dict[str, str]:
        return {**os.environ, "COURTAV_CONFIG": str(self.config_file),
                "COURTAV_DATABASE_URL": self.database_url, "COURTAV_PORT": str(node.port),
                "COURTAV_NODE_ID": node.id, "COURTAV_NODE_URL": node.url,
                "COURTAV_DATA_DIR": str(node.data_dir), "COURTAV_ICE_HOSTS": "127.0.0.1",
                "COURTAV_LOG_LEVEL": "WARNING", "COURTAV_NODE_SECRET": NODE_SECRET,
                "PYTHONPATH": str(REPO)}

    def start(self, node_id: str) -> None:
        """Start the node's process (again, with the same id and port) and wait until it answers."""
        node = self.nodes[node_id]
        assert node.proc is None or node.proc.poll() is not None, f"{node_id} is running"
        with node.log_file.open("ab") as out:
            node.proc = subprocess.Popen(
                [sys.executable, "-m", "control.cli", "serve"], env=self.env(node), cwd=REPO,
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if node.proc.poll() is not None:
                raise RuntimeError(f"{node_id} exited {node.proc.returncode}: {self.log(node_id)}")
            try:
                status, _ = http_json("GET", f"{node.url}/api/me", timeout=1.0)
                if status == 401:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{node_id} did not answer: {self.log(node_id)}")
            time.sleep(0.1)  # a process coming up has nothing to wait on but its port

    def kill(self, node_id: str, sig: int = signal.SIGKILL) -> None:
        """Kill the node's process (SIGKILL: no clean stop) and reap it."""
        proc = self.nodes[node_id].proc
        assert proc is not None
        proc.send_signal(sig)
        proc.wait(timeout=STOP_TIMEOUT_S)

    def stop_all(self) -> None:
        procs = [n.proc for n in self.nodes.values() if n.proc is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT_S)

    def log(self, node_id: str) -> str:
        """The end of the node's output, for failure messages."""
        path = self.nodes[node_id].log_file
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def nodes_seen_by(self, node_id: str) -> dict[str, dict[str, Any]]:
        """`GET /api/nodes` on `node_id`, by node id."""
        status, body = http_json("GET", f"{self.nodes[node_id].url}/api/nodes", token=self.token)
        assert status == 200, body
        return {n["id"]: n for n in body["nodes"]}


def _create_admin(cluster: Cluster, tmp: Path) -> None:
    """`courtav users add` once, on the fresh database (which also migrates and loads it)."""
    env = {**cluster.env(ClusterNode("setup", 0, tmp / "setup", tmp / "setup.log")),
           "COURTAV_PORT": "8080"}
    subprocess.run([sys.executable, "-m", "control.cli", "users", "add", ADMIN, "--role",
                    "admin"], input=f"{ADMIN_PASSWORD}\n".encode(), env=env, cwd=REPO,
                   check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="package")
def cluster_database() -> Iterator[str]:
    """One fresh PostgreSQL database for the whole cluster, dropped at the end."""
    with fresh_postgres("courtav_cluster", "the cluster tests") as url:
        yield url


@pytest.fixture(scope="package")
def cluster(cluster_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Three nodes n1, n2, n3 running on one database, with an admin token."""
    tmp = tmp_path_factory.mktemp("cluster")
    config = tmp / "courtav.toml"
    config.write_text(
        f"[paths]\nprovince = {json.dumps(str(REPO / 'configs' / 'province.toml'))}\n"
        f"[node]\nheartbeat_s = {HEARTBEAT_S}\ndead_after_beats = {DEAD_AFTER_BEATS}\n"
        "[auth]\nfailure_delay_ms = 0\n"
        "[recorder.retention]\nenabled = false\n", encoding="utf-8")
    c = Cluster(database_url=cluster_database, config_file=config)
    for node_id in NODE_IDS:
        c.nodes[node_id] = ClusterNode(node_id, free_port(), tmp / node_id, tmp / f"{node_id}.log")
    try:
        _create_admin(c, tmp)
        for node_id in NODE_IDS:
            c.start(node_id)
        status, body = http_json("POST", f"{c.nodes['n1'].url}/api/login",
                                 {"username": ADMIN, "password": ADMIN_PASSWORD})
        assert status == 200, body
        c.token = body["token"]
        yield c
    finally:
        c.stop_all()
