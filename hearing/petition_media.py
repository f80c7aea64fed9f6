"""Media of petition sessions: who may publish and view `petitions/<id>/<side>`, and recording.

The petitioner publishes `petitions/<id>/petitioner` and views `petitions/<id>/reception`; the
receiving officer does the opposite. A ticket grants only its own session, and only while it
is in session. Staff who may receive petitions of the court may view both sides (supervision);
only the receiving officer speaks for the court.

Each side is recorded from the moment its stream first comes up until the session ends, with
`petition:<id>` as the recording's reference, filed under the court's reception `<court>-PET`
(not a courtroom; see `PetitionDesk.reception_room`) with the side as the feed name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
from typing import Final

from aiohttp import web
from sqlalchemy import select

from control.bus import Event
from control.errors import ApiError
from control.http import principal
from control.live import LiveMedia
from control.policy import Target
from hearing.petitions import (
    PETITIONER,
    RECEPTION,
    SIDES,
    SYSTEM,
    LiveSession,
    PetitionDesk,
    petition_ref,
    stream_path,
    ticket_digest,
)
from recorder.models import Recording
from recorder.service import RecorderConflict, RecorderService

log = logging.getLogger(__name__)

PATH: Final = re.compile(r"^petitions/(\d{1,12})/(petitioner|reception)$")
TICKET_COOKIE: Final = "petition"
TICKET_HEADER: Final = "X-Petition-Ticket"


def presented_ticket(request: web.Request) -> str:
    """The ticket from the `X-Petition-Ticket` header, else the `petition` cookie, else ''."""
    return request.headers.get(TICKET_HEADER, "").strip() or request.cookies.get(TICKET_COOKIE, "")


class PetitionMedia:
    """The `petitions` authorizer of the live media, and the recorder of petition sessions."""

    def __init__(self, desk: PetitionDesk, live: LiveMedia, recorder: RecorderService) -> None:
        self.desk, self.live, self.recorder = desk, live, recorder
        live.serve_paths("petitions", self.authorize)
        desk.services.bus.on("stream.up", self.on_stream)
        desk.services.bus.on("petition.ended", self.on_ended)

    # ---- who may publish and view ----

    async def authorize(self, request: web.Request, action: str, path: str) -> str:
        m = PATH.match(path)
        session = self.desk.sessions.get(int(m.group(1))) if m else None
        if m is None or session is None:
            raise ApiError(404, "unknown stream path", {"path": path[:80]})
        side, publishing = m.group(2), action == "publish"
        ticket = presented_ticket(request)
        if ticket and hmac.compare_digest(ticket_digest(ticket), session.ticket_hash):
            if publishing != (side == PETITIONER):
                raise ApiError(403, "forbidden", {"path": path})
            return f"petitioner:{session.id}"
        who = await principal(request)
        policy = self.desk.services.policy
        if who.is_anonymous or not policy.can(who, "petition.receive",
                                              Target(kind="court", court=session.court)):
            raise ApiError(404, "unknown stream path", {"path": path[:80]})
        if publishing and (side == PETITIONER or who.username != session.receiver):
            raise ApiError(403, "only the receiving officer speaks for the court",
                           {"path": path})
        return who.username

    # ---- recording ----

    async def on_stream(self, event: Event) -> None:
        """`stream.up` of a petition side: record it."""
        path = str(event.data.get("path", ""))
        m = PATH.match(path)
        session = self.desk.sessions.get(int(m.group(1))) if m else None
        if m is not None and session is not None:
            await self._record(session, m.group(2), path)

    async def _record(self, session: LiveSession, side: str, path: str) -> None:
        """Record a side once; a publisher that comes back continues the same recording."""
        room = self.desk.reception_room(session.court)
        if room is None or session.id not in self.desk.sessions:
            return
        try:
            rec = await self.recorder.start_recording(room, side, SYSTEM,
                                                      petition_ref(session.id), path=path)
        except RecorderConflict as exc:
            if "already" not in str(exc):
                log.warning("petition side not recorded", extra={
                    "petition": session.id, "side": side, "reason": str(exc)})
            return
        who = session.receiver if side == RECEPTION else f"petitioner:{session.id}"
        await self.recorder.add_marker(rec, "opened", f"petition {session.id}: {side} "
                                       f"joined ({who})", rec.started_at, SYSTEM.username)

    async def on_ended(self, event: Event) -> None:
        """`petition.ended`: mark and stop the session's recordings, then hang up both sides."""
        pid, by = int(event.data["petition"]), str(event.data.get("by", ""))
        room = self.desk.reception_room(event.target.court or "")
        if room is not None:
            active = self.recorder.active_for(room.code, petition_ref(pid))
            ids = list(active.values())
            recs = await self.desk.services.db.run(lambda s: list(
                s.scalars(select(Recording).where(Recording.id.in_(ids)))))
            text = f"ended by {by}: {event.data.get('outcome', '')}"[:500]
            for rec in recs:
                await self.recorder.add_marker(rec, "closed", text, event.at, by)
            for side in active:
                with contextlib.suppress(RecorderConflict):
                    await self.recorder.stop_recording(room, side, SYSTEM,
                                                       path=stream_path(pid, side))
        prefix = f"petitions/{pid}/"
        sessions = [s for s in self.live.server.sessions.values() if s.path.startswith(prefix)]
        await asyncio.gather(*(s.close("petition session ended") for s in sessions),
                             return_exceptions=True)


__all__ = ["SIDES", "TICKET_COOKIE", "TICKET_HEADER", "PetitionMedia", "presented_ticket"]
