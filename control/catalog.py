"""Courtroom listings served from pre-encoded JSON, so 888 rooms cost a join, not a dump.

Each room's JSON is encoded once and re-encoded only when its status changes; a page of the
listing is the join of those fragments, and whole pages (plain and gzip) are cached until any
status changes, so a dashboard refreshing every second costs a dictionary lookup.
"""

from __future__ import annotations

import gzip
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from control.iso8601 import iso
from control.monitoring import RoomMonitor, RoomStatus
from control.registry import CourtRegistry, RoomInfo

_PAGE_CACHE = 512


@dataclass(frozen=True)
class RoomQuery:
    courts: frozenset[str]
    status: str | None = None
    text: str = ""
    limit: int = 1000
    offset: int = 0


@dataclass(frozen=True)
class Page:
    body: bytes
    gzipped: bytes


class RoomCatalog:
    """Pre-encoded room JSON kept in step with the monitor."""

    def __init__(self, registry: CourtRegistry, monitor: RoomMonitor) -> None:
        self._registry = registry
        self._monitor = monitor
        # Each room's JSON with the status it was encoded from (statuses are replaced, never
        # changed in place, so a page built after a change never serves the old one).
        self._fragments: dict[str, tuple[RoomStatus, bytes]] = {}
        self._search: dict[str, str] = {}
        self._pages: OrderedDict[tuple[RoomQuery, int], Page] = OrderedDict()
        self._order = list(registry.rooms.values())
        for room in self._order:
            self._fragment(room)
            court = registry.courts[room.court]
            self._search[room.code] = " ".join(
                (room.code, room.name_zh, room.name_en, court.name_zh, court.name_en)
            ).lower()

    def describe(self, room: RoomInfo, status: RoomStatus) -> dict[str, Any]:
        """A room with its live status; court names are in `/api/courts`, not repeated here."""
        return {
            "code": room.code,
            "court": room.court,
            "name_zh": room.name_zh,
            "name_en": room.name_en,
            "feeds": list(room.feeds),
            "status": status.status,
            "status_since": iso(status.since),
            "status_detail": status.detail,
        }

    def _encode(self, room: RoomInfo, status: RoomStatus) -> bytes:
        return json.dumps(self.describe(room, status), ensure_ascii=False).encode()

    def _fragment(self, room: RoomInfo) -> bytes:
        """The room's JSON, re-encoded when its status is another than the one encoded."""
        status = self._monitor.get(room.code)
        encoded = self._fragments.get(room.code)
        if encoded is None or encoded[0] is not status:
            encoded = self._fragments[room.code] = (status, self._encode(room, status))
        return encoded[1]

    def page(self, query: RoomQuery) -> Page:
        """The JSON body `{"total", "limit", "offset", "items"}` for a query."""
        key = (query, self._monitor.version)
        cached = self._pages.get(key)
        if cached is not None:
            self._pages.move_to_end(key)
            return cached
        text = query.text.lower()
        codes = [
            r.code
            for r in self._order
            if r.court in query.courts
            and (query.status is None or self._monitor.get(r.code).status == query.status)
            and (not text or text in self._search[r.code])
        ]
        window = codes[query.offset : query.offset + query.limit]
        body = b"".join((
            b'{"total":%d,"limit":%d,"offset":%d,"items":['
            % (len(codes), query.limit, query.offset),
            b",".join(self._fragment(self._registry.rooms[c]) for c in window),
            b"]}",
        ))
        page = Page(body, gzip.compress(body, compresslevel=5, mtime=0))
        self._pages[key] = page
        while len(self._pages) > _PAGE_CACHE:
            self._pages.popitem(last=False)
        return page
