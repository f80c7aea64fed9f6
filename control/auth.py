"""Accounts, logins with throttling, and bearer tokens (stored hashed, expiring)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from control.bus import Event, EventBus
from control.config import AuthSettings
from control.db import Database, utcnow
from control.errors import ApiError
from control.models import AuthToken, User
from control.passwords import DUMMY_HASH, check_password_strength, hash_password, verify_password
from control.policy import ACCOUNT_ROLES, Principal, Target
from control.ratelimit import RateLimit
from control.registry import CourtRegistry

USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
_CACHE_SECONDS = 30.0
_MAX_TRACKED = 100_000
# Revocations travel on the bus so every node drops its cached copy; private: no client sees them.
TOKEN_REVOKED = "auth.token_revoked"  # noqa: S105 (an event kind, not a secret)
SESSIONS_ENDED = "auth.sessions_ended"
_NOBODY = Target(kind="system", private=True)


class AuthError(ApiError):
    """A login or account request that must be refused; `status` is the HTTP code."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        headers = {"Retry-After": str(int(retry_after) + 1)} if retry_after else None
        super().__init__(status, message, headers=headers)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validate_account(username: str, role: str, court: str | None, registry: CourtRegistry) -> None:
    """Raise AuthError(400) unless the name, role and court make a valid account."""
    if not 2 <= len(username) <= 64 or not set(username) <= USERNAME_CHARS:
        raise AuthError(400, "username must be 2-64 characters of a-z 0-9 . _ -")
    if role not in ACCOUNT_ROLES:
        raise AuthError(400, f"role must be one of {', '.join(ACCOUNT_ROLES)}")
    if role == "admin" and court is not None:
        raise AuthError(400, "an admin belongs to no court")
    if role != "admin" and court not in registry.courts:
        raise AuthError(400, f"a {role} needs an existing court code")


def add_user(
    session: Session, registry: CourtRegistry, username: str, role: str, court: str | None,
    password: str, display_name: str = "",
) -> User:
    validate_account(username, role, court, registry)
    problem = check_password_strength(password)
    if problem:
        raise AuthError(400, problem)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AuthError(409, f"user {username} already exists")
    user = User(username=username, role=role, court_code=court, display_name=display_name,
                password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> None:
    problem = check_password_strength(password)
    if problem:
        raise AuthError(400, problem)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AuthError(404, f"no user {username}")
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))


@dataclass
class _Cached:
    principal: Principal
    expires: float
    fetched: float


class Authenticator:
    """Checks passwords, issues and resolves bearer tokens; remembers recent tokens briefly."""

    def __init__(self, db: Database, settings: AuthSettings, bus: EventBus) -> None:
        self.db, self.settings, self.bus = db, settings, bus
        self._failures = RateLimit(db, "login", settings.lockout_failures,
                                   settings.lockout_window_s)
        self._cache: dict[str, _Cached] = {}
        # Remote too: a token revoked on any node must be refused here within a second.
        bus.on(TOKEN_REVOKED, self._drop_token, remote=True)
        bus.on(SESSIONS_ENDED, self._drop_user, remote=True)

    async def login(self, username: str, password: str, address: str) -> tuple[str, Principal]:
        keys = (f"user:{username.lower()}", f"addr:{address}")
        # Counted as a failure before the password is checked, on every node alike: concurrent
        # guesses cannot all pass before the failures are recorded. A success takes it back.
        wait = await self._failures.hit(*keys)
        if wait > 0:
            raise AuthError(429, "too many failed logins; try again later", retry_after=wait)

        def check(session: Session) -> tuple[str, Principal] | None:
            user = session.scalar(select(User).where(User.username == username))
            ok = verify_password(password, user.password_hash if user else DUMMY_HASH)
            if user is None or not ok or not user.active:
                return None
            token = secrets.token_urlsafe(32)
            session.add(AuthToken(
                token_hash=token_digest(token), user_id=user.id, address=address[:64],
                expires_at=utcnow() + timedelta(hours=self.settings.token_ttl_hours),
            ))
            return token, Principal(user.username, user.role, user.court_code, user.id)

        result = await self.db.run(check)
        if result is None:
            await asyncio.sleep(self.settings.failure_delay_ms / 1000)
            raise AuthError(401, "invalid username or password")
        await self._failures.reset(keys[0])
        await self._failures.take_back(keys[1])
        return result

    async def resolve(self, token: str) -> Principal | None:
        """The principal a bearer token stands for, or None if unknown or expired."""
        if not token or len(token) > 256:
            return None
        digest = token_digest(token)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit and now < hit.expires and now - hit.fetched < _CACHE_SECONDS:
            return hit.principal

        def lookup(session: Session) -> tuple[Principal, float] | None:
            row = session.execute(
                select(User, AuthToken.expires_at)
                .join(AuthToken, AuthToken.user_id == User.id)
                .where(AuthToken.token_hash == digest)
            ).first()
            if row is None or not row[0].active:
                return None
            user, expires_at = row
            left = (expires_at - utcnow()).total_seconds()
            if left <= 0:
                return None
            return Principal(user.username, user.role, user.court_code, user.id), left

        found = await self.db.run(lookup)
        if found is None:
            self._cache.pop(digest, None)
            return None
        if len(self._cache) > _MAX_TRACKED:
            self._cache.clear()
        self._cache[digest] = _Cached(found[0], now + found[1], now)
        return found[0]

    def forget_user(self, username: str) -> None:
        """Drop the cached tokens of a user whose role, court or access just changed, here and
        (through the bus) on every other node."""
        self._forget(username)
        self.bus.post(Event(SESSIONS_ENDED, _NOBODY, {"username": username}, action="user.manage"))

    async def logout(self, token: str) -> None:
        digest = token_digest(token)
        self._cache.pop(digest, None)
        await self.db.run(
            lambda s: s.execute(delete(AuthToken).where(AuthToken.token_hash == digest))
        )
        await self.bus.publish(Event(TOKEN_REVOKED, _NOBODY, {"digest": digest},
                                     action="user.manage"))

    def _forget(self, username: str) -> None:
        for digest in [d for d, c in self._cache.items() if c.principal.username == username]:
            self._cache.pop(digest, None)

    def _drop_token(self, event: Event) -> None:
        self._cache.pop(str(event.data.get("digest", "")), None)

    def _drop_user(self, event: Event) -> None:
        self._forget(str(event.data.get("username", "")))

    async def purge_expired(self) -> int:
        def purge(session: Session) -> int:
            result = session.execute(delete(AuthToken).where(AuthToken.expires_at < utcnow()))
            return int(getattr(result, "rowcount", 0) or 0)

        return await self.db.run(purge)
