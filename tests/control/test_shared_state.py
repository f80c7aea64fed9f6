"""State that agrees across nodes: two apps on one PostgreSQL database, each its own node,
share the limits and run the once-only jobs once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from control.app import build_services, create_app
from control.auth import add_user
from control.core import Core
from control.ratelimit import RateLimit
from recorder.service import RECORDER
from tests.conftest import _OPEN_DATABASES, PASSWORD, make_settings

pytestmark = pytest.mark.postgres

Nodes = tuple[TestClient, TestClient, Core]


@pytest.fixture
async def nodes(aiohttp_client, pg_url: str, tmp_path: Path) -> Nodes:
    """Nodes a and b serving the same database (lock-out: 5 failures per 60 s)."""
    clients, first = [], None
    for node in ("a", "b"):
        settings = make_settings(tmp_path / node, COURTAV_DATABASE_URL=pg_url,
                                 COURTAV_NODE_ID=node)
        svc = build_services(settings)
        _OPEN_DATABASES.append(svc.db)
        if first is None:
            first = svc
            with svc.db.session() as session:
                add_user(session, svc.registry, "clerk.daoli", "clerk", "HL0102", PASSWORD)
        clients.append(await aiohttp_client(create_app(settings, svc)))
    assert first is not None and first.settings.node.id == "a"
    return clients[0], clients[1], first


async def _login(client: TestClient, password: str) -> int:
    resp = await client.post("/api/login", json={"username": "clerk.daoli", "password": password})
    return resp.status


async def test_bad_logins_over_two_nodes_lock_the_account_on_both(nodes: Nodes) -> None:
    a, b, _ = nodes
    statuses = [await _login((a, b)[i % 2], "wrong guess") for i in range(5)]
    assert statuses == [401] * 5
    assert await _login(a, "wrong guess") == 429
    assert await _login(b, "wrong guess") == 429
    assert await _login(b, PASSWORD) == 429  # locked for the rest of the window, everywhere


async def test_concurrent_bad_logins_cannot_exceed_the_limit(nodes: Nodes) -> None:
    a, b, _ = nodes
    statuses = await asyncio.gather(*(_login((a, b)[i % 2], "wrong guess") for i in range(16)))
    assert Counter(statuses) == {401: 5, 429: 11}


async def test_a_good_login_is_no_failure_and_clears_the_users(nodes: Nodes) -> None:
    a, b, svc = nodes
    for _ in range(4):
        assert await _login(a, "wrong guess") == 401
    assert await _login(b, PASSWORD) == 200
    # The user's failures are gone; the address keeps its 4 and the success added none.
    assert await _login(a, "wrong guess") == 401
    assert await _login(b, "wrong guess") == 429
    assert await RateLimit(svc.db, "login", 5, 60).check("user:clerk.daoli") == 0


async def test_petition_sign_ups_from_one_address_share_one_limit(nodes: Nodes) -> None:
    a, b, svc = nodes
    per_address = svc.settings.hearing.petition_signups_per_address
    statuses = []
    for i in range(per_address + 2):  # every attempt counts, a malformed one too
        resp = await (a, b)[i % 2].post("/api/petitions", json={"court": "HL0102"})
        statuses.append(resp.status)
    assert statuses[:per_address] == [400] * per_address
    assert statuses[per_address:] == [429, 429]


async def test_one_retention_run_across_the_nodes(nodes: Nodes) -> None:
    a, b, _ = nodes
    jobs = [client.app[RECORDER].retention for client in (a, b)]
    reports = await asyncio.gather(*(job.run_if_due() for job in jobs))
    assert sum(r is not None for r in reports) == 1
    assert [job.runs for job in jobs] in ([1, 0], [0, 1])
    # Asked again within the day, neither node runs it (the winner included).
    assert await asyncio.gather(*(job.run_if_due() for job in jobs)) == [None, None]
    assert sum(job.runs for job in jobs) == 1
    leases = jobs[0].leases
    assert leases is not None
    assert await leases.holder_of("retention") == ("a" if jobs[0].runs else "b")
