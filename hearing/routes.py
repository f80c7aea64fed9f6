"""Mounts the hearing routes and the hearing service (with its overdue watch) on the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from control.core import CORE
from hearing import (
    api_arraignment,
    api_cases,
    api_disclosure,
    api_hearings,
    api_petitions,
    api_public,
    api_schedule,
    api_sites,
    public_desk,
)
from hearing import models as _models  # noqa: F401  # the tables exist before create_schema
from hearing.redaction import RedactionRules
from hearing.service import HEARINGS, HearingService

routes: list[web.RouteDef] = [*api_cases.routes, *api_hearings.routes, *api_schedule.routes,
                              *api_petitions.routes, *api_disclosure.routes, *api_public.routes,
                              *api_sites.routes, *api_arraignment.routes]


def add_routes(app: web.Application, rules: RedactionRules | None = None,
               utc_offset: timedelta = timedelta(0)) -> HearingService:
    """Add the routes, `app[HEARINGS]` and its start/stop; call after `app[CORE]` is set."""
    desk = HearingService(app[CORE], rules, utc_offset)
    app[HEARINGS] = desk
    app.add_routes(routes)
    public_desk.mount(app, desk)  # petitions and disclosure

    async def run(app: web.Application) -> AsyncIterator[None]:
        await desk.start()
        yield
        await desk.stop()

    app.cleanup_ctx.append(run)
    return desk
