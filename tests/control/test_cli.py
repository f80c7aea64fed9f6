"""The `courtav` command line against a real database, and `serve` as a real process."""

from __future__ import annotations

import asyncio
import io
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from control.cli import main
from control.config import Settings


def run_cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, argv: list[str],
            stdin: str = "") -> int:
    monkeypatch.setenv("COURTAV_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(argv)


def test_users_add_list_passwd(monkeypatch: pytest.MonkeyPatch, settings: Settings,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(monkeypatch, settings, ["users", "add", "clerk.nangang", "--role", "clerk",
                                           "--court", "HL0103"], "a long secret 1\n") == 0
    assert run_cli(monkeypatch, settings, ["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "clerk.nangang\tclerk\tHL0103" in out and "a long secret" not in out
    assert run_cli(monkeypatch, settings, ["users", "passwd", "clerk.nangang"],
                   "another secret 2\n") == 0
    # Refusals: duplicate, weak password, unknown court, admin with a court, unknown user.
    bad = [
        (["users", "add", "clerk.nangang", "--role", "clerk", "--court", "HL0103"],
         "fine password 3"),
        (["users", "add", "newbie", "--role", "judge", "--court", "HL0103"], "short"),
        (["users", "add", "newbie", "--role", "judge", "--court", "XX99"], "long enough pw"),
        (["users", "add", "boss", "--role", "admin", "--court", "HL"], "long enough pw"),
        (["users", "add", "Bad Name!", "--role", "clerk", "--court", "HL"], "long enough pw"),
        (["users", "passwd", "ghost"], "long enough pw"),
    ]
    for argv, pw in bad:
        assert run_cli(monkeypatch, settings, argv, pw + "\n") == 1, argv
    errors = capsys.readouterr().err
    assert "already exists" in errors and "at least 10" in errors and "no user ghost" in errors


def test_bad_config_exits_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[server]\nport = 'x'\n")
    assert main(["--config", str(cfg), "users", "list"]) == 2
    assert "[server] port: expected int" in capsys.readouterr().err
    assert main(["serve", "--config", str(cfg), "--port", "1"]) == 2
    assert f"{cfg}: [server] port" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_fresh_data_dir_prints_logins_and_lists_888(tmp_path: Path) -> None:
    """What `make run` does, on an empty data folder: demo logins, then the API."""
    port = free_port()
    env = {**os.environ, "COURTAV_DATA_DIR": str(tmp_path / "data"), "COURTAV_PORT": str(port),
           "COURTAV_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "control.cli", "serve"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for _ in range(40):
            line = await asyncio.to_thread(proc.stdout.readline)
            lines.append(line)
            if line.strip().startswith("security.harbin"):
                break
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in text, text
        passwords = dict(re.findall(r"^\s+(\S+)\s+\w+\s+\S+\s+(\S+)$", text, re.M))
        assert set(passwords) >= {"admin", "president.daoli", "judge.daoli", "security.harbin"}
        saved = (tmp_path / "data" / "demo-logins.txt")
        assert oct(saved.stat().st_mode & 0o777) == "0o600"
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/api/me") as r:
                        if r.status == 401:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            counts = {}
            for user in ("admin", "president.daoli"):
                async with http.post(f"{base}/api/login",
                                     json={"username": user, "password": passwords[user]}) as r:
                    token = (await r.json())["token"]
                async with http.get(f"{base}/api/courtrooms",
                                    headers={"Authorization": f"Bearer {token}"}) as r:
                    counts[user] = (await r.json())["total"]
        assert counts["admin"] == 888
        assert 0 < counts["president.daoli"] < 888
    finally:
        proc.terminate()
        proc.wait(timeout=10)
