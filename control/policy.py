"""The one access policy: may this principal do this action on this target?

Every route (REST, WHIP/WHEP, playback, WebSocket events) asks `Policy.can`. A court sees its own
business and, for presidents and security staff, that of the courts below it; never a higher or a
sibling court's. The public sees only what has been disclosed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Final, Literal

from control.errors import ApiError
from control.registry import CourtRegistry


@dataclass(frozen=True)
class Principal:
    """Who is asking: a logged-in user, another node (role `node`), or the anonymous public."""

    username: str
    role: str
    court: str | None = None
    user_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.role == "public"


PUBLIC: Final = Principal(username="", role="public")


@dataclass(frozen=True)
class Target:
    """What is asked about: a court, room, feed, hearing or recording, by owning court."""

    kind: str = "court"  # court | room | feed | hearing | recording | alert | system
    court: str | None = None
    room: str | None = None
    feed: str | None = None
    disclosed: bool = False
    staff: frozenset[str] = field(default_factory=frozenset)
    private: bool = False


class Scope(Enum):
    EVERYWHERE = "everywhere"
    SUBTREE = "subtree"
    OWN_COURT = "own court"
    DISCLOSED = "disclosed"


ACTIONS: Final = frozenset(
    {
        "court.view", "room.status", "room.view", "room.publish", "room.record",
        "recording.view", "recording.export", "hearing.view", "hearing.schedule",
        "hearing.mark", "alert.view", "alert.ack", "wall.use", "audit.view", "user.manage",
        # court leaders approve broadcasts; seal portions of and hold recordings
        "hearing.approve", "recording.seal", "recording.hold",
        "petition.receive", "site.manage", "system.metrics", "wall.manage",
    }
)

_ROLES: Final[dict[str, tuple[Scope, frozenset[str]]]] = {
    "admin": (Scope.EVERYWHERE, ACTIONS),
    "president": (
        Scope.SUBTREE,
        frozenset({
            "court.view", "room.status", "room.view", "recording.view", "recording.export",
            "hearing.view", "alert.view", "alert.ack", "wall.use", "audit.view",
            "hearing.approve", "recording.seal", "recording.hold", "petition.receive",
            "wall.manage",
        }),
    ),
    "judge": (
        Scope.OWN_COURT,
        frozenset({
            "court.view", "room.status", "room.view", "recording.view", "hearing.view",
            "hearing.mark", "recording.seal", "petition.receive",
        }),
    ),
    "clerk": (
        Scope.OWN_COURT,
        frozenset({
            "court.view", "room.status", "room.view", "room.publish", "room.record",
            "recording.view", "hearing.view", "hearing.schedule", "hearing.mark",
            "petition.receive",
        }),
    ),
    "security": (
        Scope.SUBTREE,
        frozenset({"court.view", "room.status", "room.view", "alert.view", "alert.ack",
                   "wall.use"}),
    ),
    # Another node of the province, relaying a stream or a recording to users that their own
    # node has checked (control.node_auth).
    "node": (Scope.EVERYWHERE, frozenset({"court.view", "room.status", "room.view",
                                          "recording.view", "hearing.view"})),
    "public": (Scope.DISCLOSED, frozenset({"room.view", "recording.view", "hearing.view"})),
}

# A judge reaches hearings and recordings only where they sit on the bench.
_JUDGE_OWN_WORK: Final = frozenset({"hearing.view", "hearing.mark", "recording.view",
                                     "recording.seal"})

_CASE_WORK: Final = frozenset({"hearing", "recording"})

# The roles a principal may have; an account may have any but `public` and `node`.
ROLES: Final = tuple(_ROLES)
ACCOUNT_ROLES: Final = tuple(r for r in ROLES if r not in ("public", "node"))
MAX_CACHED_GRANTS: Final = 4096  # (role, court) pairs: 6 roles x 192 courts fit

# Where an action is granted: every court, or these court codes.
Courts = Literal["*"] | list[str]


def role_scopes() -> dict[str, str]:
    """The roles an account may have and how far each reaches (everywhere, subtree, own court)."""
    return {role: scope.value for role, (scope, _) in _ROLES.items()
            if role in ACCOUNT_ROLES}


class Policy:
    """Answers `can(principal, action, target)` against the court tree."""

    def __init__(self, registry: CourtRegistry) -> None:
        self.registry = registry
        self._everywhere = frozenset(registry.courts)
        # grants depend on the role and court alone: computed once per pair, then shared.
        self._grants: dict[tuple[str, str | None], dict[str, Courts]] = {}

    def can(self, who: Principal, action: str, target: Target) -> bool:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        if target.private:
            return False
        scope, allowed = _ROLES.get(who.role, (Scope.DISCLOSED, frozenset()))
        if action not in allowed:
            return False
        if scope is Scope.EVERYWHERE:
            return True
        if scope is Scope.DISCLOSED:
            return target.disclosed
        if who.court is None or target.court is None:
            return False
        if scope is Scope.SUBTREE:
            if not self.registry.is_within(target.court, who.court):
                return False
        elif target.court != who.court:
            return False
        if who.role == "judge" and action in _JUDGE_OWN_WORK and target.kind in _CASE_WORK:
            return who.username in target.staff
        return True

    def require(self, who: Principal, action: str, target: Target, hide: bool = False) -> None:
        """Allow or raise: 401 for the anonymous, 403 (or 404 when `hide`: what one may not see
        does not exist) for others."""
        if self.can(who, action, target):
            return
        if who.is_anonymous:
            raise ApiError(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
        if hide:
            raise ApiError(404, "not found")
        raise ApiError(403, "forbidden", {"action": action})

    def visible_courts(self, who: Principal, action: str = "court.view") -> frozenset[str]:
        """Codes of the courts where `who` may do `action` on the court itself."""
        scope, allowed = _ROLES.get(who.role, (Scope.DISCLOSED, frozenset()))
        if action not in allowed or scope is Scope.DISCLOSED or (
            scope is not Scope.EVERYWHERE and who.court is None
        ):
            return frozenset()
        if scope is Scope.EVERYWHERE:
            return self._everywhere
        if scope is Scope.SUBTREE:
            return self.registry.subtree(who.court or "")
        return frozenset({who.court}) if who.court in self.registry.courts else frozenset()

    def grants(self, who: Principal) -> dict[str, Courts]:
        """Every action `who` may take and on which courts ("*": every court), for the pages.

        Some grants still depend on the target (see `limits`); each request is decided by `can`.
        The answer is shared between callers: do not change it.
        """
        key = (who.role, who.court)
        cached = self._grants.get(key)
        if cached is not None:
            return cached
        scope, allowed = _ROLES.get(who.role, (Scope.DISCLOSED, frozenset()))
        everywhere = scope in (Scope.EVERYWHERE, Scope.DISCLOSED)
        result: dict[str, Courts] = {}
        for action in sorted(allowed):
            courts = self._everywhere if everywhere else self.visible_courts(who, action)
            if courts == self._everywhere:
                result[action] = "*"
            elif courts:
                result[action] = sorted(courts)
        if len(self._grants) < MAX_CACHED_GRANTS:
            self._grants[key] = result
        return result

    def limits(self, who: Principal) -> dict[str, str]:
        """Granted actions that also depend on the target: "bench" (only where `who` sits on
        the bench) or "disclosed" (only what has been disclosed)."""
        scope, allowed = _ROLES.get(who.role, (Scope.DISCLOSED, frozenset()))
        if scope is Scope.DISCLOSED:
            return dict.fromkeys(sorted(allowed), "disclosed")
        if who.role == "judge":
            return dict.fromkeys(sorted(allowed & _JUDGE_OWN_WORK), "bench")
        return {}
