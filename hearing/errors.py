"""The one error type of `hearing/`: a request the court's rules refuse, with its HTTP status."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from control.errors import ApiError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HearingError(Exception):
    """Refused: `status` is the HTTP code the API answers with, `detail` goes to the client."""

    def __init__(self, status: int, message: str, detail: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail
        self.headers = headers  # e.g. Retry-After on 429 and 503


def as_api_errors(handler: Handler) -> Handler:
    """Turn a HearingError raised anywhere below a route into the JSON error of control."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except HearingError as exc:
            raise ApiError(exc.status, exc.message, exc.detail, exc.headers) from None

    return wrapped
