"""One error middleware: every failure leaves as JSON `{"error": ..., "detail": ...}`."""

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


class ApiError(web.HTTPException):
    """An HTTP error with a JSON body; raise it anywhere in a handler."""

    def __init__(self, status: int, message: str, detail: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        super().__init__(
            headers=headers,
            text=json.dumps({"error": message, "detail": detail}, ensure_ascii=False),
            content_type="application/json",
        )


def json_error(status: int, message: str, detail: Any = None,
               headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": message, "detail": detail}, status=status, headers=headers,
        dumps=lambda o: json.dumps(o, ensure_ascii=False),
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError:
        raise
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        reason = _REASONS.get(exc.status, exc.reason.lower())
        if exc.status == 404 and request.match_info.http_exception is exc:
            detail: Any = {"path": request.path}
        else:
            text = exc.text or ""
            detail = text if text and not text.startswith(f"{exc.status}:") else None
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        return json_error(exc.status, reason, detail, headers)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal server error")
