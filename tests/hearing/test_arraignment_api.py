"""Arraignment API per role and credential: the site's stream window, identity on camera, the
hearing record and the defendant's signature; every refusal is a 4xx JSON error."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import zlib

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from control.core import CORE
from control.live import LIVE
from hearing.models import HearingEvent
from media import TrackInfo
from tests.conftest import auth
from tests.hearing.conftest import SESSION_TOKENS, move
from tests.hearing.remote import (
    CLERK,
    DEFENDANT_ID_NUMBER,
    JUDGE,
    ROOM,
    book_now,
    criminal_case,
    data_url,
    new_site,
    probe,
    signature_png,
)


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


async def arraignment(client: TestClient) -> tuple[int, str, int, int]:
    """(hearing id, site credential, defendant id, lawyer id) of a booked arraignment."""
    _, credential = await new_site(client)
    case_id, defendant, lawyer = await criminal_case(client)
    hearing = await book_now(client, case_id, "HL-KSS01", start_h=3, end_h=4)
    return hearing["id"], credential, defendant, lawyer


async def test_the_site_publishes_only_its_own_hearing_in_its_window(client: TestClient) -> None:
    hid, credential, _, _ = await arraignment(client)
    _, other = await new_site(client, code="HL-KSS02")
    path = f"sites/HL-KSS01/{hid}"
    # Three hours before the start: too early (the window opens 30 minutes before).
    assert await probe(client, "whip", path, credential) == 403
    await move(client, CLERK, hid, "opened")
    assert await probe(client, "whip", path, credential) == 400  # authorized
    assert await probe(client, "whip", path, other) == 403  # another site's credential
    assert await probe(client, "whip", f"sites/HL-KSS02/{hid}", other) == 404  # not its hearing
    assert await probe(client, "whip", f"sites/HL-KSS01/{hid + 1}", credential) == 404
    assert await probe(client, "whip", path, "cts_" + "x" * 43) == 401  # forged
    assert await probe(client, "whip", path, None) == 401
    assert await probe(client, "whip", path, CLERK) == 403  # staff never publish as the site
    assert await probe(client, "whip", path, SESSION_TOKENS["admin"]) == 403
    assert await probe(client, "whep", path, credential) == 403  # a site publishes, not views
    await move(client, CLERK, hid, "closed")
    assert await probe(client, "whip", path, credential) == 403


async def test_staff_of_the_room_view_the_site_and_the_site_views_the_courtroom(
        client: TestClient) -> None:
    hid, credential, _, _ = await arraignment(client)
    streams = client.app[LIVE].streams
    site_stream = streams.publish(f"sites/HL-KSS01/{hid}", [TrackInfo("video", "H264", 90000)])
    room_stream = streams.publish(f"rooms/{ROOM}/main", [TrackInfo("video", "H264", 90000)])
    sub_stream = streams.publish(f"rooms/{ROOM}/sub", [TrackInfo("video", "H264", 90000)])
    other_room = streams.publish("rooms/HL0102-02/main", [TrackInfo("video", "H264", 90000)])
    path = f"sites/HL-KSS01/{hid}"
    for name in ("clerk.daoli", "judge.daoli", "pres.harbin", "admin"):
        assert await probe(client, "whep", path, SESSION_TOKENS[name]) == 400, name
    assert await probe(client, "whep", path, SESSION_TOKENS["clerk.nangang"]) == 404
    assert await probe(client, "whep", path, None) == 401
    # The courtroom's main feed: only while the site may connect, and nothing else.
    assert await probe(client, "whep", f"rooms/{ROOM}/main", credential) == 401
    await move(client, CLERK, hid, "opened")
    assert await probe(client, "whep", f"rooms/{ROOM}/main", credential) == 400
    assert await probe(client, "whep", f"rooms/{ROOM}/sub", credential) == 401
    assert await probe(client, "whep", "rooms/HL0102-02/main", credential) == 401
    for pub in (site_stream, room_stream, sub_stream, other_room):
        pub.close()


async def test_the_clerk_confirms_identity_without_the_id_number(client: TestClient) -> None:
    hid, credential, defendant, lawyer = await arraignment(client)
    url = f"/api/hearings/{hid}/identity"
    r = await client.post(url, json={"party_id": defendant}, headers=auth(CLERK))
    assert r.status == 409  # not in session yet
    await move(client, CLERK, hid, "opened")
    r = await client.post(url, json={"party_id": lawyer}, headers=auth(CLERK))
    assert r.status == 400 and "defendant" in (await r.json())["error"]
    for token, status in ((SESSION_TOKENS["judge.daoli2"], 404), (None, 401),
                          (credential, 401), (SESSION_TOKENS["sec.daoli"], 404)):
        r = await client.post(url, json={"party_id": defendant},
                              headers=auth(token) if token else {})
        assert r.status == status, (token, await r.text())
    r = await client.post(url, json={"party_id": "one"}, headers=auth(CLERK))
    assert r.status == 400
    r = await client.post(url, json={"party_id": defendant, "note": "核对身份证与面貌"},
                          headers=auth(CLERK))
    assert r.status == 201, await r.text()
    body = await r.json()
    assert body["name"] == "张三" and body["party"] == defendant and body["by"] == "clerk.daoli"
    with client.app[CORE].db.session() as s:
        events = [e.detail for e in s.scalars(select(HearingEvent)
                                              .where(HearingEvent.kind == "identity"))]
    assert len(events) == 1 and DEFENDANT_ID_NUMBER not in json.dumps(events)
    assert DEFENDANT_ID_NUMBER not in json.dumps(body)


async def closed_with_identity(client: TestClient) -> tuple[int, str, int]:
    hid, credential, defendant, _ = await arraignment(client)
    await move(client, CLERK, hid, "opened")
    r = await client.post(f"/api/hearings/{hid}/identity", json={"party_id": defendant},
                          headers=auth(CLERK))
    assert r.status == 201
    await move(client, CLERK, hid, "closed")
    return hid, credential, defendant


async def test_the_defendant_signs_the_record_at_the_site(client: TestClient) -> None:
    hid, credential, defendant = await closed_with_identity(client)
    r = await client.get(f"/api/hearings/{hid}/record", headers=bearer(credential))
    assert r.status == 200, await r.text()
    record = await r.json()
    assert "（2024）黑0102刑初101号" in record["text"] and "identity confirmed" in record["text"]
    assert "张三" in record["text"] and DEFENDANT_ID_NUMBER not in record["text"]
    assert record["sha256"] == hashlib.sha256(record["text"].encode()).hexdigest()
    assert record["may_sign"] and record["defendants"] == [{"id": defendant, "name": "张三"}]
    png = signature_png()
    r = await client.post(f"/api/hearings/{hid}/signature",
                          json={"png": data_url(png), "record_sha256": record["sha256"]},
                          headers=bearer(credential))
    assert r.status == 201, await r.text()
    signed = await r.json()
    assert signed["record_sha256"] == record["sha256"] and signed["party"] == defendant
    assert signed["png_sha256"] == hashlib.sha256(png).hexdigest()
    assert (signed["width"], signed["height"]) == (300, 100)
    # Signing again is refused; the record as signed stays the same text.
    r = await client.post(f"/api/hearings/{hid}/signature",
                          json={"png": data_url(png), "record_sha256": record["sha256"]},
                          headers=bearer(credential))
    assert r.status == 409
    r = await client.get(f"/api/hearings/{hid}/record", headers=bearer(credential))
    assert (await r.json())["sha256"] == record["sha256"]
    # Staff fetch the signature and the text it signs.
    r = await client.get(f"/api/hearings/{hid}/signatures", headers=auth(JUDGE))
    items = (await r.json())["items"]
    assert len(items) == 1 and items[0]["record_text"] == record["text"]
    r = await client.get(f"/api/hearings/{hid}/signatures/{items[0]['id']}/image",
                         headers=auth(CLERK))
    assert r.status == 200 and r.content_type == "image/png" and await r.read() == png
    for token, status in ((SESSION_TOKENS["judge.daoli2"], 404), (credential, 401)):
        r = await client.get(f"/api/hearings/{hid}/signatures", headers=auth(token))
        assert r.status == status
    r = await client.get(f"/api/hearings/{hid}/record", headers=auth(SESSION_TOKENS["admin"]))
    assert r.status == 200 and (await r.json())["signatures"][0]["id"] == items[0]["id"]


def png_with(width: int, height: int) -> bytes:
    """A minimal valid greyscale PNG of any size (to test the limits)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + b"\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                              0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def corrupt(png: bytes) -> bytes:
    data = bytearray(png)
    data[40] ^= 0xFF  # inside the image data: its chunk CRC no longer matches
    return bytes(data)


@pytest.mark.parametrize(("png", "status", "word"), [
    ("data:image/jpeg;base64,/9j/4AAQSkZJRg==", 400, "PNG"),
    (base64.b64encode(b"\xff\xd8\xff\xe0 not a png at all").decode(), 400, "not a PNG"),
    ("data:image/png;base64,@@@@", 400, "base64"),
    (data_url(b"A" * 300_000), 413, "larger"),
    (data_url(png_with(4000, 20)), 400, "pixels"),
    (data_url(png_with(8, 8)), 400, "pixels"),
    (data_url(png_with(100, 50)[:-20]), 400, "truncated"),
    (data_url(corrupt(png_with(100, 50))), 400, "corrupt"),
    (12345, 400, "png"),
])
async def test_a_signature_must_be_a_reasonable_png(client: TestClient, png: object,
                                                    status: int, word: str) -> None:
    hid, credential, _ = await closed_with_identity(client)
    r = await client.get(f"/api/hearings/{hid}/record", headers=bearer(credential))
    sha = (await r.json())["sha256"]
    r = await client.post(f"/api/hearings/{hid}/signature",
                          json={"png": png, "record_sha256": sha}, headers=bearer(credential))
    body = await r.json()
    assert r.status == status and word.lower() in body["error"].lower(), body


async def test_signing_is_refused_to_the_wrong_site_time_record_or_person(
        client: TestClient) -> None:
    hid, credential, defendant, lawyer = await arraignment(client)
    _, other = await new_site(client, code="HL-KSS02")
    good = data_url(signature_png())
    url = f"/api/hearings/{hid}/signature"
    r = await client.get(f"/api/hearings/{hid}/record", headers=bearer(credential))
    assert r.status == 403  # scheduled: not yet open to the site
    await move(client, CLERK, hid, "opened")
    r = await client.get(f"/api/hearings/{hid}/record", headers=bearer(credential))
    sha = (await r.json())["sha256"]
    r = await client.post(url, json={"png": good, "record_sha256": sha},
                          headers=bearer(credential))
    assert r.status == 409 and "after the hearing ends" in (await r.json())["error"]
    await move(client, CLERK, hid, "closed")
    sha = (await (await client.get(f"/api/hearings/{hid}/record",
                                   headers=bearer(credential))).json())["sha256"]
    cases = [
        (bearer(other), {"png": good, "record_sha256": sha}, 404),
        (bearer("cts_" + "y" * 43), {"png": good, "record_sha256": sha}, 401),
        (auth(CLERK), {"png": good, "record_sha256": sha}, 401),
        (bearer(credential), {"png": good, "record_sha256": "0" * 64}, 409),
        (bearer(credential), {"png": good, "record_sha256": sha, "party_id": lawyer}, 400),
        (bearer(credential), {"png": good}, 400),
        (bearer(credential), {"png": good, "record_sha256": sha, "extra": 1}, 400),
    ]
    for headers, body, status in cases:
        r = await client.post(url, json=body, headers=headers)
        assert r.status == status and "error" in await r.json(), (body, await r.text())
    r = await client.post(f"/api/hearings/{hid + 1}/signature",
                          json={"png": good, "record_sha256": sha}, headers=bearer(credential))
    assert r.status == 404
    r = await client.post(url, json={"png": good, "record_sha256": sha, "party_id": defendant},
                          headers=bearer(credential))
    assert r.status == 201
