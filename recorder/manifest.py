"""Signed manifests: what a recording is made of (segment hashes and the chain head), signed
with HMAC-SHA256 so that a copy handed out can later be shown to be the server's own.

The signature covers the canonical JSON of the manifest (keys sorted, no spaces, UTF-8). The
key comes from the environment variable `[recorder] signing_key_env` names; without one the
manifest is served unsigned and says so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from control.iso8601 import MILLIS, iso
from recorder.models import Recording, Segment

FORMAT: Final = "courtav.recording-manifest/1"
ALGORITHM: Final = "HMAC-SHA256"


def build_manifest(session: Session, rec: Recording, now: datetime) -> dict[str, Any]:
    """The manifest of `rec` as the index has it now."""
    rows = session.execute(
        select(Segment.sequence, Segment.start_at, Segment.end_at, Segment.duration,
               Segment.bytes, Segment.sha256, Segment.prev_sha256, Segment.init_name,
               Segment.init_sha256, Segment.missing)
        .where(Segment.recording_id == rec.id).order_by(Segment.sequence)).all()
    return {
        "format": FORMAT,
        "generated_at": iso(now, MILLIS),
        "recording": {
            "id": rec.id, "court": rec.court, "room": rec.room, "feed": rec.feed,
            "hearing": rec.hearing_ref, "state": rec.state,
            "started_at": iso(rec.started_at, MILLIS),
            "ended_at": iso(rec.ended_at, MILLIS), "segment_count": rec.segment_count,
            "bytes": rec.bytes,
        },
        "chain_head": rec.head_sha256,
        "segments": [
            {"sequence": seq, "start": iso(start, MILLIS), "end": iso(end, MILLIS),
             "duration": round(dur, 6),
             "bytes": size, "sha256": sha, "prev_sha256": prev, "init": init,
             "init_sha256": init_sha, "missing": missing}
            for seq, start, end, dur, size, sha, prev, init, init_sha, missing in rows
        ],
    }


def canonical(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def key_id(key: str) -> str:
    """A short, public name of the key (so a verifier knows which key signed)."""
    return hashlib.sha256(b"courtav-manifest-key:" + key.encode()).hexdigest()[:16]


def sign(manifest: dict[str, Any], key: str) -> dict[str, str]:
    mac = hmac.new(key.encode(), canonical(manifest), hashlib.sha256).hexdigest()
    return {"algorithm": ALGORITHM, "key_id": key_id(key), "value": mac}


def signed_document(manifest: dict[str, Any], key: str) -> dict[str, Any]:
    """`{"manifest": ..., "signature": ...}`; the signature is null without a key."""
    return {"manifest": manifest, "signature": sign(manifest, key) if key else None}


def signature_matches(manifest: dict[str, Any], signature: Any, key: str) -> bool:
    """True when `signature` is this key's HMAC of `manifest` (constant-time compare)."""
    if not key or not isinstance(signature, dict):
        return False
    value = signature.get("value")
    if signature.get("algorithm") != ALGORITHM or not isinstance(value, str):
        return False
    expected = sign(manifest, key)["value"]
    return hmac.compare_digest(expected.encode(), value.encode())


def same_content(given: dict[str, Any], current: dict[str, Any]) -> bool:
    """True when a manifest describes what the index holds now (its generation time aside)."""
    strip = {"generated_at"}
    return ({k: v for k, v in given.items() if k not in strip}
            == {k: v for k, v in current.items() if k not in strip})
