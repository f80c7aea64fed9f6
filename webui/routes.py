"""Serves the browser pages: static HTML, CSS and JavaScript modules, no build step.

Pages are public files: every piece of data on them comes from the API, which checks who asks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from control.errors import ApiError

STATIC = Path(__file__).resolve().parent / "static"

# Pages load only their own scripts and styles; media and API calls go to this origin only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

# URL -> page. Staff pages send a visitor without a session to the login page themselves.
PAGES = {
    "/": "index.html",  # login, then each role's home
    "/dashboard": "dashboard.html",  # presidents, judges, clerks, admins
    "/clerk": "clerk.html",  # the clerk console of a hearing
    "/cases": "cases.html",  # cases and the week schedule: clerks file and book, others read
    "/wall": "wall.html",  # the security monitoring wall (personal or shared, kiosk)
    "/playback": "playback.html",  # recordings: search, play, markers, export
    "/admin": "admin.html",  # users, remote sites, courts, settings
    "/site": "site.html",  # a remote site (detention centre, prison): link, sign, consult
    "/consult": "consult.html",  # a defence lawyer's private consultation (one-time code)
    "/petition": "petition.html",  # a citizen's remote petition (no account)
    "/reception": "reception.html",  # reception staff receive petitioners
    "/public": "public.html",  # disclosure: schedule, live public trials, recordings
}

# Browser libraries installed from npm (`make node_modules/.installed`), never from a CDN.
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
VENDOR = {"hls.min.js": NODE_MODULES / "hls.js" / "dist" / "hls.min.js"}

routes = web.RouteTableDef()


def _page_handler(name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def page(_request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / name, headers=PAGE_HEADERS)

    return page


@routes.get("/vendor/{name}")
async def vendor(request: web.Request) -> web.FileResponse:
    path = VENDOR.get(request.match_info["name"])
    if path is None or not path.is_file():
        raise ApiError(404, "not found")
    return web.FileResponse(path, headers={"Content-Type": "text/javascript",
                                           "X-Content-Type-Options": "nosniff",
                                           "Cache-Control": "public, max-age=86400"})


def add_routes(app: web.Application) -> None:
    for url, name in PAGES.items():
        app.router.add_get(url, _page_handler(name))
    app.add_routes(routes)
    app.router.add_static("/static/", STATIC, name="static", append_version=False)
