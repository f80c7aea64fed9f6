"""The one time format: written UTC with a `Z`, read only with a zone; a bad time is a 400."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from aiohttp.test_utils import TestClient

from control.errors import ApiError
from control.iso8601 import MILLIS, BadTime, iso, parse_iso
from tests.conftest import auth

HARBIN = timezone(timedelta(hours=8))


def test_written_in_utc_with_z_at_the_asked_precision() -> None:
    at = datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=HARBIN)
    assert iso(at) == "2025-03-01T01:30:00.123456Z"
    assert iso(at, MILLIS) == "2025-03-01T01:30:00.123Z"
    assert iso(at.replace(microsecond=0)) == "2025-03-01T01:30:00Z"
    assert iso(datetime(2025, 3, 1, 1, 30)) == "2025-03-01T01:30:00Z"  # naive is stored UTC
    assert iso(None) is None


def test_read_with_a_zone_as_utc() -> None:
    assert parse_iso("2025-03-01T09:30:00+08:00") == datetime(2025, 3, 1, 1, 30, tzinfo=UTC)
    assert parse_iso(iso(datetime(2025, 3, 1, tzinfo=UTC))) == datetime(2025, 3, 1, tzinfo=UTC)
    assert parse_iso("2025-03-01 01:30:00", naive_is_utc=True).tzinfo is UTC
    for bad, why in [("2025-03-01T09:30:00", "needs a time zone"), ("yesterday", "such as"),
                     ("1900-01-01T00:00:00Z", "out of range"), ("2" * 41, "too long"),
                     (12, "time string")]:
        with pytest.raises(BadTime, match=why) as caught:
            parse_iso(bad, "from")
        assert isinstance(caught.value, ApiError) and caught.value.status == 400
        assert isinstance(caught.value, ValueError)  # parsers that try other forms catch it


async def test_a_bad_time_in_a_request_is_a_json_400(client: TestClient,
                                                    tokens: dict[str, str]) -> None:
    for url in ("/api/recordings?from=noon", "/api/audit?from=noon"):
        r = await client.get(url, headers=auth(tokens["admin"]))
        assert r.status == 400 and r.content_type == "application/json", url
        assert "ISO 8601" in (await r.json())["error"]
