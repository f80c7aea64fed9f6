"""Three real nodes on one PostgreSQL: each lists all three; a killed node is declared dead by
the others within a few beats, with ONE alert; started again with its id, it is alive."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

import aiohttp
import pytest
from sqlalchemy import create_engine, text

from tests.cluster.conftest import Cluster, http_json

pytestmark = pytest.mark.postgres


def within(seconds: float, probe: Callable[[], bool], what: str) -> float:
    """How long until `probe` holds, asked every 50 ms for at most `seconds`: the cluster's
    nodes are other processes, their API is all there is to watch."""
    started = time.monotonic()
    while True:
        ok = probe()
        elapsed = time.monotonic() - started
        if ok:
            return elapsed
        if elapsed > seconds:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.05)


def state_of(cluster: Cluster, seen_by: str, node_id: str, state: str) -> bool:
    return bool(cluster.nodes_seen_by(seen_by)[node_id]["state"] == state)


def beat_since(cluster: Cluster, node_id: str, since: datetime) -> bool:
    last = cluster.nodes_seen_by(node_id)[node_id]["last_beat_at"]
    return datetime.fromisoformat(last.replace("Z", "+00:00")) > since


def downs_recorded(cluster: Cluster, node_id: str) -> int:
    engine = create_engine(cluster.database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM audit_events WHERE action = 'node.down' AND target = :t"),
                {"t": f"node:{node_id}"}).scalar_one())
    finally:
        engine.dispose()


def test_every_node_lists_the_three_alive(cluster: Cluster) -> None:
    for node_id, url in cluster.urls.items():
        seen = cluster.nodes_seen_by(node_id)
        assert set(seen) >= set(cluster.nodes), seen
        assert {n: seen[n]["state"] for n in cluster.nodes} == dict.fromkeys(cluster.nodes,
                                                                                "alive")
        assert [n for n, v in seen.items() if v["self"]] == [node_id]
        assert seen[node_id]["url"] == url
        assert {"streams", "viewers", "cpu_cores"} <= set(seen[node_id]["load"])
    # Anonymous and non-admin callers are refused on every node alike.
    for url in cluster.urls.values():
        assert http_json("GET", f"{url}/api/nodes")[0] == 401


def kill_and_watch(cluster: Cluster, victim: str, watchers: tuple[str, ...]) -> None:
    """Kill `victim`; the watchers show it dead within a few beats, and both beat on after."""
    cluster.kill(victim)
    killed = time.monotonic()
    limit = cluster.heartbeat_s * (cluster.dead_after_beats + 2) + 2.0
    for node_id in watchers:
        within(limit, partial(state_of, cluster, node_id, victim, "dead"),
               f"{node_id} shows {victim} dead")
        print(f"{node_id} shows {victim} dead {time.monotonic() - killed:.2f} s after the kill")
    # Both watchers look for silence again after the death: still exactly one claim.
    declared = datetime.now().astimezone()
    for node_id in watchers:
        within(cluster.heartbeat_s * 4, partial(beat_since, cluster, node_id, declared),
               f"{node_id} beats after the death")


def restart_and_watch(cluster: Cluster, victim: str) -> None:
    cluster.start(victim)
    for node_id in cluster.nodes:
        within(5.0, partial(state_of, cluster, node_id, victim, "alive"),
               f"{node_id} shows {victim} alive again")


async def listen(ws: aiohttp.ClientWebSocketResponse, heard: list[dict[str, Any]],
                 down: asyncio.Event) -> None:
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            event = json.loads(msg.data)
            heard.append(event)
            if event.get("kind") == "node.down":
                down.set()


async def test_a_killed_node_is_declared_dead_once_and_comes_back(cluster: Cluster) -> None:
    victim, watchers = "n3", ("n1", "n2")
    assert downs_recorded(cluster, victim) == 0
    heard: list[dict[str, Any]] = []
    down = asyncio.Event()
    bearer = {"Authorization": f"Bearer {cluster.token}"}
    async with aiohttp.ClientSession() as http:
        sockets = [await http.ws_connect(f"{cluster.urls[n]}/api/events", headers=bearer)
                   for n in watchers]
        readers = [asyncio.create_task(listen(ws, heard, down)) for ws in sockets]
        await asyncio.to_thread(kill_and_watch, cluster, victim, watchers)
        await asyncio.wait_for(down.wait(), 5.0)
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*readers)
    # The declaring node's admins heard it; however many nodes relay it, it is one event.
    about = [e for e in heard if e["data"].get("node") == victim]
    downs = {(e["at"], e["data"]["declared_by"]) for e in about if e["kind"] == "node.down"}
    alerts = {e["at"] for e in about if e["kind"] == "alert.raised"}
    assert len(downs) == 1 and len(alerts) == 1, about
    assert downs_recorded(cluster, victim) == 1

    await asyncio.to_thread(restart_and_watch, cluster, victim)
    assert downs_recorded(cluster, victim) == 1
