"""Who sits on which hearing, for the recorder's access checks (`HearingStaff`).

Answered from the database through its executor, never on the event loop, and cached for a
few seconds; any hearing or petition event empties the cache, so a bench that changed (a
reschedule, a petition accepted) is read afresh at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from control.bus import Event, EventBus
from control.db import Database
from hearing.models import HearingSeat, Petition

STAFF_TTL_S = 5.0
MAX_CACHED = 10_000


def hearing_ref(hearing_id: int) -> str:
    """What a hearing's recordings carry as their `hearing_ref`."""
    return f"hearing:{hearing_id}"


def _id_of(ref: str | None, prefix: str) -> int | None:
    if not ref or not ref.startswith(prefix):
        return None
    tail = ref.removeprefix(prefix)
    return int(tail) if tail.isdigit() else None


def hearing_id_of(ref: str | None) -> int | None:
    return _id_of(ref, "hearing:")


def petition_id_of(ref: str | None) -> int | None:
    return _id_of(ref, "petition:")


class BenchDirectory:
    """`HearingStaff` for the recorder: a hearing's bench, the petition's receiving officer."""

    def __init__(self, db: Database, bus: EventBus) -> None:
        self.db = db
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self.queries = 0  # database round trips, for tests and metrics
        # Remote too: a hearing changed on another node changes the rows this cache holds.
        bus.on("hearing.*", self._forget, remote=True)
        bus.on("petition.*", self._forget, remote=True)

    def _forget(self, event: Event) -> None:
        self._cache.clear()

    async def staff_of(self, ref: str | None) -> frozenset[str]:
        """The bench of a hearing; for a remote petition, the staff member who received it."""
        pid = petition_id_of(ref)
        if pid is not None:
            return await self._cached(f"petition:{pid}", lambda s: frozenset(
                u for u in s.scalars(select(Petition.accepted_by).where(Petition.id == pid))
                if u))
        hid = hearing_id_of(ref)
        if hid is None:
            return frozenset()
        return await self._cached(f"hearing:{hid}", lambda s: frozenset(s.scalars(
            select(HearingSeat.username).where(HearingSeat.hearing_id == hid))))

    async def hearings_of(self, username: str) -> frozenset[str]:
        """The refs of every hearing `username` sits on and every petition they received."""
        def load(session: Session) -> frozenset[str]:
            benches = session.scalars(
                select(HearingSeat.hearing_id).where(HearingSeat.username == username))
            received = session.scalars(
                select(Petition.id).where(Petition.accepted_by == username))
            return frozenset([*(hearing_ref(h) for h in benches),
                              *(f"petition:{p}" for p in received)])

        return await self._cached(f"user:{username}", load)

    async def _cached(self, key: str,
                      query: Callable[[Session], frozenset[str]]) -> frozenset[str]:
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < STAFF_TTL_S:
            return hit[1]
        if len(self._cache) > MAX_CACHED:
            self._cache.clear()
        self.queries += 1
        value = await self.db.run(query)
        self._cache[key] = (now, value)
        return value


BENCH = web.AppKey("bench", BenchDirectory)
