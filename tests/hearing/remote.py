"""Helpers of the remote arraignment tests: a site, a criminal case in custody, a hearing that
starts now, signatures as real PNG files, raw WHIP/WHEP authorization probes."""

from __future__ import annotations

import base64
from typing import Any

import cv2
import numpy as np
from aiohttp.test_utils import TestClient

from tests.conftest import auth
from tests.hearing.conftest import SESSION_TOKENS, file_case, from_now

ADMIN, CLERK = SESSION_TOKENS["admin"], SESSION_TOKENS["clerk.daoli"]
JUDGE = SESSION_TOKENS["judge.daoli"]
ROOM = "HL0102-01"
CRIMINAL_CASE = "（2024）黑0102刑初101号"
DEFENDANT_ID_NUMBER = "230102199001011234"


async def new_site(client: TestClient, code: str = "HL-KSS01", court: str = "HL01",
                   kind: str = "detention_centre") -> tuple[dict[str, Any], str]:
    """A site registered by the admin: its JSON and its credential."""
    r = await client.post("/api/sites", json={"code": code, "name": "哈尔滨市第一看守所",
                                              "kind": kind, "court": court},
                          headers=auth(ADMIN))
    assert r.status == 201, await r.text()
    body = await r.json()
    return body, body.pop("credential")


async def criminal_case(client: TestClient) -> tuple[int, int, int]:
    """A criminal case with a defendant in custody and a defence lawyer: (case, defendant,
    lawyer) ids."""
    case = await file_case(client, CLERK, CRIMINAL_CASE, cause="盗窃罪", parties=[
        {"role": "defendant_in_custody", "kind": "natural", "name": "张三",
         "id_number": DEFENDANT_ID_NUMBER},
        {"role": "defence_lawyer", "kind": "natural", "name": "李律师"},
    ])
    by_role = {p["role"]: p["id"] for p in case["parties"]}
    return case["id"], by_role["defendant_in_custody"], by_role["defence_lawyer"]


async def book_now(client: TestClient, case_id: int, site: str | None,
                   start_h: float = 0.1, end_h: float = 2.0, status: int = 201) -> dict[str, Any]:
    """A hearing of `case_id` in ROOM from `start_h` to `end_h` hours from now."""
    body: dict[str, Any] = {"case_id": case_id, "room": ROOM, "starts_at": from_now(start_h),
                            "ends_at": from_now(end_h)}
    if site is not None:
        body["remote_site"] = site
    r = await client.post("/api/hearings", json=body, headers=auth(CLERK))
    assert r.status == status, await r.text()
    return dict(await r.json())


def signature_png(width: int = 300, height: int = 100) -> bytes:
    """A stroke on a transparent canvas, as a browser's canvas.toDataURL() gives."""
    image = np.zeros((height, width, 4), dtype=np.uint8)
    cv2.line(image, (10, height - 20), (width - 10, 20), (0, 0, 0, 255), 3)
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def sdp_headers(token: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/sdp"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


async def probe(client: TestClient, kind: str, path: str, token: str | None) -> int:
    """POST a non-offer to /whip or /whep: 400 (bad SDP) means authorized, past the policy
    (a WHEP probe needs a stream at the path to get that far)."""
    r = await client.post(f"/{kind}/{path}", data="not an offer", headers=sdp_headers(token))
    body = await r.json()
    assert "error" in body, body
    if r.status == 400:
        assert body["error"] == "bad_sdp", body
    return r.status
