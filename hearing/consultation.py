"""Private consultation between a defendant at a remote site and their defence lawyer.

The scheme: the court (a clerk who schedules the hearing) issues a one-time consultation code
to a party of the case whose role is `defence_lawyer`. The lawyer redeems it, once, for a
consultation: a random id `<c>` and a lawyer key that only the lawyer ever sees (the code is
spent, so whoever saw the code cannot use it again, and a lawyer who finds it spent knows).
Two streams make the conversation: `consult/<c>/lawyer` and `consult/<c>/site`. Each side
publishes its own with its own secret (the lawyer key; the site credential of the hearing's
site) and views the other's. Nobody else may publish or view them, court staff included: the
policy refuses every `private` target. They are never recorded (the recorder refuses
`consult/` paths) and never probed or thumbnailed (those read only `rooms/` paths).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any, Final

from aiohttp import web
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from control.core import Core
from control.db import utcnow
from control.errors import ApiError
from control.http import bearer_token, require
from control.iso8601 import iso
from control.policy import Target
from hearing.errors import HearingError
from hearing.lifecycle import ACTIVE
from hearing.models import Consultation, ConsultationCode, Hearing, Party, RemoteSite
from hearing.sites import site_of_request
from media import MediaServer

CODE_PREFIX: Final = "ccc_"
KEY_PREFIX: Final = "ccl_"
CODE_TTL: Final = timedelta(hours=24)
CONSULTATION_TTL: Final = timedelta(hours=2)
CONSULT_PATH: Final = re.compile(r"^consult/([0-9a-f]{32})/(lawyer|site)$")
LAWYER_ROLE: Final = "defence_lawyer"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def consultation_json(c: Consultation) -> dict[str, Any]:
    return {"id": c.id, "hearing": c.hearing_id, "party": c.party_id, "site": c.site_code,
            "lawyer_path": f"consult/{c.id}/lawyer", "site_path": f"consult/{c.id}/site",
            "opened_at": iso(c.opened_at), "expires_at": iso(c.expires_at),
            "ended_at": iso(c.ended_at)}


def issue_code(session: Session, h: Hearing, party_id: int, who: str,
               now: datetime) -> tuple[dict[str, Any], str]:
    """A new one-time code for the hearing's defence lawyer; their unused codes lapse."""
    party = session.get(Party, party_id)
    if party is None or party.case_id != h.case_id or party.role != LAWYER_ROLE:
        raise HearingError(400, "consultation codes are issued to a defence lawyer of the case",
                           {"party_id": party_id})
    _check_link(h)
    session.execute(delete(ConsultationCode).where(
        ConsultationCode.hearing_id == h.id, ConsultationCode.party_id == party_id,
        ConsultationCode.used_at.is_(None)))
    code = CODE_PREFIX + secrets.token_urlsafe(24)
    expires = now + CODE_TTL
    session.add(ConsultationCode(hearing_id=h.id, party_id=party_id, code_sha256=digest(code),
                                 issued_by=who, issued_at=now, expires_at=expires))
    return {"hearing": h.id, "party": party_id, "expires_at": iso(expires)}, code


def _check_link(h: Hearing) -> None:
    if h.remote_site is None:
        raise HearingError(409, "the hearing has no remote site")
    if h.state not in ACTIVE:
        raise HearingError(409, f"a {h.state} hearing has no consultations", {"state": h.state})


def redeem_code(session: Session, hearing_id: int, code: str,
                now: datetime) -> tuple[dict[str, Any], str]:
    """Spend the code on a new consultation; returns it and the lawyer key (shown once)."""
    row = session.scalar(select(ConsultationCode).where(
        ConsultationCode.code_sha256 == digest(code)).with_for_update())
    if row is None or row.hearing_id != hearing_id or row.used_at is not None \
            or row.expires_at <= now or not code.startswith(CODE_PREFIX):
        raise HearingError(401, "unknown, used or expired consultation code",
                           headers={"WWW-Authenticate": "Bearer"})
    h = session.get(Hearing, hearing_id)
    assert h is not None  # the code's foreign key
    _check_link(h)
    site = session.get(RemoteSite, h.remote_site)
    if site is None or not site.enabled:
        raise HearingError(409, "the remote site is disabled")
    row.used_at = now
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    c = Consultation(id=secrets.token_hex(16), hearing_id=h.id, party_id=row.party_id,
                     site_code=site.code, lawyer_key_sha256=digest(key), opened_at=now,
                     expires_at=now + CONSULTATION_TTL)
    session.add(c)
    return consultation_json(c), key


def open_for_site(session: Session, site: str, now: datetime) -> list[dict[str, Any]]:
    rows = session.scalars(select(Consultation).where(
        Consultation.site_code == site, Consultation.ended_at.is_(None),
        Consultation.expires_at > now).order_by(Consultation.opened_at))
    return [consultation_json(c) for c in rows]


class Consultations:
    """Who may publish or view `consult/<c>/<side>`: the two ends, and nobody else."""

    def __init__(self, services: Core, server: MediaServer) -> None:
        self.services, self.server = services, server

    async def endpoint(self, request: web.Request, consultation_id: str) -> tuple[str, str]:
        """(side, subject) of the request's secret for an open consultation; 404 if none is
        open, 401/403 from the policy (which refuses private targets) for anyone else."""
        now = utcnow()
        c = await self.services.db.run(lambda s: s.get(Consultation, consultation_id))
        if c is None or not c.is_open(now):
            raise ApiError(404, "not found")
        token = bearer_token(request)
        if token.startswith(KEY_PREFIX) and hmac.compare_digest(digest(token),
                                                                c.lawyer_key_sha256):
            return "lawyer", f"lawyer:{c.party_id}"
        site = await site_of_request(self.services, request)
        if site is not None:
            if site.code != c.site_code:
                raise ApiError(403, "this consultation is another site's")
            return "site", f"site:{site.code}"
        # Court staff, admins included, are asked of the policy like anyone: it says no.
        await require(request, "room.view", Target(kind="feed", private=True))
        raise ApiError(403, "forbidden")

    async def authorize(self, request: web.Request, action: str, path: str) -> str:
        """Each side publishes its own stream and views the other's."""
        m = CONSULT_PATH.match(path)
        if m is None:
            raise ApiError(404, "unknown stream path", {"path": path[:80]})
        side, subject = await self.endpoint(request, m.group(1))
        if request.method == "DELETE":
            return subject
        if (action == "publish") != (m.group(2) == side):
            raise ApiError(403, "each side publishes its own stream and views the other's")
        return subject

    async def end(self, request: web.Request, hearing_id: int,
                  consultation_id: str) -> dict[str, Any]:
        """Either side ends the consultation; its streams are cut at once."""
        _, subject = await self.endpoint(request, consultation_id)
        now = utcnow()

        def write(session: Session) -> dict[str, Any]:
            c = session.get(Consultation, consultation_id, with_for_update=True)
            if c is None or c.hearing_id != hearing_id or not c.is_open(now):
                raise HearingError(404, "not found")
            c.ended_at, c.ended_by = now, subject
            return {**consultation_json(c), "ended_by": subject}

        body = await self.services.db.run(write)
        prefix = f"consult/{consultation_id}/"
        for session in list(self.server.sessions.values()):
            if session.path.startswith(prefix):
                await session.close("the consultation ended")
        return body


CONSULTATIONS = web.AppKey("consultations", Consultations)
