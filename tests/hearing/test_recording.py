"""The lifecycle drives the recorder: opening records the room, markers follow, gaps are kept.

Real streams (a looped H.264 + Opus clip pushed into the media plane), the real recorder
writing segments, the app exactly as create_app builds it.
"""

from __future__ import annotations

import errno
import threading
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.app import create_app
from control.config import Settings
from control.core import Core
from control.live import LIVE
from hearing.bench_directory import BENCH
from media.sources import Clip, PatternSpec, render_clip
from recorder.models import Recording
from recorder.service import RECORDER
from recorder.storage import SegmentFile
from tests.conftest import auth
from tests.hearing.conftest import SESSION_TOKENS, book, file_case, move
from tests.recorder.conftest import FastFeed

ROOM = "HL0102-01"
CLERK, JUDGE = SESSION_TOKENS["clerk.daoli"], SESSION_TOKENS["judge.daoli"]


@pytest.fixture(scope="module")
def clip() -> Clip:
    return render_clip(PatternSpec("Hearing test", gop_s=1, duration_s=2))


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, services: Core) -> TestClient:
    app = create_app(settings, services)
    app[RECORDER].segment_s = 1.0
    return await aiohttp_client(app)


def feed_of(client: TestClient, clip: Clip) -> FastFeed:
    feed = FastFeed(client.app[LIVE].streams, f"rooms/{ROOM}/main", clip)
    feed.push(2)
    return feed


async def opened(client: TestClient) -> int:
    case = await file_case(client, CLERK)
    hearing = await book(client, CLERK, case["id"], room=ROOM)
    await move(client, CLERK, hearing["id"], "opened")
    return int(hearing["id"])


async def recordings_of(client: TestClient, hearing_id: int, token: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/recordings?hearing=hearing:{hearing_id}", headers=auth(token))
    assert r.status == 200, await r.text()
    return list((await r.json())["items"])


async def gaps_of(client: TestClient, hearing_id: int) -> list[dict[str, Any]]:
    r = await client.get(f"/api/hearings/{hearing_id}/gaps", headers=auth(CLERK))
    assert r.status == 200, await r.text()
    return list((await r.json())["gaps"])


async def test_a_hearing_records_its_room_from_opening_to_close(client: TestClient,
                                                                clip: Clip) -> None:
    feed = feed_of(client, clip)
    hid = await opened(client)
    rec_service = client.app[RECORDER]
    assert set(rec_service.active_for(ROOM, f"hearing:{hid}")) == {"main"}
    feed.push(2)
    await move(client, CLERK, hid, "recess")
    await move(client, CLERK, hid, "resumed")
    feed.push(2)
    await move(client, CLERK, hid, "closed")
    assert rec_service.active_for(ROOM, f"hearing:{hid}") == {}
    # The presiding judge sees the hearing's recording (they sit on its bench) ...
    items = await recordings_of(client, hid, JUDGE)
    assert len(items) == 1 and items[0]["state"] == "closed" and items[0]["segments"] >= 3
    r = await client.get(f"/api/recordings/{items[0]['id']}", headers=auth(JUDGE))
    kinds = [m["kind"] for m in (await r.json())["markers"]]
    assert kinds == ["opened", "recess", "resumed", "closed"]
    # ... a judge of the same court who is not on it does not.
    assert await recordings_of(client, hid, SESSION_TOKENS["judge.daoli2"]) == []
    assert await gaps_of(client, hid) == []
    feed.close()


async def test_an_unrecorded_hearing_cannot_close_until_the_gap_is_explained(
        client: TestClient) -> None:
    hid = await opened(client)  # no feed of the room is live
    gaps = await gaps_of(client, hid)
    assert len(gaps) == 1 and "no feed" in gaps[0]["cause"] and gaps[0]["feed"] is None
    r = await client.post(f"/api/hearings/{hid}/transitions", json={"to": "closed"},
                          headers=auth(CLERK))
    assert r.status == 409 and (await r.json())["detail"]["unexplained_gaps"] == [gaps[0]["id"]]
    r = await client.post(f"/api/hearings/{hid}/gaps/{gaps[0]['id']}/explanation",
                          json={"explanation": "庭审主机故障，本次庭审以书面笔录为准"},
                          headers=auth(JUDGE))
    assert r.status in (200, 201), await r.text()
    await move(client, CLERK, hid, "closed")


async def test_a_lost_feed_is_a_gap_that_closes_when_it_returns(client: TestClient,
                                                                clip: Clip,
                                                                services: Core) -> None:
    feed = feed_of(client, clip)
    hid = await opened(client)
    feed.push(2)
    events = services.bus.subscribe(4096)
    path = f"rooms/{ROOM}/main"
    feed.close()  # the courtroom encoder goes away
    # Clients see an event after its handlers ran: the gap is written by then.
    await events.next("stream.down", within=5, where=lambda e: e.data["path"] == path)
    gaps = await gaps_of(client, hid)
    assert len(gaps) == 1 and gaps[0]["feed"] == "main" and gaps[0]["ended_at"] is None
    back = feed_of(client, clip)  # it comes back
    await events.next("stream.up", within=5, where=lambda e: e.data["path"] == path)
    # A recording broken by the loss may report its failure (a gap of its own) after the
    # feed is back: each event on the bus is a chance to look again, never a fixed wait.
    for _ in range(200):
        gaps = await gaps_of(client, hid)
        if all(g["ended_at"] is not None for g in gaps):
            break
        await events.get(within=5)
    assert gaps and all(g["feed"] == "main" and g["ended_at"] is not None for g in gaps)
    assert set(client.app[RECORDER].active_for(ROOM, f"hearing:{hid}")) == {"main"}
    events.close()
    back.close()


async def test_a_failed_recording_is_a_gap_and_recording_resumes(
        client: TestClient, clip: Clip, services: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """`recording.failed` reaches the hearing recorder through the bus: a gap of the hearing,
    closed again as the stream is still live and is recorded anew."""
    feed = feed_of(client, clip)
    hid = await opened(client)
    original, failures = SegmentFile.write, [OSError(errno.ENOSPC, "No space left on device")]

    def full_once(self: SegmentFile, chunk: bytes) -> None:
        if failures:
            raise failures.pop()
        original(self, chunk)

    sub = services.bus.subscribe()
    monkeypatch.setattr(SegmentFile, "write", full_once)
    feed.push(3)
    failed = await sub.next("recording.failed", within=10)  # offered after its handlers ran
    assert failed.data["hearing"] == f"hearing:{hid}" and failed.data["feed"] == "main"
    await services.bus.drain()
    gaps = await gaps_of(client, hid)
    assert len(gaps) == 1 and gaps[0]["cause"].startswith("recording failed:")
    assert gaps[0]["feed"] == "main" and gaps[0]["ended_at"] is not None
    assert set(client.app[RECORDER].active_for(ROOM, f"hearing:{hid}")) == {"main"}
    sub.close()
    feed.close()


async def test_a_hearings_recordings_carry_its_case_type_for_retention(
        client: TestClient, clip: Clip, services: Core) -> None:
    feed = FastFeed(client.app[LIVE].streams, f"rooms/{ROOM}/main", clip)
    feed.push(1)
    hid = await opened(client)
    with services.db.session() as s:
        classes = set(s.scalars(select(Recording.retention_class)
                                .where(Recording.hearing_ref == f"hearing:{hid}")))
    assert classes == {"civil"}  # 民初: a civil first instance
    feed.close()


async def test_recording_access_checks_ask_the_database_off_the_loop(
        client: TestClient, clip: Clip, services: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """The judge's bench is looked up through the database's executor and cached, never by a
    session opened on the event loop's thread."""
    feed = feed_of(client, clip)
    hid = await opened(client)
    on_loop: list[str] = []
    session = services.db.session

    def watched() -> Any:
        if threading.current_thread() is threading.main_thread():
            on_loop.append("session opened on the event loop")
        return session()

    monkeypatch.setattr(services.db, "session", watched)
    bench = client.app[BENCH]
    before = bench.queries
    items = await recordings_of(client, hid, JUDGE)
    assert items
    for _ in range(3):
        r = await client.get(f"/api/recordings/{items[0]['id']}", headers=auth(JUDGE))
        assert r.status == 200
    assert on_loop == []
    assert bench.queries - before == 2  # the judge's hearings, then the bench: cached after
    feed.close()
