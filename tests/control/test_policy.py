"""Every role against targets in its own, a child, a parent and a sibling court."""

from __future__ import annotations

import pytest

from control.core import Core
from control.errors import ApiError
from control.policy import ACTIONS, PUBLIC, Policy, Principal, Target

# The users sit at: HL (high) > HL01 (Harbin intermediate) > HL0102 (Daoli basic).
# HL0103 (Nangang) is Daoli's sibling, HL02 (Qiqihar) is Harbin's sibling.
ADMIN = Principal("admin", "admin", None, 1)
PRES_HARBIN = Principal("pres", "president", "HL01", 2)
PRES_DAOLI = Principal("pres2", "president", "HL0102", 3)
JUDGE = Principal("judge", "judge", "HL0102", 4)
CLERK = Principal("clerk", "clerk", "HL0102", 5)
SEC = Principal("sec", "security", "HL01", 6)

OWN, CHILD, PARENT, SIBLING = "own", "child", "parent", "sibling"
COURT_OF: dict[str, dict[str, str | None]] = {
    # relation -> court of the target, for a user at HL01 / for a user at HL0102
    "HL01": {OWN: "HL01", CHILD: "HL0102", PARENT: "HL", SIBLING: "HL02"},
    "HL0102": {OWN: "HL0102", CHILD: None, PARENT: "HL01", SIBLING: "HL0103"},
}

Y, N = True, False
# (who, action, kind) -> allowed for (own, child, parent, sibling); None = no child court exists.
TABLE = [
    (PRES_HARBIN, "room.view", "room", (Y, Y, N, N)),
    (PRES_HARBIN, "room.status", "room", (Y, Y, N, N)),
    (PRES_HARBIN, "recording.view", "recording", (Y, Y, N, N)),
    (PRES_HARBIN, "audit.view", "court", (Y, Y, N, N)),
    (PRES_HARBIN, "room.publish", "room", (N, N, N, N)),
    (PRES_HARBIN, "hearing.schedule", "hearing", (N, N, N, N)),
    (PRES_HARBIN, "user.manage", "court", (N, N, N, N)),
    (PRES_DAOLI, "room.view", "room", (Y, None, N, N)),
    (PRES_DAOLI, "court.view", "court", (Y, None, N, N)),
    (JUDGE, "room.view", "room", (Y, None, N, N)),
    (JUDGE, "room.status", "room", (Y, None, N, N)),
    (JUDGE, "hearing.view", "hearing", (N, None, N, N)),  # not on the bench: see below
    (JUDGE, "room.record", "room", (N, None, N, N)),
    (JUDGE, "alert.ack", "alert", (N, None, N, N)),
    (CLERK, "room.view", "room", (Y, None, N, N)),
    (CLERK, "room.publish", "room", (Y, None, N, N)),
    (CLERK, "room.record", "room", (Y, None, N, N)),
    (CLERK, "hearing.schedule", "hearing", (Y, None, N, N)),
    (CLERK, "hearing.mark", "hearing", (Y, None, N, N)),
    (CLERK, "audit.view", "court", (N, None, N, N)),
    (SEC, "room.view", "room", (Y, Y, N, N)),
    (SEC, "wall.use", "court", (Y, Y, N, N)),
    (SEC, "alert.ack", "alert", (Y, Y, N, N)),
    (SEC, "recording.view", "recording", (N, N, N, N)),
    (SEC, "hearing.view", "hearing", (N, N, N, N)),
    (ADMIN, "room.view", "room", (Y, Y, Y, Y)),
    (ADMIN, "user.manage", "court", (Y, Y, Y, Y)),
]


@pytest.fixture
def policy(services: Core) -> Policy:
    return services.policy


@pytest.mark.parametrize(("who", "action", "kind", "expected"), TABLE,
                         ids=lambda v: getattr(v, "role", None) or str(v))
def test_role_against_relations(policy: Policy, who: Principal, action: str, kind: str,
                                expected: tuple[bool | None, ...]) -> None:
    home = who.court or "HL01"
    for relation, allowed in zip((OWN, CHILD, PARENT, SIBLING), expected, strict=True):
        court = COURT_OF[home][relation]
        if allowed is None:
            assert court is None
            continue
        target = Target(kind=kind, court=court, room=f"{court}-01" if kind == "room" else None)
        assert policy.can(who, action, target) is allowed, (who.role, action, relation)


def test_every_action_is_covered_for_admin(policy: Policy) -> None:
    for action in ACTIONS:
        assert policy.can(ADMIN, action, Target(court="HL0103"))


def test_judge_sees_only_hearings_on_their_bench(policy: Policy) -> None:
    mine = Target(kind="hearing", court="HL0102", room="HL0102-01", staff=frozenset({"judge"}))
    other = Target(kind="hearing", court="HL0102", room="HL0102-01", staff=frozenset({"x"}))
    assert policy.can(JUDGE, "hearing.view", mine)
    assert policy.can(JUDGE, "hearing.mark", mine)
    assert not policy.can(JUDGE, "hearing.view", other)
    rec = Target(kind="recording", court="HL0102", staff=frozenset({"judge"}))
    assert policy.can(JUDGE, "recording.view", rec)
    assert not policy.can(JUDGE, "recording.export", rec)
    # On the bench elsewhere grants nothing outside their court.
    away = Target(kind="hearing", court="HL0103", staff=frozenset({"judge"}))
    assert not policy.can(JUDGE, "hearing.view", away)


def test_public_sees_only_disclosed(policy: Policy) -> None:
    for action in ("room.view", "recording.view", "hearing.view"):
        assert policy.can(PUBLIC, action, Target(court="HL0102", disclosed=True))
        assert not policy.can(PUBLIC, action, Target(court="HL0102"))
    assert not policy.can(PUBLIC, "room.status", Target(court="HL0102", disclosed=True))
    assert not policy.can(PUBLIC, "court.view", Target(court="HL"))
    assert policy.visible_courts(PUBLIC) == frozenset()


def test_private_consultation_is_closed_to_everyone(policy: Policy) -> None:
    target = Target(kind="room", court="HL0102", room="HL0102-01", private=True)
    for who in (ADMIN, PRES_HARBIN, PRES_DAOLI, JUDGE, CLERK, SEC, PUBLIC):
        for action in ("room.view", "recording.view", "room.record"):
            assert not policy.can(who, action, target), who.role


def test_visible_courts_follow_the_tree(services: Core, policy: Policy) -> None:
    reg = services.registry
    assert policy.visible_courts(ADMIN) == frozenset(reg.courts)
    harbin = policy.visible_courts(PRES_HARBIN)
    assert harbin == reg.subtree("HL01")
    assert "HL" not in harbin and "HL02" not in harbin and "HL0102" in harbin
    assert policy.visible_courts(JUDGE) == {"HL0102"}
    assert policy.visible_courts(SEC, "wall.use") == reg.subtree("HL01")
    assert policy.visible_courts(JUDGE, "wall.use") == frozenset()


def test_unknown_role_and_action(policy: Policy) -> None:
    stranger = Principal("x", "superuser", "HL", 9)
    assert not policy.can(stranger, "room.view", Target(court="HL"))
    with pytest.raises(ValueError, match="unknown action"):
        policy.can(ADMIN, "room.destroy", Target(court="HL"))


def test_require_refuses_as_the_api_answers(policy: Policy) -> None:
    """One refusal for routes and domain code alike: who asks decides 401, 403 or 404."""
    sibling = Target(kind="room", court="HL0103", room="HL0103-01")
    policy.require(PRES_HARBIN, "room.view", Target(kind="room", court="HL0102"))
    with pytest.raises(ApiError) as anonymous:
        policy.require(PUBLIC, "room.view", sibling, hide=True)
    assert anonymous.value.status == 401
    assert anonymous.value.headers == {"WWW-Authenticate": "Bearer"}
    with pytest.raises(ApiError) as hidden:
        policy.require(PRES_DAOLI, "room.view", sibling, hide=True)
    assert hidden.value.status == 404
    with pytest.raises(ApiError) as forbidden:
        policy.require(PRES_DAOLI, "room.view", sibling)
    assert forbidden.value.status == 403 and forbidden.value.detail == {"action": "room.view"}
