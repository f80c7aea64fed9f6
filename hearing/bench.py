"""Who may sit: presiding judge, panel and clerk are active users of their role and court."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from control.models import User
from hearing.errors import HearingError

MAX_PANEL = 6


@dataclass(frozen=True)
class Bench:
    """The people of one hearing."""

    presiding_judge: str
    clerk: str
    panel: tuple[str, ...] = ()

    def seats(self) -> list[tuple[str, str]]:
        """(username, seat) pairs in a stable order."""
        return [(self.presiding_judge, "presiding"), *((p, "panel") for p in self.panel),
                (self.clerk, "clerk")]

    @property
    def people(self) -> frozenset[str]:
        return frozenset(u for u, _ in self.seats())


def check_person(session: Session, username: str, role: str, court: str, what: str) -> None:
    """Raise 400 unless `username` is an active `role` of `court`."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or user.role != role or user.court_code != court:
        raise HearingError(400, f"{what} must be an active {role} of court {court}",
                           {"field": what, "username": username[:64]})


def check_bench(session: Session, bench: Bench, court: str) -> None:
    """Validate every seat; one person may hold one seat only."""
    if len(bench.panel) > MAX_PANEL:
        raise HearingError(400, f"a panel has at most {MAX_PANEL} members besides the presiding "
                                "judge")
    if len(bench.people) != len(bench.seats()):
        raise HearingError(400, "one person may hold only one seat on the bench")
    check_person(session, bench.presiding_judge, "judge", court, "presiding_judge")
    for member in bench.panel:
        check_person(session, member, "judge", court, "panel")
    check_person(session, bench.clerk, "clerk", court, "clerk")
