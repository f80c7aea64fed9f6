"""The viewing audit: queried over one's own subtree; the chain check finds an altered row."""

from __future__ import annotations

from datetime import timedelta

from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from control.core import Core
from control.db import utcnow
from control.models import AuditEvent
from control.policy import Principal
from tests.conftest import auth

VIEWS = [  # (who, action, target, court)
    (Principal("pres.harbin", "president", "HL01", 1), "live.view.start",
     "rooms/HL0102-01/main", "HL0102"),
    (Principal("judge.daoli", "judge", "HL0102", 2), "recording.play", "recording/5", "HL0102"),
    (Principal("judge.nangang", "judge", "HL0103", 3), "live.view.start",
     "rooms/HL0103-01/main", "HL0103"),
    (Principal("pres.hl", "president", "HL", 4), "recording.export", "recording/9", "HL"),
    (Principal("admin", "admin", None, 5), "user.add", "user/x", None),
]


async def record_views(services: Core) -> None:
    for who, action, target, court in VIEWS:
        await services.audit.record(who, action, target, court=court, address="10.1.2.3")


async def query(client: TestClient, token: str, q: str = "", status: int = 200) -> dict:
    r = await client.get(f"/api/audit{q}", headers=auth(token))
    assert r.status == status, await r.text()
    return await r.json()


def actions(body: dict) -> list[tuple[str, str]]:
    return sorted((i["actor"], i["action"]) for i in body["items"]
                  if not i["action"].startswith(("audit.", "auth.", "login")))


async def test_audit_query_over_ones_own_subtree(client: TestClient, tokens: dict[str, str],
                                                 services: Core) -> None:
    await record_views(services)
    everything = await query(client, tokens["admin"])
    assert ("admin", "user.add") in actions(everything)  # courtless rows: province-wide only
    harbin = await query(client, tokens["pres.harbin"])
    assert actions(harbin) == [("judge.daoli", "recording.play"),
                               ("judge.nangang", "live.view.start"),
                               ("pres.harbin", "live.view.start")]
    daoli = await query(client, tokens["pres.daoli"], "?action=live.*")
    assert actions(daoli) == [("pres.harbin", "live.view.start")]
    item = daoli["items"][0]
    assert item["court"] == "HL0102" and item["address"] == "10.1.2.3"
    assert item["at"].endswith("Z") and item["role"] == "president"
    assert actions(await query(client, tokens["admin"], "?court=HL0103")) == [
        ("judge.nangang", "live.view.start")]
    assert actions(await query(client, tokens["admin"], "?actor=pres.hl")) == [
        ("pres.hl", "recording.export")]
    soon = (utcnow() + timedelta(minutes=1)).isoformat()
    assert (await query(client, tokens["admin"], f"?from={soon.replace('+', '%2B')}"))[
        "total"] == 0
    page = await query(client, tokens["admin"], "?limit=2&offset=1")
    assert len(page["items"]) == 2 and page["total"] >= 5
    await query(client, tokens["pres.daoli"], "?court=HL0103", status=404)
    await query(client, tokens["judge.daoli"], status=403)
    await query(client, tokens["sec.harbin"], status=403)
    await query(client, tokens["admin"], "?from=yesterday", status=400)
    # Reading the audit is itself recorded.
    with services.db.session() as s:
        readers = set(s.scalars(select(AuditEvent.actor)
                                .where(AuditEvent.action == "audit.query")))
    assert {"admin", "pres.harbin", "pres.daoli"} <= readers


async def test_verify_finds_an_altered_row(client: TestClient, tokens: dict[str, str],
                                           services: Core) -> None:
    await record_views(services)
    r = await client.get("/api/audit/verify", headers=auth(tokens["admin"]))
    assert r.status == 200
    body = await r.json()
    assert body["intact"] is True and body["broken_at"] is None and body["records"] >= 5
    r = await client.get("/api/audit/verify", headers=auth(tokens["pres.hl"]))
    assert r.status == 403  # even the province's president: the chain is the admins' to check
    with services.db.session() as s:
        row = s.scalars(select(AuditEvent).where(AuditEvent.actor == "judge.nangang")).one()
        altered = row.id
        # Someone with database access hides who watched: the chain no longer adds up.
        s.execute(update(AuditEvent).where(AuditEvent.id == altered)
                  .values(actor="nobody"))
    body = await (await client.get("/api/audit/verify", headers=auth(tokens["admin"]))).json()
    assert body == {"intact": False, "broken_at": altered, "records": body["records"]}
