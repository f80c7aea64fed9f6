"""Serves the browser pages: static HTML, CSS and JavaScript modules, no build step."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"

# Pages load only their own scripts and styles; media and API calls go to this origin only.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

routes = web.RouteTableDef()


def _page(name: str) -> web.FileResponse:
    return web.FileResponse(STATIC / name, headers={
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    })


@routes.get("/")
async def index(_request: web.Request) -> web.FileResponse:
    return _page("index.html")


def add_routes(app: web.Application) -> None:
    app.add_routes(routes)
    app.router.add_static("/static/", STATIC, name="static", append_version=False)
