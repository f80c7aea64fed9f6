"""A petition session with real media: aiortc peers on both sides, recorded, hung up at the end."""

from __future__ import annotations

import asyncio
from typing import Any

import av
from aiohttp.test_utils import TestClient
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from sqlalchemy import select

from control.live import LIVE
from recorder.models import Marker, Recording
from recorder.service import RECORDER
from tests.conftest import auth
from tests.hearing import petitioning
from tests.hearing.conftest import SESSION_TOKENS
from tests.hearing.petitioning import (
    AppMaker,
    sign_up,
    ticket_headers,
)
from tests.media.peers import SyntheticVideo, ToneAudio, new_peer, prefer, wait_until

make_client = petitioning.make_client  # the fixture, used by this module's tests

JUDGE = SESSION_TOKENS["judge.daoli"]


class Side:
    """One end of the call: publishes its camera by WHIP and views the other end by WHEP."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers
        self.out: RTCPeerConnection = new_peer()
        self.into: RTCPeerConnection = new_peer()
        self.frames = 0
        self.tasks: list[asyncio.Task[None]] = []
        self.into.on("track", lambda t: self.tasks.append(asyncio.ensure_future(self._eat(t))))

    async def _eat(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                if isinstance(await track.recv(), av.VideoFrame):
                    self.frames += 1
        except Exception:
            return

    async def _exchange(self, pc: RTCPeerConnection, url: str) -> int:
        await pc.setLocalDescription(await pc.createOffer())
        r = await self.client.post(url, data=pc.localDescription.sdp,
                                   headers={"Content-Type": "application/sdp", **self.headers})
        if r.status == 201:
            await pc.setRemoteDescription(RTCSessionDescription(await r.text(), "answer"))
        return r.status

    async def publish(self, path: str) -> int:
        self.out.addTransceiver(SyntheticVideo(), direction="sendonly")
        prefer(self.out, "video", "H264")
        self.out.addTransceiver(ToneAudio(), direction="sendonly")
        return await self._exchange(self.out, f"/whip/{path}")

    async def view(self, path: str) -> int:
        self.into.addTransceiver("video", direction="recvonly")
        self.into.addTransceiver("audio", direction="recvonly")
        return await self._exchange(self.into, f"/whep/{path}")

    async def close(self) -> None:
        await self.out.close()
        await self.into.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def test_a_recorded_two_way_session(make_client: AppMaker) -> None:
    client = await make_client(petition_signups_per_address=100)
    client.app[RECORDER].segment_s = 1.0
    events = client.app[LIVE].services.bus.subscribe()
    mine = await sign_up(client)
    pid = mine["id"]
    r = await client.post("/api/petitions/next", json={"court": "HL0102"}, headers=auth(JUDGE))
    assert r.status == 201
    petitioner, court = Side(client, ticket_headers(mine["ticket"])), Side(client, auth(JUDGE))
    try:
        assert await petitioner.publish(f"petitions/{pid}/petitioner") == 201
        assert await court.publish(f"petitions/{pid}/reception") == 201
        streams = client.app[LIVE].streams
        assert await wait_until(lambda: all(
            (s := streams.get(f"petitions/{pid}/{side}")) is not None and s.is_live
            for side in ("petitioner", "reception")), 10)
        assert await petitioner.view(f"petitions/{pid}/reception") == 201
        assert await court.view(f"petitions/{pid}/petitioner") == 201
        assert await wait_until(lambda: petitioner.frames >= 10 and court.frames >= 10, 15)
        recorder = client.app[RECORDER]
        assert await wait_until(
            lambda: set(recorder.active_for("HL0102-PET", f"petition:{pid}")) ==
            {"petitioner", "reception"}, 10)
        # A courtroom's status is not touched by the reception's recordings.
        assert client.app[LIVE].services.monitor.get("HL0102-01").status == "idle"
        indexed: set[str] = set()  # a segment of each side is in the index
        while indexed != {"petitioner", "reception"}:
            indexed.add((await events.next("recording.segment", within=10)).data["feed"])
        r = await client.post(f"/api/petitions/{pid}/end", json={"outcome": "已释明，建议诉前调解"},
                              headers=auth(JUDGE))
        assert r.status == 200
        assert await wait_until(lambda: not client.app[LIVE].server.sessions, 10)
        assert await wait_until(
            lambda: not recorder.active_for("HL0102-PET", f"petition:{pid}"), 10)
    finally:
        await petitioner.close()
        await court.close()
    with client.app[LIVE].services.db.session() as s:
        recs = s.scalars(select(Recording).where(Recording.hearing_ref == f"petition:{pid}")
                         .order_by(Recording.feed)).all()
        markers: dict[str, Any] = {rec.feed: [m.kind for m in s.scalars(
            select(Marker).where(Marker.recording_id == rec.id).order_by(Marker.at, Marker.id))]
            for rec in recs}
        assert [(r.feed, r.state, r.court) for r in recs] == [
            ("petitioner", "closed", "HL0102"), ("reception", "closed", "HL0102")]
        assert all(r.segment_count >= 1 for r in recs), [r.segment_count for r in recs]
        assert all(r.stream_path.startswith(f"petitions/{pid}/") for r in recs)
    assert markers == {"petitioner": ["opened", "closed"], "reception": ["opened", "closed"]}
    # The reception's clerk finds them with the court's recordings.
    r = await client.get(f"/api/recordings?hearing=petition:{pid}",
                         headers=auth(SESSION_TOKENS["clerk.daoli"]))
    assert r.status == 200 and (await r.json())["total"] == 2
    # The judge who received the petitioner plays it back; another judge of the court does not.
    r = await client.get(f"/api/recordings?hearing=petition:{pid}", headers=auth(JUDGE))
    items = (await r.json())["items"]
    assert len(items) == 2
    r = await client.get(items[0]["playlist"], headers=auth(JUDGE))
    assert r.status == 200 and "#EXTM3U" in await r.text()
    other = auth(SESSION_TOKENS["judge.daoli2"])
    r = await client.get(f"/api/recordings?hearing=petition:{pid}", headers=other)
    assert (await r.json())["total"] == 0
    assert (await client.get(items[0]["playlist"], headers=other)).status == 404
