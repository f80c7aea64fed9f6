"""The one application factory: builds the services and mounts every package's routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from control import api_auth, api_courts, api_events, live
from control.audit import AuditLog
from control.auth import Authenticator
from control.bus import EventBus
from control.catalog import RoomCatalog
from control.config import Settings
from control.db import Database
from control.errors import error_middleware
from control.http import SERVICES, Services
from control.monitoring import RoomMonitor
from control.policy import Policy
from control.province import load_province
from control.registry import CourtRegistry, sync_province
from webui import routes as webui_routes

log = logging.getLogger("courtav")

TOKEN_PURGE_S = 3600.0


def build_services(settings: Settings) -> Services:
    """Open the database, bring it in line with the province file and load the registry."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.recordings_dir.mkdir(parents=True, exist_ok=True)
    province = load_province(settings.province_file)
    db = Database(settings.database_url)
    db.create_schema()
    with db.session() as session:
        report = sync_province(session, province)
    if report.changed:
        log.info("province loaded", extra={"sync": vars(report)})
    with db.session() as session:
        registry = CourtRegistry.load(session)
    bus = EventBus()
    monitor = RoomMonitor(registry, bus)
    return Services(
        settings=settings,
        db=db,
        registry=registry,
        policy=Policy(registry),
        bus=bus,
        monitor=monitor,
        auth=Authenticator(db, settings.auth),
        audit=AuditLog(db),
        catalog=RoomCatalog(registry, monitor),
    )


async def _media(app: web.Application) -> AsyncIterator[None]:
    media = app[live.LIVE]
    await media.start()
    yield
    await media.stop()


async def _housekeeping(app: web.Application) -> AsyncIterator[None]:
    svc = app[SERVICES]

    async def purge() -> None:
        while True:
            removed = await svc.auth.purge_expired()
            if removed:
                log.info("expired tokens removed", extra={"count": removed})
            await asyncio.sleep(TOKEN_PURGE_S)

    task = asyncio.create_task(purge())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    svc.db.close()


def create_app(settings: Settings, services: Services | None = None) -> web.Application:
    """The courtav application; `services` may be passed in by tests that share them."""
    app = web.Application(
        middlewares=[error_middleware], client_max_size=settings.server.max_body_bytes
    )
    app[SERVICES] = services = services or build_services(settings)
    app[live.LIVE] = media = live.LiveMedia(services)
    app.add_routes(api_auth.routes)
    app.add_routes(api_courts.routes)
    app.add_routes(api_events.routes)
    app.add_routes(live.routes)
    app.add_routes(media.server.routes())
    webui_routes.add_routes(app)
    app.cleanup_ctx.append(_housekeeping)
    app.cleanup_ctx.append(_media)
    return app
