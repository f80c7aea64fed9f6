"""The hearing package's routes; `create_app` builds its services and mounts these."""

from __future__ import annotations

from aiohttp import web

from hearing import (
    api_arraignment,
    api_cases,
    api_disclosure,
    api_hearings,
    api_petitions,
    api_public,
    api_schedule,
    api_sites,
)

routes: list[web.RouteDef] = [*api_cases.routes, *api_hearings.routes, *api_schedule.routes,
                              *api_petitions.routes, *api_disclosure.routes, *api_public.routes,
                              *api_sites.routes, *api_arraignment.routes]
