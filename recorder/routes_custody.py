"""Chain-of-custody routes: legal hold, and the (signed) manifest of a recording.

A hold (`recording.hold`: presidents, admins) keeps a recording from retention until lifted;
placing and lifting are audited with their reason. The manifest lists every segment's hash and
the chain head, HMAC-signed when `[recorder] signing_key_env` names a key; posting a manifest
back says whether its signature is ours and whether it still matches the index.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import update
from sqlalchemy.orm import Session

from control.bus import Event
from control.db import utcnow
from control.errors import ApiError
from control.http import core_of, field, read_json
from recorder.access import audit, reason_field, recorder, recording_for, visible_recording
from recorder.manifest import build_manifest, same_content, signature_matches, signed_document
from recorder.models import Recording
from recorder.playback import recording_json

routes = web.RouteTableDef()


@routes.post("/api/recordings/{id}/hold")
async def hold(request: web.Request) -> web.Response:
    who, rec = await recording_for(request, "recording.hold")
    target = await recorder(request).target(rec)
    body = await read_json(request)
    held = field(body, "hold", bool)
    reason = reason_field(body)
    svc = core_of(request)

    def change(session: Session) -> Recording | None:
        session.execute(update(Recording).where(Recording.id == rec.id)
                        .values(legal_hold=held))
        return session.get(Recording, rec.id)

    row = await svc.db.run(change)
    if row is None:  # removed meanwhile
        raise ApiError(404, "not found")
    await audit(request, who, "recording.hold", rec.id, rec.court,
                {"hold": held, "was": rec.legal_hold, "reason": reason})
    svc.bus.post(Event("recording.hold", target, {"recording": rec.id, "hold": held,
                                                     "by": who.username},
                          action="recording.view"))
    return web.json_response(recording_json(row))


def _key(request: web.Request) -> str:
    return core_of(request).settings.recorder.signing_key


@routes.get("/api/recordings/{id}/manifest")
async def manifest(request: web.Request) -> web.Response:
    who, rec = await visible_recording(request)
    now = utcnow()
    doc = await core_of(request).db.run(lambda s: build_manifest(s, rec, now))
    key = _key(request)
    await audit(request, who, "recording.manifest", rec.id, rec.court,
                {"signed": bool(key), "chain_head": rec.head_sha256})
    return web.json_response(signed_document(doc, key), headers={
        "Cache-Control": "private, no-store",
        "Content-Disposition": f'inline; filename="recording-{rec.id}-manifest.json"'})


@routes.post("/api/recordings/{id}/manifest/verify")
async def verify_manifest(request: web.Request) -> web.Response:
    _who, rec = await visible_recording(request)
    body = await read_json(request)
    given = body.get("manifest")
    if not isinstance(given, dict):
        raise ApiError(400, "field 'manifest' must be the manifest object")
    meta = given.get("recording")
    if not isinstance(meta, dict) or meta.get("id") != rec.id:
        raise ApiError(400, "the manifest is not of this recording")
    key = _key(request)
    now = utcnow()
    current = await core_of(request).db.run(lambda s: build_manifest(s, rec, now))
    return web.json_response({
        "recording": rec.id,
        "signing_key": bool(key),
        "signature_valid": signature_matches(given, body.get("signature"), key),
        "matches_index": same_content(given, current),
        "chain_head": rec.head_sha256,
    })
