"""Mounts what the hearing package offers people without an account: petitions, disclosure.

The petition desk, its WHIP/WHEP authorizer and recorder glue, and the broadcast list that
tells the live media which rooms the public may view; each started and stopped with the app.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from control.core import CORE
from control.live import LIVE
from control.media_paths import room_of_path
from hearing.disclosure import BROADCASTS, Broadcasts
from hearing.petition_media import PetitionMedia
from hearing.petitions import PETITIONS, PetitionDesk
from hearing.service import HearingService
from recorder.service import RECORDER


def mount(app: web.Application, hearings: HearingService) -> None:
    """Call from `hearing.routes.add_routes`, after the live media and recorder are set."""
    services = app[CORE]
    desk = app[PETITIONS] = PetitionDesk(services)
    broadcasts = app[BROADCASTS] = Broadcasts(services)
    hearings.case_listeners.append(broadcasts.on_case_changed)
    media: PetitionMedia | None = None
    if LIVE in app:
        live = app[LIVE]
        live.disclosed = broadcasts.disclosed

        async def hang_up_public(room: str) -> None:
            doomed = [s for s in live.server.sessions.values()
                      if room_of_path(s.path) == room and s.role == "read"
                      and s.subject == "public"]
            await asyncio.gather(*(s.close("the broadcast ended") for s in doomed),
                                 return_exceptions=True)

        broadcasts.kick.append(hang_up_public)
        if RECORDER in app:
            media = PetitionMedia(desk, live, app[RECORDER])
            media.attach()

    async def run(app: web.Application) -> AsyncIterator[None]:
        await desk.start()
        await broadcasts.start()
        yield
        await desk.stop()
        await broadcasts.stop()
        if media is not None:
            await media.stop()

    app.cleanup_ctx.append(run)
