"""Append-only audit trail; each record carries the hash of the one before it."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from control.db import Database, utcnow
from control.models import AuditEvent
from control.policy import Principal

GENESIS = "0" * 64


def record_hash(prev_hash: str, at: datetime, actor: str, role: str, court: str | None,
                action: str, target: str, address: str, detail: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the record."""
    # `isoformat()` as the chain was first written (+00:00, not Z): rows already sealed must verify.
    body = json.dumps(
        [prev_hash, at.isoformat(), actor, role, court, action, target, address, detail],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


class AuditLog:
    """Writes audit records in order; one writer at a time keeps the chain linear."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = asyncio.Lock()

    async def record(self, who: Principal, action: str, target: str = "", *,
                     court: str | None = None, address: str = "",
                     detail: dict[str, Any] | None = None) -> None:
        detail = detail or {}

        def write(session: Session) -> None:
            last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
            prev = last or GENESIS
            at = utcnow()
            row_court = court if court is not None else who.court
            session.add(AuditEvent(
                at=at, actor=who.username or "-", role=who.role, court=row_court,
                action=action, target=target[:160], address=address[:64], detail=detail,
                prev_hash=prev,
                hash=record_hash(prev, at, who.username or "-", who.role, row_court, action,
                                 target[:160], address[:64], detail),
            ))

        async with self._lock:
            await self.db.run(write)

    def verify(self, session: Session) -> int | None:
        """Id of the first record whose hash or link does not match, or None if intact."""
        prev = GENESIS
        for row in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
            expected = record_hash(prev, row.at, row.actor, row.role, row.court, row.action,
                                   row.target, row.address, row.detail)
            if row.prev_hash != prev or row.hash != expected:
                return row.id
            prev = row.hash
        return None
