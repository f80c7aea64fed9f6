"""The same schema and code on PostgreSQL (CI starts one; elsewhere set the URL to run it)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from control.app import build_services, create_app
from control.auth import add_user
from control.config import Settings
from tests.conftest import PASSWORD, auth, login

pytestmark = pytest.mark.postgres


async def test_schema_and_api_on_postgres(pg_url: str, aiohttp_client,
                                          settings: Settings) -> None:
    # pg_url first: its database is dropped only after the app (and its node) stopped.
    pg_settings = replace(settings, database_url=pg_url)
    svc = build_services(pg_settings)
    assert svc.db.engine.dialect.name == "postgresql"
    assert len(svc.registry.rooms) == 888
    with svc.db.session() as session:
        add_user(session, svc.registry, "pres.harbin", "president", "HL01", PASSWORD)
    # Loading the province again on the same database changes nothing.
    again = build_services(pg_settings)
    assert again.registry.rooms == svc.registry.rooms
    again.db.close()
    client: TestClient = await aiohttp_client(create_app(pg_settings, svc))
    token = await login(client, "pres.harbin")
    r = await client.get("/api/courtrooms", headers=auth(token))
    body = await r.json()
    assert 0 < body["total"] < 888
    me = await client.get("/api/me", headers=auth(token))
    assert (await me.json())["court"] == "HL01"
    with svc.db.session() as session:
        assert svc.audit.verify(session) is None
        count = session.execute(text("select count(*) from audit_events")).scalar_one()
    assert count == 1
