"""Sealed and confidential portions: who may see which time ranges of a recording.

A `sealed` portion is seen only by those who may `recording.seal` the recording (presidents,
admins, judges on its bench); a `confidential` one also by the hearing's bench staff. Everyone
else gets playlists, exports, segment files, markers and timelines with the segments that
overlap a withheld portion left out; the rest of the recording plays as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from control.iso8601 import MILLIS, iso
from control.policy import Policy, Principal, Target
from recorder.models import Portion

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Withheld:
    """The spans of one recording a caller may not see (empty: they see it all)."""

    spans: tuple[Span, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.spans)

    def covers(self, start: datetime, end: datetime) -> bool:
        """True when [start, end) overlaps a withheld span."""
        return any(start < s_end and end > s_start for s_start, s_end in self.spans)

    def holds(self, at: datetime) -> bool:
        """True when the instant `at` falls inside a withheld span."""
        return any(s_start <= at < s_end for s_start, s_end in self.spans)


def load_portions(session: Session, recording_id: int) -> list[Portion]:
    return list(session.scalars(select(Portion).where(Portion.recording_id == recording_id)
                                .order_by(Portion.start_at, Portion.id)))


def entitled(policy: Policy, who: Principal, target: Target, level: str) -> bool:
    """May `who` see a portion of `level` of the recording described by `target`?"""
    if policy.can(who, "recording.seal", target):
        return True
    return level == "confidential" and bool(who.username) and who.username in target.staff


def withheld_for(policy: Policy, who: Principal, target: Target,
                 portions: Iterable[Portion]) -> Withheld:
    """The spans of `portions` that `who` is not entitled to."""
    may_seal = policy.can(who, "recording.seal", target)
    if may_seal:
        return Withheld()
    on_bench = bool(who.username) and who.username in target.staff
    spans = [(p.start_at, p.end_at) for p in portions
             if p.level == "sealed" or not on_bench]
    return Withheld(tuple(_merge(spans)))


def _merge(spans: Sequence[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def portion_json(p: Portion) -> dict[str, Any]:
    return {"id": p.id, "recording": p.recording_id, "level": p.level,
            "from": iso(p.start_at, MILLIS),
            "to": iso(p.end_at, MILLIS), "reason": p.reason, "created_by": p.created_by,
            "created_at": iso(p.created_at, MILLIS)}


def withheld_json(withheld: Withheld) -> list[dict[str, Any]]:
    """What a viewer is told of what they may not see: only when, never why or what."""
    return [{"from": iso(start, MILLIS), "to": iso(end, MILLIS)} for start, end in withheld.spans]
