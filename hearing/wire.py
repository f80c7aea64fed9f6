"""The API's wire format: ISO 8601 UTC instants and JSON that keeps Chinese readable."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hearing.errors import HearingError


def iso(value: datetime | None) -> str | None:
    """`2025-03-01T01:30:00Z` (UTC, whole seconds unless the instant has a fraction)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_instant(raw: object, name: str) -> datetime:
    """An ISO 8601 instant with an explicit offset (or Z), as UTC; 400 otherwise."""
    if not isinstance(raw, str) or not 10 <= len(raw) <= 40:
        raise HearingError(400, f"field {name!r} must be an ISO 8601 time string")
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise HearingError(400, f"field {name!r} is not an ISO 8601 time", raw) from None
    if value.tzinfo is None:
        raise HearingError(400, f"field {name!r} needs a UTC offset, e.g. "
                                "2025-03-01T09:30:00+08:00", raw)
    return value.astimezone(UTC)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
