"""`/api/me` tells the pages what the one policy lets the user do, court by court."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from control.core import Core
from control.policy import ACTIONS, Principal, Target
from tests.conftest import PASSWORD, TEST_USERS, auth

# One user per role; their answers are compared with `Policy.can` on every court.
USERS = ("admin", "pres.harbin", "judge.daoli", "clerk.daoli", "sec.harbin")


def courts_of(grant: Any, everywhere: frozenset[str]) -> frozenset[str]:
    return everywhere if grant == "*" else frozenset(grant)


async def test_grants_are_the_policys_answer_on_every_court(
    client: TestClient, services: Core, tokens: dict[str, str]
) -> None:
    everywhere = frozenset(services.registry.courts)
    for username in USERS:
        r = await client.get("/api/me", headers=auth(tokens[username]))
        assert r.status == 200
        me = await r.json()
        role, court = TEST_USERS[username]
        assert (me["role"], me["court"]) == (role, court)
        who = Principal(username, role, court, user_id=1)
        assert set(me["grants"]) <= ACTIONS
        for action in sorted(ACTIONS):
            granted = courts_of(me["grants"].get(action, []), everywhere)
            allowed = frozenset(c for c in everywhere
                                if services.policy.can(who, action, Target(court=c)))
            assert granted == allowed, (username, action)
        # A grant limited to the bench: a hearing of the court, but only where they sit on it.
        for action, limit in me["limits"].items():
            assert limit == "bench" and action in me["grants"], (username, action)
            own = Target(kind="hearing", court=court)
            assert not services.policy.can(who, action, own)
            assert services.policy.can(who, action, Target(kind="hearing", court=court,
                                                           staff=frozenset({username})))


async def test_grants_per_role_as_the_pages_see_them(
    client: TestClient, services: Core, tokens: dict[str, str]
) -> None:
    async def me(username: str) -> dict[str, Any]:
        r = await client.get("/api/me", headers=auth(tokens[username]))
        return dict(await r.json())

    admin = await me("admin")
    assert admin["grants"] == dict.fromkeys(sorted(ACTIONS), "*") and admin["limits"] == {}
    assert admin["roles"] == {"admin": "everywhere", "president": "subtree", "judge": "own court",
                              "clerk": "own court", "security": "subtree"}
    harbin = sorted(services.registry.subtree("HL01"))
    pres = await me("pres.harbin")
    assert pres["grants"]["wall.manage"] == harbin and "hearing.schedule" not in pres["grants"]
    judge = await me("judge.daoli")
    assert judge["grants"]["hearing.mark"] == ["HL0102"] and "wall.use" not in judge["grants"]
    assert judge["limits"] == dict.fromkeys(
        ["hearing.mark", "hearing.view", "recording.seal", "recording.view"], "bench")
    clerk = await me("clerk.daoli")
    assert clerk["grants"]["hearing.schedule"] == ["HL0102"] and clerk["limits"] == {}
    assert "roles" not in clerk  # only who manages users is told the roles
    assert "recording.export" not in clerk["grants"]
    sec = await me("sec.harbin")
    assert set(sec["grants"]) == {"court.view", "room.status", "room.view", "alert.view",
                                  "alert.ack", "wall.use"}
    # The login answer describes the user the same way.
    client.session.cookie_jar.clear()
    r = await client.post("/api/login", json={"username": "clerk.daoli",
                                              "password": PASSWORD})
    assert (await r.json())["user"] == clerk
