"""The one rate limiter: at most `limit` hits per key in a sliding window (failed logins per user
and address, petition sign-ups per address and phone), counted in the shared database so that
every node of the province sees the same hits."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from control.db import Database, utcnow
from control.models import LimitHit

MAX_KEY = 128  # longer keys (a flood of odd user names) are stored as their SHA-256


def stored_key(key: str) -> str:
    return key if len(key) <= MAX_KEY else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _lock_id(name: str, key: str) -> int:
    digest = hashlib.sha256(f"{name}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def purge_limit_hits(session: Session, now: datetime) -> int:
    """Remove every limit's expired hits (keys nobody tries again); the rows removed."""
    result = session.execute(delete(LimitHit).where(LimitHit.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


class RateLimit:
    """At most `limit` hits per key within `window` seconds, shared by every node.

    An attempt is counted before the work it guards (`hit`), atomically per key: concurrent
    attempts on any nodes cannot all pass before the limit is reached."""

    def __init__(self, db: Database, name: str, limit: int, window: float,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.name, self.limit, self.clock = db, name, limit, clock
        self.window = timedelta(seconds=window)

    async def hit(self, *keys: str) -> float:
        """Count one attempt of every key, unless one of them is at its limit: then nothing
        is counted and the seconds to wait are returned (0 when counted)."""
        now, stored = self.clock(), sorted({stored_key(k) for k in keys})
        return await self.db.run(lambda s: self._hit(s, stored, now))

    async def check(self, *keys: str) -> float:
        """Seconds until every key may hit again (0 if they may now); counts nothing."""
        now, stored = self.clock(), sorted({stored_key(k) for k in keys})
        return await self.db.run(lambda s: self._wait(s, stored, now))

    async def reset(self, key: str) -> None:
        """Forget `key`'s hits (a successful login clears the user's failures)."""
        key = stored_key(key)
        await self.db.run(lambda s: s.execute(
            delete(LimitHit).where(LimitHit.name == self.name, LimitHit.key == key)))

    async def take_back(self, key: str) -> None:
        """Uncount `key`'s latest hit (an attempt that turned out to be no failure)."""
        key = stored_key(key)

        def undo(session: Session) -> None:
            last = session.scalar(select(LimitHit.id).where(
                LimitHit.name == self.name, LimitHit.key == key)
                .order_by(LimitHit.expires_at.desc()).limit(1))
            if last is not None:
                session.execute(delete(LimitHit).where(LimitHit.id == last))

        await self.db.run(undo)

    def _hit(self, session: Session, keys: Sequence[str], now: datetime) -> float:
        if session.get_bind().dialect.name == "postgresql":
            # Per key, one counter at a time across all nodes (sorted: no deadlock); released
            # at commit. On SQLite the DELETE below takes the one write lock first.
            for key in keys:
                session.execute(text("SELECT pg_advisory_xact_lock(:id)"),
                                {"id": _lock_id(self.name, key)})
        # This key's old hits go with each write, so its rows stay under `limit`.
        session.execute(delete(LimitHit).where(
            LimitHit.name == self.name, LimitHit.key.in_(keys), LimitHit.expires_at <= now))
        wait = self._wait(session, keys, now)
        if wait == 0:
            session.add_all(LimitHit(name=self.name, key=key, expires_at=now + self.window)
                            for key in keys)
        return wait

    def _wait(self, session: Session, keys: Sequence[str], now: datetime) -> float:
        rows = session.execute(
            select(LimitHit.key, LimitHit.expires_at)
            .where(LimitHit.name == self.name, LimitHit.key.in_(keys), LimitHit.expires_at > now)
            .order_by(LimitHit.key, LimitHit.expires_at)).all()
        by_key: dict[str, list[datetime]] = {}
        for key, expires_at in rows:
            by_key.setdefault(key, []).append(expires_at)
        wait = 0.0
        for expiries in by_key.values():
            if len(expiries) >= self.limit:  # free again when enough of them expire
                free_at = expiries[len(expiries) - self.limit]
                wait = max(wait, 0.001, (free_at - now).total_seconds())
        return wait
