"""The shared stream directory: two apps on one PostgreSQL database, each its own node, agree on
which node holds each live stream, and a dead node's streams end with it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.bus import Event
from control.core import CORE
from control.live import LIVE
from control.media_paths import room_path
from control.models import LiveStream
from control.nodes import NODES
from control.stream_directory import STREAMS, Holder, StreamDirectory
from media.sources import PatternSpec, TestPatternSource
from tests.conftest import _OPEN_DATABASES, make_settings

pytestmark = pytest.mark.postgres

WITHIN_S = 10.0  # generous: a loaded 2-core machine; the cluster benchmark measures latency


@pytest.fixture
async def two_nodes(aiohttp_client, pg_url: str, tmp_path: Path) -> tuple[TestClient, TestClient]:
    from control.app import build_services, create_app

    clients = []
    for node in ("a", "b"):
        settings = make_settings(tmp_path / node, COURTAV_DATABASE_URL=pg_url,
                                 COURTAV_NODE_ID=node, COURTAV_NODE_URL=f"http://{node}.test")
        svc = build_services(settings)
        _OPEN_DATABASES.append(svc.db)
        clients.append(await aiohttp_client(create_app(settings, svc, record_hearings=False)))
    return clients[0], clients[1]


async def until(check, what: str) -> None:
    async with asyncio.timeout(WITHIN_S):
        # The other node's NOTIFY arrives with nothing local to wait on: look every 50 ms.
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert check(), what


async def rows(client: TestClient) -> dict[str, str]:
    db = client.app[CORE].db
    return await db.run(lambda s: {r.path: r.node_id for r in s.scalars(select(LiveStream))})


async def test_a_stream_live_on_one_node_is_located_from_the_other(two_nodes) -> None:
    a, b = two_nodes
    room = next(iter(a.app[CORE].registry.rooms.values()))
    path = room_path(room.code, room.feeds[0])
    directory_b: StreamDirectory = b.app[STREAMS]
    source = TestPatternSource(a.app[LIVE].streams, path, PatternSpec("directory"))
    await source.start()
    try:
        await until(lambda: directory_b.holder(path) == "a", "b learns a holds the stream")
        assert directory_b.locate(path) == Holder("a", "http://a.test")
        assert a.app[STREAMS].locate(path) is None  # a holds it itself
        assert await rows(b) == {path: "a"}
    finally:
        await source.stop()
    await until(lambda: directory_b.holder(path) is None, "b learns the stream ended")
    assert await rows(a) == {}


async def test_the_node_that_declares_a_death_ends_the_dead_nodes_streams(two_nodes) -> None:
    a, b = two_nodes
    room = next(iter(a.app[CORE].registry.rooms.values()))
    path = room_path(room.code, room.feeds[0])
    source = TestPatternSource(a.app[LIVE].streams, path, PatternSpec("dies"))
    await source.start()
    try:
        await until(lambda: b.app[STREAMS].holder(path) == "a", "b learns a holds the stream")
        downs = b.app[CORE].bus.subscribe()
        nodes_b = b.app[NODES]
        last = nodes_b._clock()
        await nodes_b._declare_dead("a", "http://a.test", last, last)  # as b's beat would
        event: Event = await downs.next("stream.down", within=WITHIN_S)
        assert (event.data["path"], event.data["holder"]) == (path, "a")
        assert event.target.room == room.code
        assert b.app[STREAMS].holder(path) is None
        assert await rows(b) == {}
    finally:
        await source.stop()
