"""The registry of remote sites (detention centres, prisons) and their publishing credentials.

A site proves itself with one bearer credential, `cts_` and 43 random characters. Only its
SHA-256 is stored; the credential is shown once, when the site is created or the credential
rotated, and is never logged, audited or returned again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import Any, Final

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from control.core import Core
from control.http import bearer_token
from control.iso8601 import iso
from control.policy import Principal
from control.registry import CourtRegistry
from hearing.errors import HearingError
from hearing.models import SITE_KINDS, RemoteSite

CREDENTIAL_PREFIX: Final = "cts_"
# A site's stream during a hearing, recorded as the hearing's feed `remote`.
SITE_FEED: Final = "remote"
SITE_PATH: Final = re.compile(r"^sites/([A-Z0-9][A-Z0-9-]{1,23})/([1-9][0-9]{0,17})$")
SITE_CODE: Final = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,23}$")


def site_path(site: str, hearing_id: int) -> str:
    """The stream path a remote site publishes on during a hearing."""
    return f"sites/{site}/{hearing_id}"


def new_credential() -> str:
    return CREDENTIAL_PREFIX + secrets.token_urlsafe(32)


def credential_digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def looks_like_credential(token: str) -> bool:
    """A site credential by its form (user tokens never start so); saves a lookup for others."""
    return token.startswith(CREDENTIAL_PREFIX) and 20 <= len(token) <= 128


def site_json(site: RemoteSite) -> dict[str, Any]:
    return {"code": site.code, "name": site.name, "kind": site.kind, "court": site.court_code,
            "enabled": site.enabled, "credential_issued_at": iso(site.credential_issued_at),
            "created_by": site.created_by, "created_at": iso(site.created_at)}


def find_by_credential(session: Session, credential: str) -> RemoteSite | None:
    """The enabled site holding `credential`, or None."""
    if not looks_like_credential(credential):
        return None
    digest = credential_digest(credential)
    site = session.scalar(select(RemoteSite).where(RemoteSite.credential_sha256 == digest))
    if site is None or not site.enabled:
        return None
    # The lookup was by digest; compare again in constant time all the same.
    return site if hmac.compare_digest(site.credential_sha256, digest) else None


def create_site(session: Session, registry: CourtRegistry, code: str, name: str, kind: str,
                court: str, who: str, now: datetime) -> tuple[dict[str, Any], str]:
    """A new enabled site; returns its JSON and the credential (the only time it is seen)."""
    if not SITE_CODE.match(code):
        raise HearingError(400, "a site code is 2-24 capital letters, digits or '-'",
                           {"code": code[:32]})
    if kind not in SITE_KINDS:
        raise HearingError(400, "unknown site kind", {"allowed": list(SITE_KINDS)})
    if court not in registry.courts:
        raise HearingError(400, "unknown court", {"court": court[:32]})
    if not name.strip():
        raise HearingError(400, "a site needs a name")
    if session.get(RemoteSite, code) is not None:
        raise HearingError(409, "a site with this code exists", {"code": code})
    credential = new_credential()
    site = RemoteSite(code=code, name=name.strip(), kind=kind, court_code=court,
                      credential_sha256=credential_digest(credential),
                      credential_issued_at=now, enabled=True, created_by=who, created_at=now)
    session.add(site)
    session.flush()
    return site_json(site), credential


def load_site(session: Session, code: str) -> RemoteSite:
    site = session.get(RemoteSite, code) if SITE_CODE.match(code) else None
    if site is None:
        raise HearingError(404, "not found")
    return site


def rotate_credential(session: Session, code: str, now: datetime) -> tuple[dict[str, Any], str]:
    """A fresh credential; the old one stops working at once."""
    site = load_site(session, code)
    credential = new_credential()
    site.credential_sha256 = credential_digest(credential)
    site.credential_issued_at = now
    return site_json(site), credential


def change_site(session: Session, code: str, enabled: bool | None,
                name: str | None) -> dict[str, Any]:
    site = load_site(session, code)
    if enabled is not None:
        site.enabled = enabled
    if name is not None:
        if not name.strip():
            raise HearingError(400, "a site needs a name")
        site.name = name.strip()
    return site_json(site)


def list_sites(session: Session, courts: frozenset[str] | None,
               registry: CourtRegistry) -> list[dict[str, Any]]:
    """Every site (courts None), or the enabled sites that may serve one of `courts`."""
    rows = session.scalars(select(RemoteSite).order_by(RemoteSite.code))
    if courts is None:
        return [site_json(s) for s in rows]
    return [site_json(s) for s in rows
            if s.enabled and any(serves(registry, s, c) for c in courts)]


def serves(registry: CourtRegistry, site: RemoteSite, court: str) -> bool:
    """A site serves the court it is registered with and every court below that one."""
    return court in registry.courts and registry.is_within(court, site.court_code)


def check_link(session: Session, registry: CourtRegistry, code: str | None,
               court: str) -> str | None:
    """The site a hearing of `court` may be linked to (enabled, serving it); 400 otherwise."""
    if code is None:
        return None
    site = session.get(RemoteSite, code) if SITE_CODE.match(code) else None
    if site is None:
        raise HearingError(400, "unknown remote site", {"remote_site": code[:32]})
    if not site.enabled:
        raise HearingError(400, "the remote site is disabled", {"remote_site": code})
    if not serves(registry, site, court):
        raise HearingError(400, "the remote site does not serve this court",
                           {"remote_site": code, "site_court": site.court_code,
                            "court": court})
    return site.code


async def site_of_request(services: Core, request: web.Request) -> RemoteSite | None:
    """The enabled site whose credential the request bears (header or cookie), or None."""
    token = bearer_token(request)
    if not looks_like_credential(token):
        return None
    return await services.db.run(lambda s: find_by_credential(s, token))


async def require_site(services: Core, request: web.Request) -> RemoteSite:
    site = await site_of_request(services, request)
    if site is None:
        raise HearingError(401, "a remote site credential is required",
                           headers={"WWW-Authenticate": "Bearer"})
    return site


def site_principal(site: RemoteSite) -> Principal:
    """Who a site is in the audit trail; the policy grants this role nothing."""
    return Principal(f"site:{site.code}", "site", site.court_code)
