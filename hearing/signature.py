"""The hearing record a defendant signs at the remote site, and the signature as stored.

The record is a plain text built from the hearing and its log (transitions and identity
confirmations), the same bytes every time it is asked for; the signature is kept with the
SHA-256 of the exact text it signs, and that text, so either can be checked later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from control.iso8601 import iso
from hearing.errors import HearingError
from hearing.models import Hearing, HearingEvent, HearingSignature, Party, RemoteSite

MAX_PNG_BYTES: Final = 256 * 1024
MAX_WIDTH, MAX_HEIGHT = 2048, 1024
MIN_SIDE: Final = 16
SIGNING_WINDOW: Final = timedelta(hours=2)  # after the end, for the site to sign
DEFENDANT_ROLES: Final = ("defendant", "defendant_in_custody")
RECORD_EVENTS: Final = ("transition", "identity")
_PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
# PNG colour type -> (channels, allowed bit depths)
_COLOUR: Final = {0: (1, (1, 2, 4, 8, 16)), 2: (3, (8, 16)), 3: (1, (1, 2, 4, 8)),
                  4: (2, (8, 16)), 6: (4, (8, 16))}


def signature_json(sig: HearingSignature) -> dict[str, Any]:
    return {"id": sig.id, "hearing": sig.hearing_id, "party": sig.party_id,
            "site": sig.site_code, "record_sha256": sig.record_sha256,
            "png_sha256": sig.png_sha256, "width": sig.width, "height": sig.height,
            "bytes": len(sig.png), "signed_at": iso(sig.signed_at)}


# ---- the PNG ----

@dataclass(frozen=True)
class Png:
    data: bytes
    width: int
    height: int


def decode_png(raw: object) -> Png:
    """A PNG from a `data:image/png;base64,` URL or bare base64, checked through and through:
    size, signature, every chunk's CRC, IHDR, and that the image data inflates to exactly the
    size its header promises. 413 when too large, 400 for anything else wrong."""
    if not isinstance(raw, str) or not raw:
        raise HearingError(400, "field 'png' must be a PNG as a data URL or base64 text")
    text = raw
    if raw.startswith("data:"):
        head, _, text = raw.partition(",")
        if head.lower() != "data:image/png;base64":
            raise HearingError(400, "the signature must be a base64 PNG data URL")
    if len(text) > (MAX_PNG_BYTES + 2) // 3 * 4 + 4:
        raise HearingError(413, f"the signature is larger than {MAX_PNG_BYTES} bytes")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise HearingError(400, "the signature is not valid base64") from None
    if len(data) > MAX_PNG_BYTES:
        raise HearingError(413, f"the signature is larger than {MAX_PNG_BYTES} bytes")
    return _check_png(data)


def _check_png(data: bytes) -> Png:
    if not data.startswith(_PNG_MAGIC):
        raise HearingError(400, "the signature is not a PNG image")
    pos, chunks, idat, ihdr = len(_PNG_MAGIC), [], bytearray(), b""
    while pos < len(data):  # each step consumes at least 12 bytes: bounded
        if pos + 12 > len(data):
            raise HearingError(400, "the PNG is truncated")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise HearingError(400, "the PNG is truncated")
        body = data[pos + 8:end - 4]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[end - 4:end])[0]:
            raise HearingError(400, "the PNG is corrupt (chunk CRC)")
        chunks.append(kind)
        if kind == b"IHDR":
            ihdr = body
        elif kind == b"IDAT":
            idat += body
        pos = end
        if kind == b"IEND":
            break
    if not chunks or chunks[0] != b"IHDR" or len(ihdr) != 13 or chunks[-1] != b"IEND" \
            or pos != len(data) or not idat:
        raise HearingError(400, "the PNG is malformed (IHDR first, IDAT, IEND last)")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    if not (MIN_SIDE <= width <= MAX_WIDTH and MIN_SIDE <= height <= MAX_HEIGHT):
        raise HearingError(400, f"a signature is {MIN_SIDE}..{MAX_WIDTH} pixels wide and "
                                f"{MIN_SIDE}..{MAX_HEIGHT} high", {"width": width,
                                                                  "height": height})
    channels, depths = _COLOUR.get(colour, (0, ()))
    if depth not in depths or interlace != 0:
        raise HearingError(400, "unsupported PNG format (colour type, bit depth or interlace)")
    expected = height * (1 + (width * channels * depth + 7) // 8)
    inflater = zlib.decompressobj()
    try:
        pixels = inflater.decompress(bytes(idat), expected + 1)  # bounded: no zip bomb
    except zlib.error:
        raise HearingError(400, "the PNG image data is corrupt") from None
    if len(pixels) != expected or not inflater.eof:
        raise HearingError(400, "the PNG image data does not match its size")
    return Png(data, width, height)


# ---- the record ----

def defendants(session: Session, case_id: int) -> list[Party]:
    return list(session.scalars(select(Party).where(Party.case_id == case_id,
                                                   Party.role.in_(DEFENDANT_ROLES))
                                .order_by(Party.id)))


def record_text(session: Session, h: Hearing) -> str:
    """The hearing record as signed: who, where, when, and what happened, in order."""
    site = session.get(RemoteSite, h.remote_site) if h.remote_site else None
    lines = [
        "庭审记录 Hearing record",
        f"庭审编号 Hearing: {h.id}",
        f"案号 Case: {h.case.number}",
        f"案由 Cause: {h.case.cause}",
        f"法院 Court: {h.court_code}",
        f"法庭 Courtroom: {h.room_code}",
        f"远程场所 Remote site: {site.code} {site.name}" if site else "远程场所 Remote site: -",
        f"审判长 Presiding judge: {h.presiding_judge}",
        f"合议庭 Panel: {', '.join(h.panel) or '-'}",
        f"书记员 Clerk: {h.clerk}",
        *(f"被告人 Defendant: {p.name} (party {p.id})" for p in defendants(session, h.case_id)),
        f"排期 Scheduled: {iso(h.starts_at)} - {iso(h.ends_at)}",
        "经过 Proceedings:",
    ]
    for e in session.scalars(select(HearingEvent).where(
            HearingEvent.hearing_id == h.id, HearingEvent.kind.in_(RECORD_EVENTS))
            .order_by(HearingEvent.id)):
        if e.kind == "transition":
            reason = e.detail.get("reason") or ""
            lines.append(f"{iso(e.at)} {e.to_state} ({e.actor})" + (f": {reason}" if reason
                                                                    else ""))
        else:
            lines.append(f"{iso(e.at)} identity confirmed ({e.actor}): "
                         f"{e.detail.get('name', '')} (party {e.detail.get('party', '')})")
    return "\n".join(lines) + "\n"


def record_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def may_sign(h: Hearing, now: datetime) -> bool:
    """The defendant signs once the hearing has ended, within `SIGNING_WINDOW`."""
    return h.state in ("closed", "adjourned") and h.closed_at is not None \
        and now - h.closed_at <= SIGNING_WINDOW
