"""The core services of a node: what every package's services are built on, made once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from control.audit import AuditLog
    from control.auth import Authenticator
    from control.bus import EventBus
    from control.catalog import RoomCatalog
    from control.config import Settings
    from control.db import Database
    from control.monitoring import RoomMonitor
    from control.node_auth import NodeCredential
    from control.policy import Policy
    from control.registry import CourtRegistry


@dataclass
class Core:
    """Settings, database, court registry, policy, bus, room monitor, accounts, audit, and
    this node's credential towards the other nodes."""

    settings: Settings
    db: Database
    registry: CourtRegistry
    policy: Policy
    bus: EventBus
    monitor: RoomMonitor
    auth: Authenticator
    audit: AuditLog
    catalog: RoomCatalog
    credential: NodeCredential


CORE = web.AppKey("core", Core)
