"""Court and courtroom registry: the province loaded into the database and held in memory."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from control.models import Court, Courtroom, Feed
from control.province import Province


@dataclass(frozen=True)
class CourtNode:
    code: str
    parent: str | None
    level: str
    case_prefix: str
    name_zh: str
    name_en: str
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoomInfo:
    code: str
    court: str
    name_zh: str
    name_en: str
    feeds: tuple[str, ...]


@dataclass
class SyncReport:
    courts_added: int = 0
    courts_updated: int = 0
    rooms_added: int = 0
    rooms_updated: int = 0
    rooms_removed: int = 0

    @property
    def changed(self) -> bool:
        return any(vars(self).values())


def _assign(row: object, values: dict[str, object]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def _set_feeds(room: Courtroom, names: tuple[str, ...]) -> None:
    """Keep rows of feeds that stay (their ids may be referenced), add and drop the rest."""
    kept = {f.name: f for f in room.feeds if f.name in names}
    for i, name in enumerate(names):
        kept.setdefault(name, Feed(name=name)).position = i
    room.feeds = sorted(kept.values(), key=lambda f: f.position)


def sync_province(session: Session, province: Province) -> SyncReport:
    """Make the court and room tables match the province file; running it twice changes nothing."""
    report = SyncReport()
    courts = {c.code: c for c in session.scalars(select(Court))}
    rooms = {
        r.code: r for r in session.scalars(select(Courtroom).options(selectinload(Courtroom.feeds)))
    }
    wanted_rooms: set[str] = set()
    for pos, spec in enumerate(province.courts):
        values: dict[str, object] = {
            "parent_code": spec.parent,
            "level": spec.level,
            "case_prefix": spec.case_prefix,
            "name_zh": spec.name_zh,
            "name_en": spec.name_en,
            "position": pos,
        }
        court = courts.get(spec.code)
        if court is None:
            session.add(Court(code=spec.code, **values))
            report.courts_added += 1
        elif _assign(court, values):
            report.courts_updated += 1
        session.flush()
        for rpos, rspec in enumerate(spec.rooms):
            wanted_rooms.add(rspec.code)
            rvalues: dict[str, object] = {
                "court_code": spec.code,
                "name_zh": rspec.name_zh,
                "name_en": rspec.name_en,
                "position": rpos,
            }
            room = rooms.get(rspec.code)
            if room is None:
                room = Courtroom(code=rspec.code, **rvalues)
                room.feeds = [Feed(name=f, position=i) for i, f in enumerate(rspec.feeds)]
                session.add(room)
                report.rooms_added += 1
                continue
            changed = _assign(room, rvalues)
            if tuple(f.name for f in room.feeds) != rspec.feeds:
                _set_feeds(room, rspec.feeds)
                changed = True
            report.rooms_updated += changed
    stale = set(rooms) - wanted_rooms
    if stale:
        session.execute(delete(Feed).where(Feed.room_code.in_(stale)))
        session.execute(delete(Courtroom).where(Courtroom.code.in_(stale)))
        report.rooms_removed = len(stale)
    return report


@dataclass
class CourtRegistry:
    """Read-only snapshot of the court tree with O(1) subtree membership."""

    courts: dict[str, CourtNode]
    rooms: dict[str, RoomInfo]
    _subtrees: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _rooms_by_court: dict[str, tuple[RoomInfo, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        by_court: dict[str, list[RoomInfo]] = {c: [] for c in self.courts}
        for room in self.rooms.values():
            by_court[room.court].append(room)
        self._rooms_by_court = {c: tuple(rs) for c, rs in by_court.items()}
        for code in self._postorder():
            node = self.courts[code]
            below = {code}
            for child in node.children:
                below |= self._subtrees[child]
            self._subtrees[code] = frozenset(below)

    def _postorder(self) -> list[str]:
        order: list[str] = []
        stack = [(c.code, False) for c in self.courts.values() if c.parent is None]
        while stack:
            code, expanded = stack.pop()
            if expanded:
                order.append(code)
                continue
            stack.append((code, True))
            stack.extend((child, False) for child in self.courts[code].children)
        return order

    @classmethod
    def load(cls, session: Session) -> CourtRegistry:
        rows = list(session.scalars(select(Court).order_by(Court.position)))
        children: dict[str, list[str]] = {c.code: [] for c in rows}
        for c in rows:
            if c.parent_code is not None:
                children[c.parent_code].append(c.code)
        courts = {
            c.code: CourtNode(
                c.code, c.parent_code, c.level, c.case_prefix, c.name_zh, c.name_en,
                tuple(children[c.code]),
            )
            for c in rows
        }
        room_rows = session.scalars(
            select(Courtroom)
            .options(selectinload(Courtroom.feeds))
            .join(Court)
            .order_by(Court.position, Courtroom.position)
        )
        rooms = {
            r.code: RoomInfo(r.code, r.court_code, r.name_zh, r.name_en,
                             tuple(f.name for f in r.feeds))
            for r in room_rows
        }
        return cls(courts, rooms)

    def subtree(self, code: str) -> frozenset[str]:
        """The court and every court below it (empty for an unknown code)."""
        return self._subtrees.get(code, frozenset())

    def is_within(self, court: str, ancestor: str) -> bool:
        return court in self._subtrees.get(ancestor, ())

    def rooms_of(self, courts: Iterable[str]) -> list[RoomInfo]:
        """Rooms of the given courts, in the province file's order."""
        wanted = set(courts)
        return [r for c in self.courts if c in wanted for r in self._rooms_by_court[c]]
