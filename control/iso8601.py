"""ISO 8601 UTC instants, the API's one time format: written with a `Z`, read with a zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final, overload

from control.errors import ApiError

EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2200, 1, 1, tzinfo=UTC)
MAX_LEN: Final = 40
MILLIS: Final = "milliseconds"  # the recorder's precision: segments are cut mid-second


class BadTime(ApiError, ValueError):
    """Not an ISO 8601 instant we accept: a 400 where it reaches a route, a ValueError to parsers
    that try other forms first."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


@overload
def iso(at: datetime, timespec: str = "auto") -> str: ...
@overload
def iso(at: None, timespec: str = "auto") -> None: ...
@overload
def iso(at: datetime | None, timespec: str = "auto") -> str | None: ...


def iso(at: datetime | None, timespec: str = "auto") -> str | None:
    """`2025-03-01T01:30:00Z`: UTC with a `Z` (`timespec` as `datetime.isoformat`; the
    recorder's API uses MILLIS). A naive time is UTC, as the database stores it."""
    if at is None:
        return None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat(timespec=timespec).replace("+00:00", "Z")


def parse_iso(raw: object, name: str = "time", naive_is_utc: bool = False) -> datetime:
    """An ISO 8601 instant as UTC; BadTime names `name` and what is wrong.

    A zone (`Z` or `+08:00`) is required unless `naive_is_utc`."""
    if not isinstance(raw, str) or not raw.strip():
        raise BadTime(f"{name} must be an ISO 8601 time string")
    if len(raw) > MAX_LEN:
        raise BadTime(f"{name} is too long")
    try:
        at = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadTime(f"{name} must be an ISO 8601 time such as 2024-05-01T09:30:00Z") from None
    if at.tzinfo is None:
        if not naive_is_utc:
            raise BadTime(f"{name} needs a time zone (Z or +08:00)")
        at = at.replace(tzinfo=UTC)
    if not EARLIEST <= at <= LATEST:
        raise BadTime(f"{name} is out of range")
    return at.astimezone(UTC)
