"""Remote arraignment: a courtroom and a remote site (detention centre, prison) in one hearing.

While the hearing is live, and from `EARLY` before its start so the link can be tested, the
site named by the hearing publishes by WHIP on `sites/<site>/<hearing>` and watches the
courtroom's main feed by WHEP, proving itself with its credential. Court staff who may view the
room may view the site. The site's stream is recorded as the feed `remote` of the hearing.

If the site is lost while the hearing is in session, the hearing goes into recess at once (by
`SYSTEM`, with an alert marker); when the site is back the hearing resumes, but only from a
recess taken that way: a recess the court called ends when the court says so. When the hearing
ends the site's sessions are closed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Final

from aiohttp import web
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from control.bus import Event
from control.core import Core
from control.db import utcnow
from control.errors import ApiError
from control.http import require, require_user
from control.iso8601 import iso
from control.live import LiveMedia
from control.media_paths import room_of_path
from control.policy import Principal, Target
from control.registry import RoomInfo
from hearing.access import hearing_target
from hearing.consultation import Consultations
from hearing.errors import HearingError
from hearing.lifecycle import (
    CANCELLED,
    ENDING,
    LIVE,
    OPENED,
    RECESS,
    RESUMED,
    SCHEDULED,
    Lifecycle,
    Transition,
)
from hearing.models import Hearing, HearingEvent
from hearing.sites import SITE_FEED, SITE_PATH, site_of_request, site_path
from recorder.service import RecorderService

log = logging.getLogger(__name__)

EARLY: Final = timedelta(minutes=30)
SYSTEM: Final = Principal("remote-arraignment", "admin")
SITE_LOST: Final = "remote site lost"
SITE_BACK: Final = "remote site reconnected"


def site_may_connect(h: Hearing, now: datetime) -> bool:
    """The site's window: the hearing is live, or scheduled and starting within `EARLY`."""
    if h.state in LIVE:
        return True
    return h.state == SCHEDULED and h.starts_at - EARLY <= now < h.ends_at


def auto_recess(session: Session, hearing_id: int) -> bool:
    """Whether the hearing's current recess was taken because the site was lost."""
    last = session.scalar(
        select(HearingEvent).where(HearingEvent.hearing_id == hearing_id,
                                   HearingEvent.kind == "transition")
        .order_by(HearingEvent.id.desc()).limit(1))
    return last is not None and last.to_state == RECESS and last.actor == SYSTEM.username


class Arraignment:
    """Stream access of remote sites, the recording of their feed, automatic recess."""

    def __init__(self, services: Core, lifecycle: Lifecycle, recorder: RecorderService,
                 live: LiveMedia) -> None:
        self.services, self.lifecycle, self.recorder = services, lifecycle, recorder
        self.streams, self.server = live.streams, live.server
        self.consultations = Consultations(services, live.server)
        live.serve_paths("sites", self.authorize_site_stream)
        live.serve_paths("consult", self.consultations.authorize)
        live.admit_guests(self.site_views_room)
        self._lock = asyncio.Lock()  # site events are followed one at a time, in order
        self._stopped = False
        services.bus.on("stream.up", self.on_stream)
        services.bus.on("stream.down", self.on_stream)
        for kind in ("hearing.closed", "hearing.adjourned", "hearing.cancelled"):
            services.bus.on(kind, self.on_transition)

    async def stop(self) -> None:
        self._stopped = True  # sites dropped because this node stops are no sites lost

    # ---- who may publish and view ----

    async def authorize_site_stream(self, request: web.Request, action: str, path: str) -> str:
        """`sites/<site>/<hearing>`: the site publishes in its window; staff of the room view."""
        m = SITE_PATH.match(path)
        if m is None:
            raise ApiError(404, "unknown stream path", {"path": path[:80]})
        code, hearing_id = m.group(1), int(m.group(2))
        site = await site_of_request(self.services, request)
        if site is None:
            await require_user(request)  # the anonymous learn nothing of hearings and sites
        h = await self.services.db.run(lambda s: s.get(Hearing, hearing_id))
        if h is None or h.remote_site != code:
            raise ApiError(404, "unknown stream path", {"path": path[:80]})
        if site is not None:
            if site.code != code:
                raise ApiError(403, "this is another site's stream")
            if request.method == "DELETE":  # ending its own session is always allowed
                return f"site:{code}"
            if action != "publish":
                raise ApiError(403, "a site publishes its stream and views the courtroom")
            if not site_may_connect(h, utcnow()):
                raise ApiError(403, "the hearing is not open to the remote site now",
                               {"state": h.state, "starts_at": iso(h.starts_at)})
            return f"site:{code}"
        room = self.services.registry.rooms.get(h.room_code)
        if action == "publish" or room is None:
            # Only the site itself publishes its stream, whoever else asks.
            await require(request, "room.publish", Target(kind="feed", private=True))
            raise ApiError(403, "forbidden")
        who = await require(request, "room.view", Target(
            kind="feed", court=room.court, room=room.code, feed=SITE_FEED), hide=True)
        return who.username

    async def site_views_room(self, request: web.Request, room: RoomInfo,
                              feed: str) -> str | None:
        """A site may watch the courtroom's main feed during its hearing there."""
        site = await site_of_request(self.services, request)
        if site is None or feed != room.feeds[0]:
            return None
        if request.method == "DELETE":  # ending its own session (the server checks whose)
            return f"site:{site.code}"
        now = utcnow()

        def linked(session: Session) -> bool:
            rows = session.scalars(select(Hearing).where(
                Hearing.room_code == room.code, Hearing.remote_site == site.code,
                or_(Hearing.state.in_(LIVE),
                    (Hearing.state == SCHEDULED) & (Hearing.starts_at <= now + EARLY))))
            return any(site_may_connect(h, now) for h in rows)

        return f"site:{site.code}" if await self.services.db.run(linked) else None

    # ---- the site comes and goes ----

    async def on_stream(self, event: Event) -> None:
        """`stream.up` / `stream.down` of a site's stream: the hearing follows its site."""
        m = SITE_PATH.match(str(event.data.get("path", "")))
        if m is not None and not self._stopped:
            await self._follow(m.group(1), int(m.group(2)), event.kind == "stream.up")

    async def _follow(self, code: str, hearing_id: int, up: bool) -> None:
        """Recess when the site is lost in session; resume from a recess taken that way."""
        async with self._lock:
            stream = self.streams.get(site_path(code, hearing_id))
            if (stream is not None and stream.is_live) != up:
                return  # it changed again meanwhile; the later event decides

            def load(session: Session) -> tuple[Hearing, bool] | None:
                h = session.get(Hearing, hearing_id, options=[selectinload(Hearing.seats)])
                if h is None or h.remote_site != code:
                    return None
                return h, auto_recess(session, hearing_id)

            found = await self.services.db.run(load)
            if found is None:
                return
            h, auto = found
            self._publish(h, "arraignment.site_" + ("connected" if up else "lost"))
            try:
                if not up and h.state in (OPENED, RESUMED):
                    await self.recorder.mark_room(h.room_code, "alert", f"{SITE_LOST}: {code}",
                                              utcnow(), SYSTEM.username)
                    await self.lifecycle.transition(SYSTEM, hearing_id, RECESS, SITE_LOST)
                elif up and h.state == RECESS and auto:
                    await self.recorder.mark_room(h.room_code, "bookmark", f"{SITE_BACK}: {code}",
                                              utcnow(), SYSTEM.username)
                    await self.lifecycle.transition(SYSTEM, hearing_id, RESUMED, SITE_BACK)
            except HearingError as exc:  # the court moved the hearing meanwhile
                log.info("automatic transition not taken",
                         extra={"hearing": hearing_id, "reason": exc.message})

    def _publish(self, h: Hearing, kind: str) -> None:
        self.services.bus.post(Event(
            kind=kind, target=hearing_target(h), action="hearing.view",
            data={"hearing": h.id, "site": h.remote_site, "state": h.state}))

    async def on_transition(self, event: Event) -> None:
        """`hearing.closed` / `.adjourned` / `.cancelled`: the site's link to the courtroom
        ends with the hearing, both ways."""
        moved = Transition.of(event)
        if moved.state in (*ENDING, CANCELLED):
            await self._let_go(moved.hearing, moved.room)

    async def _let_go(self, hearing_id: int, room: str) -> None:
        code = await self.services.db.run(
            lambda s: s.scalar(select(Hearing.remote_site).where(Hearing.id == hearing_id)))
        if code is None:
            return
        for session in list(self.server.sessions.values()):
            m = SITE_PATH.match(session.path)
            if (m is not None and int(m.group(2)) == hearing_id) or (
                    session.subject == f"site:{code}"
                    and room_of_path(session.path) == room):
                await session.close("the hearing ended")

    async def cut_site(self, code: str) -> None:
        """Close every session of a site (disabled, or its credential replaced)."""
        for session in list(self.server.sessions.values()):
            if session.subject == f"site:{code}":
                await session.close("the site's credential was withdrawn")



ARRAIGNMENT = web.AppKey("arraignment", Arraignment)
