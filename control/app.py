"""The one application factory: builds the services and mounts every package's routes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import fields, replace
from datetime import timedelta
from typing import Any

from aiohttp import web

from control import (
    api_admin,
    api_auth,
    api_courts,
    api_events,
    api_monitoring,
    api_nodes,
    api_users,
    api_walls,
    live,
)
from control import metrics as metrics_routes
from control.alerts import AlertBook
from control.api_monitoring import MONITORING, Monitoring
from control.api_walls import WALLS
from control.audit import AuditLog
from control.auth import Authenticator
from control.bus import EventBus
from control.bus_postgres import BUS_BRIDGE, PostgresBusBridge
from control.catalog import RoomCatalog
from control.config import ConfigError, Settings
from control.core import CORE, Core
from control.db import Database, utcnow
from control.errors import error_middleware
from control.leases import Leases
from control.metrics import METRICS, Metrics, MetricsAccess, http_middleware
from control.migrate import upgrade
from control.monitoring import RoomMonitor
from control.node_auth import NodeCredential
from control.nodes import NODES, NodeDirectory
from control.operations import FeedWatch, NodeLoad, OperationsView
from control.policy import Policy
from control.province import load_province
from control.ratelimit import purge_limit_hits
from control.registry import CourtRegistry, sync_province
from control.stream_directory import STREAMS, StreamDirectory
from control.upcoming import UpcomingWatch
from control.walls import WallBoard
from control.webhooks import Webhooks, WebhookSettings
from hearing import routes as hearing_routes
from hearing.arraignment import ARRAIGNMENT, Arraignment
from hearing.bench_directory import BENCH, BenchDirectory
from hearing.consultation import CONSULTATIONS
from hearing.disclosure import BROADCASTS, Broadcasts
from hearing.petition_media import PetitionMedia
from hearing.petitions import PETITIONS, PetitionDesk
from hearing.recording import HEARING_RECORDER, HearingRecorder
from hearing.redaction import RedactionRules
from hearing.schedule import upcoming_hearings
from hearing.service import HEARINGS, HearingService
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
    try:
        upgrade(db)
    except Exception:
        db.close()
        raise
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
        auth=Authenticator(db, settings.auth, bus),
        audit=AuditLog(db),
        catalog=RoomCatalog(registry, monitor),
        credential=NodeCredential(settings.node.id),
    )


Step = tuple[Callable[[], Awaitable[Any]] | None, Callable[[], Awaitable[Any]] | None]


def _in_order(steps: list[Step]) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that starts the services in order and stops them in reverse (only
    those whose start completed)."""

    async def run(_app: web.Application) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for start, stop in steps:
                if start is not None:
                    await start()
                if stop is not None:
                    stack.push_async_callback(stop)
            yield

    return run


async def _housekeeping(app: web.Application) -> AsyncIterator[None]:
    svc = app[CORE]

    async def purge() -> None:
        while True:
            # Both are idempotent: every node may run them, no lease needed.
            removed = await svc.auth.purge_expired()
            if removed:
                log.info("expired tokens removed", extra={"count": removed})
            await svc.db.run(lambda s: purge_limit_hits(s, utcnow()))
            await asyncio.sleep(TOKEN_PURGE_S)

    task = asyncio.create_task(purge())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await svc.bus.close()  # the last events of the stopping services reach their handlers
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
    db, bus, registry = services.db, services.bus, services.registry
    # Many nodes share a PostgreSQL database and its bus; SQLite is one node, no bridge.
    bridge: PostgresBusBridge | None = None
    if db.engine.dialect.name == "postgresql":
        app[BUS_BRIDGE] = bridge = PostgresBusBridge(bus, db.url, settings.node.id)
    # Where each live stream of the province is, kept before the media plane reports any.
    app[STREAMS] = directory = StreamDirectory(db, bus, registry, settings.node.id)
    # The media plane, then the recorder over its streams; who sits on which hearing is
    # answered by the bench directory, built first and given to the recorder.
    app[live.LIVE] = media = live.LiveMedia(services)
    app[BENCH] = bench = BenchDirectory(db, bus)
    app[RECORDER] = rec = RecorderService(
        db, bus, registry, media.streams, settings.recordings_dir,
        segment_s=settings.recorder.segment_s, analyze=settings.recorder.analyze,
        monitor=services.monitor, staff=bench, exports_dir=settings.data_dir / "exports",
        retention=settings.recorder.retention, audit=services.audit,
        leases=Leases(db, settings.node.id))
    # The hearing package: desk and lifecycle, the recording of live hearings, petitions,
    # broadcasts, remote arraignment. Each reacts to the others through bus events only.
    app[HEARINGS] = desk = HearingService(
        services, redaction_rules_of(settings),
        timedelta(hours=settings.hearing.utc_offset_hours))
    hearings: HearingRecorder | None = None
    if record_hearings:
        app[HEARING_RECORDER] = hearings = HearingRecorder(db, bus, registry, rec)
    app[PETITIONS] = petitions = PetitionDesk(services)
    PetitionMedia(petitions, media, rec)
    app[BROADCASTS] = broadcasts = Broadcasts(services)
    app[ARRAIGNMENT] = arraignment = Arraignment(services, desk.lifecycle, rec, media)
    app[CONSULTATIONS] = arraignment.consultations
    app[WALLS] = WallBoard(services)
    # Monitoring: alerts, probes, node load, metrics, webhooks.
    app[api_admin.PROBES] = thresholds = dict(probe_thresholds or probe_thresholds_of(settings))
    alerts = AlertBook(services, hearing_live=hearings.is_live if hearings else None,
                       room_live=media.room_live)
    load = NodeLoad(media.streams, node=settings.node.id,
                    recordings=lambda: rec.recording_count)
    app[NODES] = nodes = NodeDirectory(db, bus, services.audit, settings.node,
                                       load.heartbeat)
    hooks = settings.webhooks
    webhooks = Webhooks(bus, WebhookSettings(
        urls=hooks.urls, secret=hooks.secret, timeout_s=hooks.timeout_s,
        retries=hooks.retries)) if hooks.urls else None
    app[METRICS] = metrics = Metrics(services, load, alerts, metrics_access, webhooks)
    watch = FeedWatch(services, media, alerts, metrics=metrics, thresholds=thresholds)
    upcoming = UpcomingWatch(bus, alerts, watch.main_feed_live,
                             functools.partial(upcoming_hearings, db))
    app[MONITORING] = Monitoring(alerts, load, OperationsView(services, alerts, load), watch,
                                 metrics, webhooks, upcoming)

    for table in (api_auth.routes, api_courts.routes, api_events.routes, api_users.routes,
                  api_admin.routes, live.routes, media.server.routes(), api_walls.routes,
                  recorder_routes.routes, hearing_routes.routes, api_monitoring.routes,
                  metrics_routes.routes, api_nodes.routes):
        app.add_routes(table)
    webui_routes.add_routes(app)

    app.cleanup_ctx.append(_housekeeping)
    app.cleanup_ctx.append(_in_order([
        # The bridge first, so that the other nodes hear this one come up; then the node,
        # left last but for the bridge: a node is alive while any of its services runs.
        (bridge.start, bridge.stop) if bridge is not None else (None, None),
        (nodes.start, nodes.stop),
        (directory.start, None),
        (desk.start, desk.stop),
        (petitions.start, petitions.stop),
        (broadcasts.start, None),
        (media.start, media.stop),
        (rec.start, rec.stop),
        (hearings.start, hearings.stop) if hearings is not None else (None, None),
        # Stops before the media plane: sites dropped at shutdown are no "site lost".
        (None, arraignment.stop),
        (alerts.load, None),
        (webhooks.start, webhooks.stop) if webhooks is not None else (None, None),
        (watch.start, watch.stop),
        (upcoming.start, upcoming.stop),
    ]))
    return app
