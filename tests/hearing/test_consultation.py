"""A private consultation between the defence lawyer and the defendant at the remote site:
real aiortc peers at both ends, nobody else may view or publish, court staff and the admin
included, and nothing of it is ever recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from control.config import Settings
from control.core import CORE
from control.live import LIVE
from control.models import AuditEvent
from hearing.recording import SYSTEM
from recorder.models import Recording
from recorder.service import RECORDER, RecorderConflict
from tests.conftest import auth
from tests.hearing.conftest import SESSION_TOKENS
from tests.hearing.remote import CLERK, JUDGE, ROOM, book_now, criminal_case, new_site, probe
from tests.media.peers import WhepViewer, WhipPublisher, wait_until

STAFF = ("clerk.daoli", "judge.daoli", "pres.daoli", "pres.harbin", "pres.hl", "sec.daoli",
         "admin")


def recorded_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def consultation(client: TestClient) -> tuple[int, str, dict[str, str], int, int]:
    """(hearing, site credential, the opened consultation with its lawyer key, defendant,
    lawyer)."""
    _, credential = await new_site(client)
    case_id, defendant, lawyer = await criminal_case(client)
    hid = (await book_now(client, case_id, "HL-KSS01", start_h=3, end_h=4))["id"]
    url = f"/api/hearings/{hid}/consultation-codes"
    r = await client.post(url, json={"party_id": lawyer}, headers=auth(CLERK))
    assert r.status == 201, await r.text()
    code = (await r.json())["code"]
    r = await client.post(f"/api/hearings/{hid}/consultations", headers=bearer(code))
    assert r.status == 201, await r.text()
    opened = await r.json()
    # The code is spent: whoever else saw it cannot use it again.
    r = await client.post(f"/api/hearings/{hid}/consultations", headers=bearer(code))
    assert r.status == 401
    return hid, credential, opened, defendant, lawyer


async def test_codes_are_issued_by_the_court_to_the_defence_lawyer_only(
        client: TestClient) -> None:
    _, credential = await new_site(client)
    case_id, defendant, lawyer = await criminal_case(client)
    hid = (await book_now(client, case_id, "HL-KSS01", start_h=3, end_h=4))["id"]
    url = f"/api/hearings/{hid}/consultation-codes"
    for headers, body, status in (
        (auth(JUDGE), {"party_id": lawyer}, 403),  # on the bench, but does not schedule
        (auth(SESSION_TOKENS["clerk.nangang"]), {"party_id": lawyer}, 404),
        ({}, {"party_id": lawyer}, 401),
        (bearer(credential), {"party_id": lawyer}, 401),
        (auth(CLERK), {"party_id": defendant}, 400),  # not a lawyer
        (auth(CLERK), {"party_id": "x"}, 400),
    ):
        r = await client.post(url, json=body, headers=headers)
        assert r.status == status and "error" in await r.json(), (body, status)
    r = await client.post(url, json={"party_id": lawyer}, headers=auth(CLERK))
    first = (await r.json())["code"]
    r = await client.post(url, json={"party_id": lawyer}, headers=auth(CLERK))
    second = (await r.json())["code"]
    consult = f"/api/hearings/{hid}/consultations"
    for secret, status in ((first, 401), (CLERK, 401), (credential, 401), ("ccc_forged", 401)):
        r = await client.post(consult, headers=bearer(secret))
        assert r.status == status, secret  # a new code voids the unused one before it
    r = await client.post(f"/api/hearings/{hid + 1}/consultations", headers=bearer(second))
    assert r.status == 401  # a code is for its own hearing
    r = await client.post(consult, headers=bearer(second))
    assert r.status == 201


async def test_only_the_lawyer_and_the_site_see_each_other_and_nothing_is_recorded(
        client: TestClient, settings: Settings) -> None:
    hid, credential, opened, _, _ = await consultation(client)
    key, cid = opened["lawyer_key"], opened["id"]
    site_path, lawyer_path = opened["site_path"], opened["lawyer_path"]
    assert site_path == f"consult/{cid}/site" and lawyer_path == f"consult/{cid}/lawyer"
    site = await WhipPublisher(client, site_path, token=credential).start()
    lawyer = await WhipPublisher(client, lawyer_path, token=key).start()
    lawyer_sees = await WhepViewer(client, site_path, token=key).start()
    site_sees = await WhepViewer(client, lawyer_path, token=credential).start()
    await lawyer_sees.wait_video(5, timeout=10)
    await site_sees.wait_video(5, timeout=10)
    # Court staff, presidents and the administrator alike: the policy refuses private targets.
    for path in (site_path, lawyer_path):
        for name in STAFF:
            assert await probe(client, "whep", path, SESSION_TOKENS[name]) == 403, name
            assert await probe(client, "whip", path, SESSION_TOKENS[name]) == 403, name
        assert await probe(client, "whep", path, None) == 401
    _, other_site = await new_site(client, code="HL-KSS02")
    assert await probe(client, "whep", site_path, other_site) == 403
    assert await probe(client, "whip", site_path, key) == 403  # each publishes its own side
    assert await probe(client, "whep", lawyer_path, key) == 403
    assert await probe(client, "whep", f"consult/{'0' * 32}/site", key) == 404
    # Never recorded: the recorder refuses the path whoever asks, and nothing was written.
    recorder = client.app[RECORDER]
    room = client.app[CORE].registry.rooms[ROOM]
    for path in (site_path, lawyer_path):
        with pytest.raises(RecorderConflict, match="private"):
            await recorder.start_recording(room, "consult", SYSTEM, f"hearing:{hid}", path=path)
    await client.app[CORE].bus.drain()  # whatever the attempts set off has run
    with client.app[CORE].db.session() as s:
        assert s.scalar(select(func.count()).select_from(Recording)) == 0
        audit = [(a.action, a.detail) for a in s.scalars(select(AuditEvent))]
    assert not recorded_files(settings.recordings_dir)
    assert ("consultation.opened", {"consultation": cid, "site": "HL-KSS01"}) in audit
    assert key not in str(audit) and credential not in str(audit)
    # Staff cannot end it either; either side can, and that cuts the streams at once.
    end = f"/api/hearings/{hid}/consultations/{cid}"
    for token in (CLERK, SESSION_TOKENS["admin"]):
        r = await client.delete(end, headers=auth(token))
        assert r.status == 403
    r = await client.delete(end, headers=bearer(key))
    assert r.status == 200 and (await r.json())["ended_by"].startswith("lawyer:")
    sessions = client.app[LIVE].server.sessions
    assert await wait_until(lambda: not any(s.path.startswith("consult/")
                                            for s in sessions.values()), 5)
    assert await probe(client, "whep", site_path, key) == 404
    r = await client.delete(end, headers=bearer(credential))
    assert r.status == 404
    for peer in (site, lawyer, lawyer_sees, site_sees):
        await peer.close()


async def test_the_site_sees_its_open_consultations(client: TestClient) -> None:
    hid, credential, opened, _, _ = await consultation(client)
    r = await client.get("/api/site/hearings", headers=bearer(credential))
    hearings = (await r.json())["hearings"]
    assert [h["id"] for h in hearings] == [hid]
    assert [c["id"] for c in hearings[0]["consultations"]] == [opened["id"]]
    assert "lawyer_key" not in str(hearings)
