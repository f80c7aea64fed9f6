"""Serves the browser pages: static HTML, CSS and JavaScript modules, no build step.

Every page is `static/<page>.html` (its title, own styles, then its `<body>`) and
`static/<page>/main.js`; shared modules and styles live in `static/lib/`. One head and one
header (filled by `lib/shell.js`) wrap every page here. Pages are public files: every piece of
data on them comes from the API, which checks who asks.
"""

from __future__ import annotations

import re
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

# URL -> page. Staff pages send a visitor without a session to the login page themselves, and
# show only what `/api/me` says the user may do.
PAGES = {
    "/": "login",  # log in, then the user's home page
    "/dashboard": "dashboard",  # courtrooms and today's hearings (hearing.view)
    "/clerk": "clerk",  # the console of a hearing (hearing.mark)
    "/cases": "cases",  # cases and the week schedule: schedulers file and book, others read
    "/wall": "wall",  # the monitoring wall (wall.use; personal or shared, kiosk)
    "/playback": "playback",  # recordings: search, play, markers, export
    "/admin": "admin",  # users, remote sites, courts, settings (user.manage)
    "/site": "site",  # a remote site (detention centre, prison): link, sign, consult
    "/consult": "consult",  # a defence lawyer's private consultation (one-time code)
    "/petition": "petition",  # a citizen's remote petition (no account)
    "/reception": "reception",  # reception staff receive petitioners (petition.receive)
    "/public": "public",  # disclosure: schedule, live public trials, recordings
}

# The one head and header of every page; `{head}` is the page's own head part.
TEMPLATE = """<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="/static/lib/style.css">
  <link rel="stylesheet" href="/static/lib/shell.css">
{head}  <script type="module" src="/static/{page}/main.js"></script>
</head>
{body_tag}
  <header id="shell" class="shell">
    <span class="shell-product"><span class="shell-mark">courtav</span></span>
  </header>
{body}
</html>
"""

# Browser libraries installed from npm (`make node_modules/.installed`), never from a CDN.
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
VENDOR = {"hls.min.js": NODE_MODULES / "hls.js" / "dist" / "hls.min.js"}

routes = web.RouteTableDef()


def render(page: str) -> str:
    """The whole document of `page`: the one head and header around `static/<page>.html`."""
    text = (STATIC / f"{page}.html").read_text(encoding="utf-8")
    start = text.index("<body")
    end = text.index(">", start) + 1
    head = "".join(f"  {line.strip()}\n" for line in text[:start].splitlines() if line.strip())
    parts = {"head": head, "page": page, "body_tag": text[start:end],
             "body": text[end:].strip("\n")}
    # One pass, so nothing in a page's own text is taken for a placeholder.
    return re.sub(r"\{(head|page|body_tag|body)\}", lambda m: parts[m[1]], TEMPLATE)


def _page_handler(page: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    # Rendered once when the routes are added: no file reads on the event loop.
    body = render(page).encode("utf-8")

    async def serve(_request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, content_type="text/html", charset="utf-8",
                            headers=PAGE_HEADERS)

    return serve


@routes.get("/vendor/{name}")
async def vendor(request: web.Request) -> web.FileResponse:
    path = VENDOR.get(request.match_info["name"])
    if path is None or not path.is_file():
        raise ApiError(404, "not found")
    return web.FileResponse(path, headers={"Content-Type": "text/javascript",
                                           "X-Content-Type-Options": "nosniff",
                                           "Cache-Control": "public, max-age=86400"})


def add_routes(app: web.Application) -> None:
    for url, page in PAGES.items():
        app.router.add_get(url, _page_handler(page))
    app.add_routes(routes)
    app.router.add_static("/static/", STATIC, name="static", append_version=False)
