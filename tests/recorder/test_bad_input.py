"""Bad input on every recorder route added for exports, portions, holds, manifests and the
timeline: odd ids, path tricks, malformed bodies. Always a 4xx JSON error, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from media.sources import Clip
from tests.conftest import auth
from tests.recorder.test_playback_browser import HLS_JS
from tests.recorder.test_routes import make_recording

ODD_IDS = ["abc", "-1", "1e5", "1.0", "0x1f", "99999999999999999999", "%2e%2e", "1%00",
           "１２", "1%2F..%2F2", "%20", "+1"]
BODIES: list[Any] = ["", "null", "[]", "{}", "1", '"x"', '{"from": {}, "to": []}',
                     '{"level": ["sealed"], "reason": {"a": 1}}', '{"hold": null}', "{" * 50,
                     '{"manifest": {"recording": {"id": "1"}}}', "\ud800", "\x00"]


@pytest.fixture
async def rec(rclient: TestClient, tokens: dict[str, str], clip: Clip) -> dict[str, Any]:
    return await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=2)


def paths(rec_id: str, sub_id: str = "1") -> list[tuple[str, str]]:
    base = f"/api/recordings/{rec_id}"
    return [
        ("GET", f"{base}/exports"), ("POST", f"{base}/exports"),
        ("GET", f"{base}/exports/{sub_id}"), ("GET", f"{base}/exports/{sub_id}/file"),
        ("GET", f"{base}/portions"), ("POST", f"{base}/portions"),
        ("DELETE", f"{base}/portions/{sub_id}"), ("POST", f"{base}/hold"),
        ("GET", f"{base}/manifest"), ("POST", f"{base}/manifest/verify"),
        ("GET", f"{base}/timeline"),
    ]


async def test_odd_ids_are_404_json(rclient: TestClient, tokens: dict[str, str],
                                    rec: dict[str, Any]) -> None:
    admin = auth(tokens["admin"])
    base = f"/api/recordings/{rec['id']}"
    for odd in ODD_IDS:
        under = [("GET", f"{base}/exports/{odd}"), ("GET", f"{base}/exports/{odd}/file"),
                 ("DELETE", f"{base}/portions/{odd}")]
        for method, path in paths(odd) + under:
            r = await rclient.request(method, path, headers=admin, json={})
            assert r.status in (400, 404), (method, path, r.status)
            assert r.content_type == "application/json", (method, path)
            assert (await r.json())["error"]
    for method, path in paths("999999"):
        r = await rclient.request(method, path, json={})
        assert r.status == 401, (method, path)


async def test_malformed_bodies_are_4xx_json(rclient: TestClient, tokens: dict[str, str],
                                             rec: dict[str, Any]) -> None:
    admin = {**auth(tokens["admin"]), "Content-Type": "application/json"}
    posts = [p for m, p in paths(str(rec["id"])) if m == "POST"]
    for path in posts:
        for body in BODIES:
            data = body.encode("utf-8", "surrogatepass")
            r = await rclient.post(path, data=data, headers=admin)
            assert 400 <= r.status < 500, (path, body, r.status, await r.text())
            assert r.content_type == "application/json"
        r = await rclient.post(path, data=b"{}", headers={**admin, "Content-Type": "text/plain"})
        assert r.status == 415
        r = await rclient.post(path, data=b'{"a": "' + b"x" * 2_000_000 + b'"}', headers=admin)
        assert r.status == 413, path


async def test_wrong_methods_are_405_json(rclient: TestClient, tokens: dict[str, str],
                                          rec: dict[str, Any]) -> None:
    base = f"/api/recordings/{rec['id']}"
    for method, path in (("PUT", f"{base}/exports"), ("DELETE", f"{base}/hold"),
                         ("POST", f"{base}/timeline"), ("PATCH", f"{base}/portions"),
                         ("DELETE", f"{base}/manifest")):
        r = await rclient.request(method, path, headers=auth(tokens["admin"]))
        assert r.status == 405, (method, path)
        assert r.content_type == "application/json"


async def test_page_and_player_library(rclient: TestClient) -> None:
    r = await rclient.get("/playback")
    assert r.status == 200 and r.content_type == "text/html"
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert '<script src="/vendor/hls.min.js">' in await r.text()
    r = await rclient.get("/vendor/hls.min.js")
    if HLS_JS.exists():
        assert r.status == 200 and r.content_type == "text/javascript"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    for name in ("hls.js", "..%2Fpackage.json", "hls.min.js%00", "x", "hls.min.js.map"):
        r = await rclient.get(f"/vendor/{name}")
        assert r.status == 404 and r.content_type == "application/json", name
