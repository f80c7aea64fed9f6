"""The one application factory: builds the services and mounts every package's routes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import fields, replace
from datetime import timedelta
from typing import Any

from aiohttp import web

from control import api_admin, api_auth, api_courts, api_events, api_users, live
from control.api_monitoring import add_monitoring
from control.api_walls import add_walls
from control.audit import AuditLog
from control.auth import Authenticator
from control.bus import EventBus
from control.catalog import RoomCatalog
from control.config import ConfigError, Settings
from control.core import CORE, Core
from control.db import Database
from control.errors import error_middleware
from control.metrics import MetricsAccess, http_middleware
from control.monitoring import RoomMonitor
from control.policy import Policy
from control.province import load_province
from control.registry import CourtRegistry, sync_province
from control.webhooks import WebhookSettings
from hearing import routes as hearing_routes
from hearing.arraignment import mount as mount_arraignment
from hearing.bench_directory import BENCH, BenchDirectory
from hearing.recording import HEARING_RECORDER, HearingRecorder
from hearing.redaction import RedactionRules
from hearing.schedule import upcoming_hearings
from media.probes import FEED_TYPES, ProbeThresholds
from recorder import routes as recorder_routes
from recorder.service import RECORDER, RecorderService
from webui import routes as webui_routes

log = logging.getLogger("courtav")

TOKEN_PURGE_S = 3600.0


def build_services(settings: Settings) -> Core:
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
    return Core(
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


async def _recorder(app: web.Application) -> AsyncIterator[None]:
    await app[RECORDER].start()
    hearings = app.get(HEARING_RECORDER)
    if hearings is not None:
        await hearings.start()
    yield
    if hearings is not None:
        await hearings.stop()
    await app[RECORDER].stop()


async def _housekeeping(app: web.Application) -> AsyncIterator[None]:
    svc = app[CORE]

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


def probe_thresholds_of(settings: Settings) -> dict[str, ProbeThresholds]:
    """The built-in thresholds per feed type with the config's `[probes.*]` applied."""
    out = dict(FEED_TYPES)
    for o in settings.probes:
        base = out.get(o.feed_type, ProbeThresholds())
        typed: dict[str, Any] = {k: int(v) if isinstance(getattr(base, k), int) else v
                                 for k, v in o.values}
        out[o.feed_type] = replace(base, **typed)
    return out


def redaction_rules_of(settings: Settings) -> RedactionRules:
    """`[redaction]` of the config as the hearing package's rules; errors name file and key."""
    base = RedactionRules()
    kinds = {f.name: getattr(base, f.name) for f in fields(base)}
    values: dict[str, Any] = {}
    for key, value in settings.redaction:
        where = f"{settings.config_file}: [redaction] {key}"
        if key not in kinds:
            raise ConfigError(f"{where}: unknown key")
        default = kinds[key]
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, str):
            ok = isinstance(value, str) and 0 < len(value) <= 16
        else:  # a set of roles or names
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            value = frozenset(value) if ok else value
        if not ok:
            raise ConfigError(f"{where}: expected {type(default).__name__}, got {value!r}")
        values[key] = value
    return RedactionRules(**values)


def create_app(settings: Settings, services: Core | None = None, *,
               probe_thresholds: Mapping[str, ProbeThresholds] | None = None,
               metrics_access: MetricsAccess | None = None,
               record_hearings: bool = True) -> web.Application:
    """The courtav application; `services` may be passed in by tests that share them.

    `record_hearings=False` leaves out the recording of live hearings (tests of cases and
    transitions in rooms without media)."""
    app = web.Application(
        middlewares=[http_middleware, error_middleware],
        client_max_size=settings.server.max_body_bytes,
    )
    app[CORE] = services = services or build_services(settings)
    app[live.LIVE] = media = live.LiveMedia(services)
    app[BENCH] = bench = BenchDirectory(services.db, services.bus)
    rec = RecorderService(services.db, services.bus, services.registry, media.streams,
                          settings.recordings_dir, segment_s=settings.recorder.segment_s,
                          analyze=settings.recorder.analyze, monitor=services.monitor,
                          staff=bench, exports_dir=settings.data_dir / "exports",
                          retention=settings.recorder.retention, audit=services.audit)
    app[RECORDER] = rec
    rec.retention.hearing_type = bench.case_type_of  # until recordings carry their class
    hearings: HearingRecorder | None = None
    if record_hearings:
        hearings = HearingRecorder(services.db, services.bus, services.registry, rec)
        app[HEARING_RECORDER] = hearings
    app.add_routes(api_auth.routes)
    app.add_routes(api_courts.routes)
    app.add_routes(api_events.routes)
    app.add_routes(api_users.routes)
    app.add_routes(api_admin.routes)
    app.add_routes(live.routes)
    app.add_routes(media.server.routes())
    add_walls(app)
    app.add_routes(recorder_routes.routes)
    webui_routes.add_routes(app)
    app.cleanup_ctx.append(_housekeeping)
    desk = hearing_routes.add_routes(
        app, rules=redaction_rules_of(settings),
        utc_offset=timedelta(hours=settings.hearing.utc_offset_hours))
    app.cleanup_ctx.append(_media)
    app.cleanup_ctx.append(_recorder)
    # Remote arraignment after the media plane, so it stops first (no "site lost" at shutdown).
    arraignment = mount_arraignment(app, desk.lifecycle, rec, media.streams, media.server)
    media.authorizers["sites"] = arraignment.authorize_site_stream
    media.authorizers["consult"] = arraignment.consultations.authorize
    media.room_guests.append(arraignment.site_views_room)
    app[api_admin.PROBES] = thresholds = dict(probe_thresholds or probe_thresholds_of(settings))
    hooks = settings.webhooks
    add_monitoring(
        app, recordings=lambda: rec.recording_count,
        upcoming=functools.partial(upcoming_hearings, services.db),
        hearing_live=hearings.is_live if hearings is not None else None,
        thresholds=thresholds,
        access=metrics_access,
        webhooks=WebhookSettings(urls=hooks.urls, secret=hooks.secret, timeout_s=hooks.timeout_s,
                                 retries=hooks.retries) if hooks.urls else None,
    )
    return app
