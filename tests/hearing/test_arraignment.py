"""Remote arraignment end to end: an aiortc "remote site" publishes to the hearing by WHIP and
watches the courtroom by WHEP; both feeds are recorded; the site drops (automatic recess) and
comes back (resumed); a recess the court called is not ended by the site; at the close both
recordings carry the markers. The app exactly as create_app builds it, the real recorder."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.app import create_app
from control.config import Settings
from control.core import CORE, Core
from control.live import LIVE
from media.sources import Clip, PatternSpec, render_clip
from recorder.models import Recording
from recorder.service import RECORDER
from tests.conftest import auth
from tests.hearing.conftest import move
from tests.hearing.remote import (
    CLERK,
    JUDGE,
    ROOM,
    book_now,
    criminal_case,
    new_site,
)
from tests.media.peers import WhepViewer, WhipPublisher, wait_until
from tests.recorder.conftest import FastFeed


@pytest.fixture(scope="module")
def clip() -> Clip:
    return render_clip(PatternSpec("Arraignment", gop_s=1, duration_s=2))


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings, services: Core) -> TestClient:
    app = create_app(settings, services)
    app[RECORDER].segment_s = 1.0
    client = await aiohttp_client(app)
    server = app[LIVE].server  # a site that vanishes without a word is noticed within 2 s
    server.settings = replace(server.settings, publisher_timeout_s=2.0)
    return client


async def hearing_state(client: TestClient, hid: int) -> str:
    r = await client.get(f"/api/hearings/{hid}", headers=auth(CLERK))
    return str((await r.json())["state"])


async def until_state(client: TestClient, hid: int, state: str, timeout: float = 15) -> None:
    events = client.app[CORE].bus.subscribe()
    try:
        if await hearing_state(client, hid) != state:
            await events.next(f"hearing.{state}", within=timeout,
                              where=lambda e: e.data["hearing"] == hid)
    finally:
        events.close()


async def site_publishes(client: TestClient, hid: int, credential: str) -> WhipPublisher:
    return await WhipPublisher(client, f"sites/HL-KSS01/{hid}", token=credential).start()


async def test_a_remote_site_drops_and_reconnects_during_an_arraignment(
        client: TestClient, clip: Clip) -> None:
    courtroom = FastFeed(client.app[LIVE].streams, f"rooms/{ROOM}/main", clip)
    courtroom.push(2)
    _, credential = await new_site(client)
    case_id, defendant, _ = await criminal_case(client)
    hid = (await book_now(client, case_id, "HL-KSS01"))["id"]  # starts in 6 minutes
    ref = f"hearing:{hid}"

    # Before the opening the site connects: it publishes, and watches the courtroom.
    site = await site_publishes(client, hid, credential)
    site_watches = await WhepViewer(client, f"rooms/{ROOM}/main", token=credential).start()
    courtroom.push(2)
    await site_watches.wait_video(1, timeout=10)
    clerk_watches = await WhepViewer(client, f"sites/HL-KSS01/{hid}", token=CLERK).start()
    await clerk_watches.wait_video(5, timeout=10)
    await clerk_watches.close()

    await move(client, CLERK, hid, "opened")
    recorder = client.app[RECORDER]
    assert set(recorder.active_for(ROOM, ref)) == {"main", "remote"}
    r = await client.post(f"/api/hearings/{hid}/identity", json={"party_id": defendant},
                          headers=auth(CLERK))
    assert r.status == 201 and (await r.json())["marked_recordings"] == 2
    courtroom.push(2)

    # The site drops: automatic recess with a marker. It comes back: resumed.
    await site.close()
    await until_state(client, hid, "recess")
    courtroom.push(2)
    site = await site_publishes(client, hid, credential)
    await until_state(client, hid, "resumed")
    courtroom.push(2)
    r = await client.get(f"/api/hearings/{hid}/events", headers=auth(CLERK))
    moves = [(e["to"], e["actor"], e["detail"].get("reason")) for e in (await r.json())["events"]
             if e["kind"] == "transition"]
    assert moves[1:] == [("recess", "remote-arraignment", "remote site lost"),
                         ("resumed", "remote-arraignment", "remote site reconnected")]

    # A recess the court calls is the court's to end: the site coming back does not end it.
    await move(client, CLERK, hid, "recess", reason="合议")
    await site.close()
    await wait_until(lambda: not any(s.path.startswith("sites/")
                                     for s in client.app[LIVE].server.sessions.values()), 10)
    events = client.app[CORE].bus.subscribe()
    site = await site_publishes(client, hid, credential)
    # Told once the reconnect was weighed against the hearing's state: no resumption followed.
    await events.next("arraignment.site_connected", within=10,
                      where=lambda e: e.data["hearing"] == hid)
    events.close()
    assert await hearing_state(client, hid) == "recess"
    await move(client, CLERK, hid, "resumed")
    courtroom.push(2)

    # The site's outage is a gap of its feed: the presiding judge explains it, then it closes.
    r = await client.get(f"/api/hearings/{hid}/gaps", headers=auth(CLERK))
    gaps = (await r.json())["gaps"]
    assert gaps and {g["feed"] for g in gaps} == {"remote"}
    assert all(g["ended_at"] is not None for g in gaps)
    for gap in gaps:
        r = await client.post(f"/api/hearings/{hid}/gaps/{gap['id']}/explanation",
                              json={"explanation": "看守所网络中断，庭审自动休庭"},
                              headers=auth(JUDGE))
        assert r.status == 201, await r.text()
    await move(client, CLERK, hid, "closed")
    assert recorder.active_for(ROOM, ref) == {}
    # The link ends with the hearing: the server closes the site's sessions, both ways.
    assert await wait_until(lambda: not any(
        s.subject == "site:HL-KSS01" for s in client.app[LIVE].server.sessions.values()), 5)

    r = await client.get(f"/api/recordings?hearing={ref}", headers=auth(JUDGE))
    items = (await r.json())["items"]
    assert sorted(i["feed"] for i in items) == ["main", "remote"]
    assert all(i["state"] == "closed" for i in items)
    for item in items:
        r = await client.get(f"/api/recordings/{item['id']}", headers=auth(JUDGE))
        rec = await r.json()
        markers = [(m["kind"], m["text"]) for m in rec["markers"] if m["kind"] != "gap"]
        kinds = [k for k, _ in markers]
        assert kinds[0] == "opened" and kinds[-1] == "closed", markers
        assert ("bookmark", f"identity confirmed: 张三 (party {defendant})") in markers
        assert ("alert", "remote site lost: HL-KSS01") in markers
        assert ("bookmark", "remote site reconnected: HL-KSS01") in markers
        assert kinds.count("recess") == 2 and kinds.count("resumed") == 2
        assert item["segments"] >= 1
    with client.app[CORE].db.session() as s:
        paths = {r.feed: r.stream_path for r in s.scalars(
            select(Recording).where(Recording.hearing_ref == ref))}
    assert paths == {"main": f"rooms/{ROOM}/main", "remote": f"sites/HL-KSS01/{hid}"}
    await site.close()
    await site_watches.close()
    courtroom.publisher.close()
