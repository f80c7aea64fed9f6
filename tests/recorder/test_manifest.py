"""Signed manifests: segment hashes and the chain head, HMAC-SHA256 with a key from Settings."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from control.app import build_services, create_app
from control.config import Settings
from media.sources import Clip
from tests.conftest import auth
from tests.recorder.conftest import with_recorder
from tests.recorder.test_routes import make_recording

KEY = "test-signing-key-0123456789abcdef"


@pytest.fixture
async def signed_client(aiohttp_client: Any, settings: Settings) -> AsyncIterator[TestClient]:
    """The app with a manifest signing key (as if read from $COURTAV_TEST_KEY)."""
    keyed = replace(settings, recorder=replace(settings.recorder, signing_key=KEY,
                                               signing_key_env="COURTAV_TEST_KEY"))
    services = build_services(keyed)
    app = create_app(keyed, services)
    with_recorder(app)
    yield await aiohttp_client(app)


async def test_signed_manifest(signed_client: TestClient, tokens: dict[str, str],
                               clip: Clip) -> None:
    client = signed_client
    rec = await make_recording(client, clip, tokens["clerk.daoli"], seconds=3)
    url = f"/api/recordings/{rec['id']}/manifest"
    r = await client.get(url, headers=auth(tokens["pres.harbin"]))
    assert r.status == 200
    doc = await r.json()
    manifest, signature = doc["manifest"], doc["signature"]
    assert manifest["format"] == "courtav.recording-manifest/1"
    assert manifest["recording"]["id"] == rec["id"]
    assert manifest["chain_head"] == rec["head_sha256"]
    segments = manifest["segments"]
    assert [s["sequence"] for s in segments] == list(range(1, rec["segments"] + 1))
    assert segments[-1]["sha256"] == manifest["chain_head"]
    assert all(b["prev_sha256"] == a["sha256"] for a, b in itertools.pairwise(segments))
    for seg in segments[:2]:
        r = await client.get(f"/api/recordings/{rec['id']}/segments/{seg['sequence']:06d}.m4s",
                             headers=auth(tokens["admin"]))
        assert hashlib.sha256(await r.read()).hexdigest() == seg["sha256"]
    body = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hmac.new(KEY.encode(), body.encode(), hashlib.sha256).hexdigest()
    assert signature["algorithm"] == "HMAC-SHA256" and signature["value"] == expected
    assert KEY not in json.dumps(doc)

    verify = f"{url}/verify"
    r = await client.post(verify, json=doc, headers=auth(tokens["admin"]))
    assert await r.json() == {"recording": rec["id"], "signing_key": True,
                              "signature_valid": True, "matches_index": True,
                              "chain_head": rec["head_sha256"]}
    tampered = copy.deepcopy(doc)
    tampered["manifest"]["segments"][1]["sha256"] = "0" * 64
    r = await client.post(verify, json=tampered, headers=auth(tokens["admin"]))
    result = await r.json()
    assert not result["signature_valid"] and not result["matches_index"]
    forged = copy.deepcopy(doc)
    forged["signature"]["value"] = hmac.new(b"another key", body.encode(),
                                            hashlib.sha256).hexdigest()
    r = await client.post(verify, json=forged, headers=auth(tokens["admin"]))
    result = await r.json()
    assert not result["signature_valid"] and result["matches_index"]
    bad: dict[str, Any]
    for bad in ({}, {"manifest": []}, {"manifest": {"recording": {"id": rec["id"] + 1}}},
                {"manifest": {"recording": "x"}}):
        r = await client.post(verify, json=bad, headers=auth(tokens["admin"]))
        assert r.status == 400, bad
    r = await client.get(url, headers=auth(tokens["judge.daoli"]))
    assert r.status == 404
    r = await client.get(url)
    assert r.status == 401


async def test_unsigned_without_a_key(rclient: TestClient, tokens: dict[str, str],
                                      clip: Clip) -> None:
    rec = await make_recording(rclient, clip, tokens["clerk.daoli"], seconds=2)
    url = f"/api/recordings/{rec['id']}/manifest"
    r = await rclient.get(url, headers=auth(tokens["clerk.daoli"]))
    doc = await r.json()
    assert doc["signature"] is None and len(doc["manifest"]["segments"]) == rec["segments"]
    r = await rclient.post(f"{url}/verify", json=doc, headers=auth(tokens["clerk.daoli"]))
    result = await r.json()
    assert result["signing_key"] is False and result["signature_valid"] is False
    assert result["matches_index"] is True
