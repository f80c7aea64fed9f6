"""Leases: duties that one node at a time holds in the shared database (e.g. the retention run),
taken over by another node once the holder's lease has expired (it died, or its term ended).

Expiry is judged by the acting node's clock: nodes keep their clocks in step (NTP), and a lease
lasts far longer than they can drift apart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from control.db import Database, utcnow
from control.models import Lease


def take_lease(session: Session, name: str, holder: str, until: datetime, now: datetime) -> bool:
    """Insert or take over the lease `name` if it is free or expired; True if `holder` has it.

    One statement (an upsert whose update applies only to an expired row), so of two nodes
    racing for it exactly one wins, on PostgreSQL and on SQLite alike."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(Lease).values(name=name, holder=holder, expires_at=until)
    upsert = stmt.on_conflict_do_update(
        index_elements=[Lease.name],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
        where=Lease.expires_at <= now,
    )
    return session.execute(upsert.returning(Lease.holder)).first() is not None


class Leases:
    """This node's leases by name; `holder` is the node id (`[node] id`)."""

    def __init__(self, db: Database, holder: str,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.holder, self.clock = db, holder, clock

    async def acquire(self, name: str, ttl: float) -> bool:
        """Take `name` for `ttl` seconds if no lease on it is running (this node's own
        included: a holder keeps its lease with `renew`); True if taken."""
        now = self.clock()
        until = now + timedelta(seconds=ttl)
        return await self.db.run(lambda s: take_lease(s, name, self.holder, until, now))

    async def renew(self, name: str, ttl: float) -> bool:
        """Extend this node's lease on `name` by `ttl` from now; False if another node has it."""
        until = self.clock() + timedelta(seconds=ttl)

        def extend(session: Session) -> bool:
            result = session.execute(update(Lease).where(
                Lease.name == name, Lease.holder == self.holder).values(expires_at=until))
            return getattr(result, "rowcount", 0) == 1

        return await self.db.run(extend)

    async def release(self, name: str) -> None:
        """Give `name` up at once (if this node holds it), for another node to take."""
        await self.db.run(lambda s: s.execute(
            delete(Lease).where(Lease.name == name, Lease.holder == self.holder)))

    async def holder_of(self, name: str) -> str | None:
        """The node holding `name` now, or None if its lease is free or expired."""
        now = self.clock()
        return await self.db.run(lambda s: s.scalar(
            select(Lease.holder).where(Lease.name == name, Lease.expires_at > now)))
