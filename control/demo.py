"""Demo accounts for a newcomer: created once with generated passwords, printed once."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from control.auth import add_user
from control.config import Settings
from control.db import Database
from control.models import User
from control.registry import CourtRegistry


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    court: str | None
    password: str | None  # None: the account existed before this start


def ensure_demo_users(settings: Settings, db: Database, registry: CourtRegistry) -> list[DemoLogin]:
    """Create the configured demo users that do not exist yet; never touch existing ones."""
    logins = []
    with db.session() as session:
        existing = set(session.scalars(select(User.username)))
        for spec in settings.demo.users:
            if spec.username in existing:
                logins.append(DemoLogin(spec.username, spec.role, spec.court, None))
                continue
            password = spec.password or secrets.token_urlsafe(12)
            add_user(session, registry, spec.username, spec.role, spec.court, password)
            logins.append(DemoLogin(spec.username, spec.role, spec.court, password))
    fresh = [d for d in logins if d.password]
    if fresh:
        _remember(settings.data_dir / "demo-logins.txt", fresh)
    return logins


def _remember(path: Path, logins: list[DemoLogin]) -> None:
    """Append new logins to a file only the owner can read, for when the console is gone."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        for d in logins:
            out.write(f"{d.username}\t{d.role}\t{d.court or '-'}\t{d.password}\n")


def format_logins(logins: list[DemoLogin], data_dir: Path) -> str:
    lines = ["Demo logins:"]
    for d in logins:
        secret = d.password or f"(unchanged; see {data_dir / 'demo-logins.txt'})"
        lines.append(f"  {d.username:<20} {d.role:<10} {d.court or '-':<8} {secret}")
    return "\n".join(lines)
