"""The WHIP/WHEP HTTP endpoints (RFC 9725) over a StreamRegistry; `control` mounts routes().

`POST /whep/<path>?keyframes=1` asks for a keyframes-only view of the stream: the video
keyframes alone, no audio, nothing transcoded (a wall tile's picture at a fraction of the
bits). The path and its authorization are the same as for the full view.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Literal

from aiohttp import web

from . import aiortc_hooks
from .session import MediaError, PeerSession, SessionEvent, check_path
from .stream import StreamRegistry
from .whep import WhepSession
from .whip import WhipSession

logger = logging.getLogger(__name__)

Action = Literal["publish", "read"]
Authorize = Callable[[web.Request, Action, str], Awaitable[str]]
WATCHDOG_INTERVAL_S = 1.0
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Expose-Headers": "Location, Link, ETag, Accept-Post, Accept-Patch",
}


@dataclass(frozen=True)
class MediaSettings:
    """Network and limits of the media server, read once from configuration."""

    ice_hosts: tuple[str, ...] | None = None  # None: every interface address of the machine
    udp_port_min: int | None = None  # both set: ICE host candidates bind in this range
    udp_port_max: int | None = None
    ice_servers: tuple[str, ...] = ()  # STUN/TURN URLs handed to clients in Link headers
    max_sdp_bytes: int = 32 * 1024
    publisher_timeout_s: float = 10.0
    connect_timeout_s: float = 15.0
    allow_takeover: bool = False

    def with_env(self, environ: dict[str, str] | None = None) -> MediaSettings:
        """Apply COURTAV_ICE_HOSTS (comma-separated addresses) from the environment."""
        env = os.environ if environ is None else environ
        hosts = env.get("COURTAV_ICE_HOSTS", "").strip()
        if not hosts:
            return self
        return replace(self, ice_hosts=tuple(h.strip() for h in hosts.split(",") if h.strip()))


def _json_error(status: int, error: str, detail: object = None) -> web.Response:
    return web.json_response(
        {"error": error, "detail": detail}, status=status, headers=CORS_HEADERS
    )


def _denied(exc: web.HTTPException) -> web.Response:
    """The refusal raised by authorize(), as a JSON response (kept as is if already JSON)."""
    if exc.content_type == "application/json" and exc.text:
        response = web.Response(
            status=exc.status, text=exc.text, content_type="application/json", headers=CORS_HEADERS
        )
    else:
        response = _json_error(exc.status, exc.reason.lower().replace(" ", "_"), exc.text)
    for name in ("WWW-Authenticate", "Retry-After"):
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


class MediaServer:
    """WHIP ingest and WHEP egress for the streams of one registry."""

    def __init__(
        self,
        settings: MediaSettings,
        registry: StreamRegistry,
        authorize: Authorize,
        on_session: Callable[[SessionEvent], None] | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.authorize = authorize
        self.on_session = on_session
        self.sessions: dict[str, PeerSession] = {}
        self._watchdog: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Check aiortc's internals, apply ICE settings (COURTAV_ICE_HOSTS overrides), start the
        session watchdog."""
        aiortc_hooks.self_test()
        self.settings = self.settings.with_env()
        aiortc_hooks.set_ice_hosts(self.settings.ice_hosts)
        aiortc_hooks.set_udp_port_range(self.settings.udp_port_min, self.settings.udp_port_max)
        if self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        """Close every peer connection and stop the watchdog."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        await asyncio.gather(
            *(s.close("server stopping") for s in list(self.sessions.values())),
            return_exceptions=True,
        )

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCHDOG_INTERVAL_S)
            self.check_sessions()

    def check_sessions(self) -> None:
        """Close sessions that never connected or whose publisher went silent."""
        now = time.monotonic()
        for session in list(self.sessions.values()):
            if isinstance(session, WhipSession):
                if now - session.last_activity() > self.settings.publisher_timeout_s:
                    session.close_soon("publisher timeout")
            elif (
                not session.connected
                and now - session.created_monotonic > self.settings.connect_timeout_s
            ):
                session.close_soon("connect timeout")

    # --- routes ------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """Route definitions to add to the control application."""
        return [
            web.post("/whip/{path:.+}", self._post_whip, name="media-whip"),
            web.options("/whip/{path:.+}", self._options, name="media-whip-options"),
            web.delete("/whip-sessions/{id}", self._delete_whip, name="media-whip-session"),
            web.patch("/whip-sessions/{id}", self._patch),
            web.options("/whip-sessions/{id}", self._options),
            web.post("/whep/{path:.+}", self._post_whep, name="media-whep"),
            web.options("/whep/{path:.+}", self._options, name="media-whep-options"),
            web.delete("/whep-sessions/{id}", self._delete_whep, name="media-whep-session"),
            web.patch("/whep-sessions/{id}", self._patch),
            web.options("/whep-sessions/{id}", self._options),
        ]

    async def _options(self, request: web.Request) -> web.Response:
        headers = {
            **CORS_HEADERS,
            "Access-Control-Allow-Methods": "POST, DELETE, PATCH, OPTIONS",
            "Accept-Post": "application/sdp",
            **self._link_headers(),
        }
        return web.Response(status=204, headers=headers)

    async def _patch(self, request: web.Request) -> web.Response:
        # Trickle ICE and ICE restarts are optional in RFC 9725; offers carry all candidates.
        return web.json_response(
            {"error": "trickle_not_supported", "detail": "send a complete offer"},
            status=405,
            headers={**CORS_HEADERS, "Allow": "POST, DELETE, OPTIONS"},
        )

    async def _post_whip(self, request: web.Request) -> web.StreamResponse:
        return await self._post(request, "publish")

    async def _post_whep(self, request: web.Request) -> web.StreamResponse:
        return await self._post(request, "read")

    async def _post(self, request: web.Request, action: Action) -> web.StreamResponse:
        try:
            path = check_path(request.match_info["path"])
            keyframes_only = action == "read" and self._keyframes_only(request)
            subject = await self.authorize(request, action, path)
            offer = await self._read_offer(request)
        except web.HTTPException as exc:  # from authorize(): keep its status and headers
            return _denied(exc)
        except MediaError as exc:
            return _json_error(exc.status, exc.error, exc.detail)
        session: PeerSession | None = None
        try:
            stream = self.registry.get(path)
            if action == "publish":
                if stream is not None and stream.is_live and not self.settings.allow_takeover:
                    raise MediaError(409, "path_busy", "the path already has a live publisher")
                whip = WhipSession(self.registry, path, subject, request.remote, self._ended)
                session = whip
                answer = await whip.negotiate(offer, self.settings.allow_takeover)
                route = "media-whip-session"
            else:
                if stream is None:
                    raise MediaError(404, "not_found", f"no stream at {path}")
                whep = WhepSession(self.registry, stream, subject, request.remote, self._ended,
                                   keyframes_only=keyframes_only)
                session = whep
                answer = await whep.negotiate(offer)
                route = "media-whep-session"
        except MediaError as exc:
            await self._discard(session)
            return _json_error(exc.status, exc.error, exc.detail)
        except Exception:  # whatever aiortc raises on a hostile offer is the offer's fault
            await self._discard(session)
            logger.exception("unexpected failure answering %s offer", action)
            return _json_error(400, "negotiation_failed", "the offer could not be answered")
        self.sessions[session.id] = session
        self._emit(session)
        location = request.app.router[route].url_for(id=session.id)
        headers = {
            **CORS_HEADERS,
            "Location": str(location),
            "ETag": f'"{session.id}"',
            "Content-Type": "application/sdp",
            **self._link_headers(),
        }
        return web.Response(status=201, text=answer, headers=headers, charset=None)

    async def _read_offer(self, request: web.Request) -> str:
        if request.content_type != "application/sdp":
            raise MediaError(415, "unsupported_media_type", "Content-Type must be application/sdp")
        limit = self.settings.max_sdp_bytes
        if request.content_length is not None and request.content_length > limit:
            raise MediaError(413, "sdp_too_large", f"at most {limit} bytes")
        body = await request.content.read(limit + 1)
        if len(body) > limit:
            raise MediaError(413, "sdp_too_large", f"at most {limit} bytes")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise MediaError(400, "bad_sdp", "SDP must be UTF-8 text") from None

    async def _delete_whip(self, request: web.Request) -> web.Response:
        return await self._delete(request, "publish")

    async def _delete_whep(self, request: web.Request) -> web.Response:
        return await self._delete(request, "read")

    async def _delete(self, request: web.Request, role: Action) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        try:
            if session is None:
                raise MediaError(404, "not_found", "no such session")
            subject = await self.authorize(request, session.role, session.path)
            # Someone else's session is reported as absent, not as forbidden.
            if subject != session.subject or session.role != role:
                raise MediaError(404, "not_found", "no such session")
        except web.HTTPException as exc:
            return _denied(exc)
        except MediaError as exc:
            return _json_error(exc.status, exc.error, exc.detail)
        await session.close("deleted by client")
        return web.Response(status=200, headers=CORS_HEADERS)

    # --- helpers -----------------------------------------------------------------------

    @staticmethod
    def _keyframes_only(request: web.Request) -> bool:
        raw = request.query.get("keyframes", "0")
        if raw not in ("0", "1"):
            raise MediaError(400, "bad_query", "keyframes must be 0 or 1")
        return raw == "1"

    def _link_headers(self) -> dict[str, str]:
        if not self.settings.ice_servers:
            return {}
        return {"Link": ", ".join(f'<{u}>; rel="ice-server"' for u in self.settings.ice_servers)}

    async def _discard(self, session: PeerSession | None) -> None:
        if session is not None:
            session._on_end = lambda s: None  # never announced, so no end record either
            await session.close("refused")

    def _ended(self, session: PeerSession) -> None:
        if self.sessions.pop(session.id, None) is not None:
            self._emit(session)

    def _emit(self, session: PeerSession) -> None:
        if self.on_session is None:
            return
        try:
            self.on_session(session.event())
        except Exception:
            logger.exception("session hook failed")
