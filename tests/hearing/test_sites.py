"""Remote sites: the admin registers them and manages credentials; credentials are shown once,
stored hashed, never logged; hearings link sites that serve their court."""

from __future__ import annotations

import json
import logging

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.core import CORE
from control.models import AuditEvent
from hearing.models import RemoteSite
from hearing.sites import credential_digest
from tests.conftest import auth
from tests.hearing.conftest import SESSION_TOKENS
from tests.hearing.remote import ADMIN, CLERK, book_now, criminal_case, new_site


def site_auth(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


async def test_admin_creates_a_site_and_sees_its_credential_once(
        client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    site, credential = await new_site(client)
    assert credential.startswith("cts_") and len(credential) > 40
    assert site["code"] == "HL-KSS01" and site["enabled"] and site["court"] == "HL01"
    r = await client.get("/api/sites", headers=auth(ADMIN))
    listed = json.dumps(await r.json())
    assert r.status == 200 and "HL-KSS01" in listed
    assert credential not in listed and credential_digest(credential) not in listed
    services = client.app[CORE]
    with services.db.session() as s:
        row = s.get(RemoteSite, "HL-KSS01")
        assert row is not None and row.credential_sha256 == credential_digest(credential)
        audit = json.dumps([[a.action, a.target, a.detail]
                            for a in s.scalars(select(AuditEvent))], ensure_ascii=False)
    assert "site.created" in audit and credential not in audit
    assert credential not in caplog.text
    # The site itself is known by its credential.
    r = await client.get("/api/site/hearings", headers=site_auth(credential))
    assert r.status == 200 and (await r.json())["site"]["code"] == "HL-KSS01"


async def test_only_site_managers_manage_sites(client: TestClient) -> None:
    body = {"code": "HL-KSS02", "name": "x", "kind": "prison", "court": "HL01"}
    for name in ("clerk.daoli", "pres.hl", "judge.daoli"):
        r = await client.post("/api/sites", json=body, headers=auth(SESSION_TOKENS[name]))
        assert r.status == 403 and (await r.json())["error"] == "forbidden"
    r = await client.post("/api/sites", json=body)
    assert r.status == 401
    await new_site(client)
    r = await client.post("/api/sites/HL-KSS01/credential", headers=auth(CLERK))
    assert r.status == 403
    r = await client.patch("/api/sites/HL-KSS01", json={"enabled": False}, headers=auth(CLERK))
    assert r.status == 403
    # Schedulers list the sites their courts may link; a judge (no scheduling) may not list.
    r = await client.get("/api/sites", headers=auth(CLERK))
    assert r.status == 200 and [s["code"] for s in (await r.json())["items"]] == ["HL-KSS01"]
    r = await client.get("/api/sites", headers=auth(SESSION_TOKENS["clerk.nangang"]))
    assert [s["code"] for s in (await r.json())["items"]] == ["HL-KSS01"]  # HL0103 is in HL01
    r = await client.get("/api/sites", headers=auth(SESSION_TOKENS["judge.daoli"]))
    assert r.status == 403


@pytest.mark.parametrize(("body", "status"), [
    ({"code": "hl-lower", "name": "x", "kind": "prison", "court": "HL01"}, 400),
    ({"code": "HL-X", "name": "x", "kind": "jail", "court": "HL01"}, 400),
    ({"code": "HL-X", "name": "x", "kind": "prison", "court": "ZZ99"}, 400),
    ({"code": "HL-X", "name": " ", "kind": "prison", "court": "HL01"}, 400),
    ({"code": "HL-X", "name": "x", "kind": "prison"}, 400),
    ({"code": "HL-X", "name": "x", "kind": "prison", "court": "HL01", "secret": "y"}, 400),
    ({"code": "HL-KSS01", "name": "x", "kind": "prison", "court": "HL01"}, 409),
])
async def test_bad_site_input_is_refused(client: TestClient, body: dict[str, str],
                                         status: int) -> None:
    await new_site(client)
    r = await client.post("/api/sites", json=body, headers=auth(ADMIN))
    assert r.status == status and "error" in await r.json()


async def test_rotating_or_disabling_withdraws_the_credential(client: TestClient) -> None:
    _, old = await new_site(client)
    r = await client.post("/api/sites/HL-KSS01/credential", headers=auth(ADMIN))
    assert r.status == 200
    new = (await r.json())["credential"]
    assert new != old and r.headers["Cache-Control"] == "no-store"
    r = await client.get("/api/site/hearings", headers=site_auth(old))
    assert r.status == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    r = await client.get("/api/site/hearings", headers=site_auth(new))
    assert r.status == 200
    r = await client.patch("/api/sites/HL-KSS01", json={"enabled": False}, headers=auth(ADMIN))
    assert r.status == 200 and (await r.json())["enabled"] is False
    r = await client.get("/api/site/hearings", headers=site_auth(new))
    assert r.status == 401
    r = await client.get("/api/sites", headers=auth(CLERK))
    assert (await r.json())["items"] == []  # a disabled site is not offered for booking
    r = await client.post("/api/sites/NO-SUCH/credential", headers=auth(ADMIN))
    assert r.status == 404
    r = await client.patch("/api/sites/HL-KSS01", json={}, headers=auth(ADMIN))
    assert r.status == 400


async def test_a_hearing_links_an_enabled_site_serving_its_court(client: TestClient) -> None:
    await new_site(client)
    await new_site(client, code="HL-NG01", court="HL0103")  # serves the sibling court only
    await new_site(client, code="HL-JY01", kind="prison")
    await client.patch("/api/sites/HL-JY01", json={"enabled": False}, headers=auth(ADMIN))
    case_id, _, _ = await criminal_case(client)
    for site in ("NO-SUCH", "HL-NG01", "HL-JY01", "bad code!"):
        r_body = await book_now(client, case_id, site, status=400)
        assert "error" in r_body
    hearing = await book_now(client, case_id, "HL-KSS01")
    assert hearing["remote_site"] == "HL-KSS01"
    r = await client.patch(f"/api/hearings/{hearing['id']}", json={"remote_site": None},
                           headers=auth(CLERK))
    assert r.status == 200 and (await r.json())["remote_site"] is None
    r = await client.patch(f"/api/hearings/{hearing['id']}", json={"remote_site": "HL-KSS01"},
                           headers=auth(CLERK))
    assert r.status == 200 and (await r.json())["remote_site"] == "HL-KSS01"
    r = await client.patch(f"/api/hearings/{hearing['id']}", json={"remote_site": 7},
                           headers=auth(CLERK))
    assert r.status == 400
