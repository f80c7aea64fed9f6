"""The one error type and the one error middleware: every failure leaves as JSON
`{"error": ..., "detail": ...}`."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger("courtav.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_REASONS = {
    400: "bad request",
    401: "authentication required",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "request body too large",
    415: "unsupported media type",
    422: "unprocessable entity",
    429: "too many requests",
}
# Headers of aiohttp's own errors that tell the client what to do next.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ApiError(Exception):
    """A refusal with its HTTP status; raise it (or a subclass) anywhere, domain code included."""

    def __init__(self, status: int, message: str, detail: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail
        self.headers = headers  # e.g. Retry-After on 429 and 503, WWW-Authenticate on 401

    def as_http(self) -> web.HTTPException:
        """The same refusal as aiohttp's exception, for the media plane (it knows no ApiError)."""
        return _HttpRefusal(self.status, headers=self.headers, text=_dumps(self.body()),
                            content_type="application/json")

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "detail": self.detail}


class _HttpRefusal(web.HTTPException):
    def __init__(self, status: int, **kwargs: Any) -> None:
        self.status_code = status  # aiohttp reads the class attribute during __init__
        super().__init__(**kwargs)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def json_error(status: int, message: str, detail: Any = None,
               headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message, "detail": detail}, status=status,
                             headers=headers, dumps=_dumps)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return json_error(exc.status, exc.message, exc.detail, exc.headers)
    except web.HTTPException as exc:  # aiohttp's own: unknown route, 405, 413, media's refusals
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        reason = _REASONS.get(exc.status, exc.reason.lower())
        if exc.status == 404 and request.match_info.http_exception is exc:
            detail: Any = {"path": request.path}
        else:
            text = exc.text or ""
            detail = text if text and not text.startswith(f"{exc.status}:") else None
        headers = {k: v for k, v in exc.headers.items() if k in _KEPT_HEADERS}
        return json_error(exc.status, reason, detail, headers)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal server error")
