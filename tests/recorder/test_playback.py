"""HLS playback: playlists for any range, segments with HTTP ranges, bad input as 4xx JSON."""

from __future__ import annotations

import itertools

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.core import CORE
from control.iso8601 import iso, parse_iso
from control.models import AuditEvent
from media.sources import Clip
from tests.conftest import auth
from tests.recorder.conftest import ROOM, FastFeed, streams_of
from tests.recorder.test_routes import make_recording


@pytest.fixture
async def recorded(rclient: TestClient, tokens: dict[str, str], clip: Clip) -> dict:
    """A closed 7-segment recording (1 s replayed GOP + 6 s) in Daoli."""
    return await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=6)


def entries(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


async def test_full_playlist(rclient: TestClient, tokens: dict[str, str], recorded: dict) -> None:
    r = await rclient.get(f"/api/recordings/{recorded['id']}/playlist.m3u8",
                          headers=auth(tokens["pres.harbin"]))
    assert r.status == 200 and r.content_type == "application/vnd.apple.mpegurl"
    text = await r.text()
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U" and lines[-1] == "#EXT-X-ENDLIST"
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines and "#EXT-X-TARGETDURATION:1" in lines
    assert lines.count('#EXT-X-MAP:URI="segments/init-000001.mp4"') == 1
    assert entries(text) == [f"segments/{i:06d}.m4s" for i in range(1, 8)]
    stamps = [parse_iso(x.split(":", 1)[1]) for x in lines
              if x.startswith("#EXT-X-PROGRAM-DATE-TIME:")]
    assert len(stamps) == 7
    started = parse_iso(recorded["started_at"])
    assert 0 <= (stamps[0] - started).total_seconds() < 0.1
    assert all((b - a).total_seconds() == pytest.approx(1.0)
               for a, b in itertools.pairwise(stamps))
    svc = rclient.app[CORE]
    with svc.db.session() as s:
        plays = s.scalars(select(AuditEvent).where(AuditEvent.action == "recording.play")).all()
    assert [(p.actor, p.detail["segments"]) for p in plays] == [("pres.harbin", 7)]


async def test_sub_range_by_offset_and_by_time(rclient: TestClient, tokens: dict[str, str],
                                               recorded: dict) -> None:
    url = f"/api/recordings/{recorded['id']}/playlist.m3u8"
    r = await rclient.get(f"{url}?from=2.5&to=4.5", headers=auth(tokens["admin"]))
    text = await r.text()
    assert entries(text) == ["segments/000003.m4s", "segments/000004.m4s", "segments/000005.m4s"]
    start_line = next(x for x in text.splitlines() if x.startswith("#EXT-X-START:"))
    offset = float(start_line.split("=", 1)[1].split(",")[0])
    assert offset == pytest.approx(0.5, abs=0.05) and start_line.endswith(",PRECISE=YES")
    start = parse_iso(recorded["started_at"])
    whole_second = iso(start.replace(microsecond=0))
    r = await rclient.get(f"{url}?from={whole_second}&to=1", headers=auth(tokens["admin"]))
    assert r.status == 200 and entries(await r.text())[0] == "segments/000001.m4s"
    r = await rclient.get(f"{url}?to=1000", headers=auth(tokens["admin"]))
    assert len(entries(await r.text())) == 7, "an end past the recording is clamped"


BAD_RANGES = [
    "from=5&to=2", "from=3&to=3", "from=abc", "to=ten", "from=nan", "from=inf", "from=-1",
    "from=1e300", "to=99999999999", "from=1000", "from=2001-01-01T00:00:00Z&to=2001-01-01T01:00Z",
    "from=2024-05-01T10:00:00", "from=" + "1" * 100, "to=0", "from=0x10", "from=1_0",
]
BAD_SEARCHES = [
    "from=yesterday", "to=2024-13-01T00:00:00Z", "from=2024-05-02T00:00Z&to=2024-05-01T00:00Z",
    "marker=party", "limit=0", "limit=100000", "offset=-1", "room=../x", "court=XX99",
    "q=" + "x" * 65, "from=9999-01-01T00:00:00Z",
]


async def test_bad_ranges_are_400_json(rclient: TestClient, tokens: dict[str, str],
                                       recorded: dict) -> None:
    for query in BAD_RANGES:
        r = await rclient.get(f"/api/recordings/{recorded['id']}/playlist.m3u8?{query}",
                              headers=auth(tokens["admin"]))
        assert r.status == 400, (query, await r.text())
        assert (await r.json())["error"]
    for query in BAD_SEARCHES:
        r = await rclient.get(f"/api/recordings?{query}", headers=auth(tokens["admin"]))
        assert r.status in (400, 404), query
        assert (await r.json())["error"]


async def test_segments_with_range_requests(rclient: TestClient, tokens: dict[str, str],
                                            recorded: dict) -> None:
    base = f"/api/recordings/{recorded['id']}/segments"
    h = auth(tokens["clerk.daoli"])
    r = await rclient.get(f"{base}/000002.m4s", headers=h)
    assert r.status == 200 and r.headers["Accept-Ranges"] == "bytes"
    assert r.content_type == "video/iso.segment"
    whole = await r.read()
    r = await rclient.get(f"{base}/000002.m4s", headers={**h, "Range": "bytes=100-299"})
    assert r.status == 206 and await r.read() == whole[100:300]
    assert r.headers["Content-Range"] == f"bytes 100-299/{len(whole)}"
    r = await rclient.get(f"{base}/000002.m4s", headers={**h, "Range": "bytes=-50"})
    assert r.status == 206 and await r.read() == whole[-50:]
    for bad in (f"bytes={len(whole)}-", "bytes=abc", "pages=1-2"):
        r = await rclient.get(f"{base}/000002.m4s", headers={**h, "Range": bad})
        assert r.status == 416, bad
        assert (await r.json())["error"]
    r = await rclient.get(f"{base}/init-000001.mp4", headers=h)
    assert r.status == 200 and r.content_type == "video/mp4"


TRICKS = [
    "..%2F..%2F..%2Fcourtav.db", "%2e%2e", "000001.m4s.part", "000099.m4s", "init-000002.mp4",
    "000001.m4s%00", ".m4s", "x.m4s", "000001.M4S", "%2Fetc%2Fpasswd", "..", "~root",
    "0000001.m4s/..", "00000000000000000001.m4s", "%00", "000001.m4s%2F..%2F..%2F..%2Fx",
]


async def test_segment_name_tricks_are_404(rclient: TestClient, tokens: dict[str, str],
                                           recorded: dict) -> None:
    for name in TRICKS:
        r = await rclient.get(f"/api/recordings/{recorded['id']}/segments/{name}",
                              headers=auth(tokens["admin"]))
        assert r.status in (400, 404), name
        assert r.content_type == "application/json", name


async def test_playlist_of_a_running_recording_is_an_event(
        rclient: TestClient, tokens: dict[str, str], clip: Clip) -> None:
    feed = FastFeed(streams_of(rclient), f"rooms/{ROOM}/main", clip)
    feed.push(2)
    clerk = auth(tokens["clerk.daoli"])
    events = rclient.app[CORE].bus.subscribe()
    r = await rclient.post(f"/api/courtrooms/{ROOM}/recording", json={"action": "start"},
                           headers=clerk)
    rec = await r.json()
    feed.push(4)
    # Published once the segment is indexed.
    await events.next("recording.segment", within=10, where=lambda e: e.data["sequence"] >= 4)
    r = await rclient.get(f"/api/recordings/{rec['id']}/playlist.m3u8", headers=clerk)
    text = await r.text()
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in text and "#EXT-X-ENDLIST" not in text
    assert r.headers["Cache-Control"] == "private, no-cache"
    await rclient.post(f"/api/courtrooms/{ROOM}/recording", json={"action": "stop"},
                       headers=clerk)
