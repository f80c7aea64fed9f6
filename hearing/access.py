"""How cases and hearings meet the one policy: their targets, and list filters that mirror it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from control.policy import Policy, Principal, Target
from hearing.models import Case, Hearing, HearingSeat


def hearing_target(hearing: Hearing) -> Target:
    """The policy's view of a hearing: its court, room, bench, and whether it is public."""
    return Target(kind="hearing", court=hearing.court_code, room=hearing.room_code,
                  staff=hearing.staff, disclosed=hearing.public)


def case_target(case: Case, staff: Iterable[str]) -> Target:
    """A case is judged as hearing work (the policy has no separate kind), never disclosed."""
    return Target(kind="hearing", court=case.court_code, staff=frozenset(staff))


def case_staff(session: Session, case: Case) -> frozenset[str]:
    """The case's judge and clerk and everyone on the bench of any of its hearings."""
    seated = session.scalars(
        select(HearingSeat.username).join(Hearing).where(Hearing.case_id == case.id)
    )
    return frozenset(n for n in (case.presiding_judge, case.clerk, *seated) if n)


def may_see_personal_data(policy: Policy, who: Principal, target: Target) -> bool:
    """Parties' ID numbers, phones and addresses: schedulers of the court and the bench only."""
    return policy.can(who, "hearing.schedule", target) or who.username in target.staff


@dataclass(frozen=True)
class Reach:
    """Where `who` may do an action on hearings: courts, and whether only on their own bench."""

    courts: frozenset[str]
    bench_only: str | None = None

    def hearing_filter(self) -> ColumnElement[bool]:
        if not self.courts:
            return false()
        cond = Hearing.court_code.in_(sorted(self.courts))
        if self.bench_only is None:
            return cond
        mine = select(HearingSeat.hearing_id).where(HearingSeat.username == self.bench_only)
        return cond & Hearing.id.in_(mine)

    def case_filter(self) -> ColumnElement[bool]:
        if not self.courts:
            return false()
        cond = Case.court_code.in_(sorted(self.courts))
        if self.bench_only is None:
            return cond
        me = self.bench_only
        sits = select(Hearing.case_id).join(HearingSeat).where(HearingSeat.username == me)
        return cond & or_(Case.presiding_judge == me, Case.clerk == me, Case.id.in_(sits))


def reach(policy: Policy, who: Principal, action: str = "hearing.view") -> Reach:
    """Ask the policy (not the role names) whether it limits `who` to hearings they sit on."""
    courts = policy.visible_courts(who, action)
    if not courts:
        return Reach(frozenset())
    probe = next(iter(courts))
    anyone = policy.can(who, action, Target(kind="hearing", court=probe))
    if anyone:
        return Reach(courts)
    mine = Target(kind="hearing", court=probe, staff=frozenset({who.username}))
    return Reach(courts, who.username) if policy.can(who, action, mine) else Reach(frozenset())
