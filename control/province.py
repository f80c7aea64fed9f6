"""The province's court hierarchy and courtrooms, read from `configs/province.toml`."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from control.config import ConfigError

LEVELS = ("high", "intermediate", "basic")
PARENT_LEVEL = {"intermediate": "high", "basic": "intermediate"}
COURT_CODE = re.compile(r"^[A-Z0-9]{2,10}$")
ROOM_CODE = re.compile(r"^[A-Z0-9]{2,10}-[A-Z0-9]{1,6}$")
FEED_NAME = re.compile(r"^[a-z][a-z0-9_]{0,15}$")


@dataclass(frozen=True)
class RoomSpec:
    code: str
    name_zh: str
    name_en: str
    feeds: tuple[str, ...]


@dataclass(frozen=True)
class CourtSpec:
    code: str
    case_prefix: str
    name_zh: str
    name_en: str
    level: str
    parent: str | None
    rooms: tuple[RoomSpec, ...]


@dataclass(frozen=True)
class Province:
    name_zh: str
    name_en: str
    courts: tuple[CourtSpec, ...]

    @property
    def room_count(self) -> int:
        return sum(len(c.rooms) for c in self.courts)


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key}: expected a non-empty string, got {value!r}")
    return value.strip()


def _room(raw: Any, court: str, where: str) -> RoomSpec:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    code = _text(raw, "code", where)
    if not ROOM_CODE.match(code) or not code.startswith(court + "-"):
        raise ConfigError(f"{where}: code: {code!r} must look like {court}-NN")
    feeds = raw.get("feeds", ["main"])
    if (
        not isinstance(feeds, list)
        or not feeds
        or not all(isinstance(f, str) and FEED_NAME.match(f) for f in feeds)
        or len(set(feeds)) != len(feeds)
    ):
        raise ConfigError(f"{where}: feeds: expected distinct lower-case names, got {feeds!r}")
    unknown = set(raw) - {"code", "name_zh", "name_en", "feeds"}
    if unknown:
        raise ConfigError(f"{where}: {sorted(unknown)[0]}: unknown key")
    return RoomSpec(code, _text(raw, "name_zh", where), _text(raw, "name_en", where), tuple(feeds))


def _court(raw: Any, index: int, source: Path) -> CourtSpec:
    where = f"{source}: [[courts]] #{index + 1}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    code = _text(raw, "code", where)
    where = f"{source}: court {code}"
    if not COURT_CODE.match(code):
        raise ConfigError(f"{where}: code: must match {COURT_CODE.pattern}")
    level = _text(raw, "level", where)
    if level not in LEVELS:
        raise ConfigError(f"{where}: level: {level!r} is not one of {', '.join(LEVELS)}")
    parent = raw.get("parent")
    if level == "high" and parent is not None:
        raise ConfigError(f"{where}: parent: the high court has no parent")
    if level != "high" and not isinstance(parent, str):
        raise ConfigError(f"{where}: parent: a {level} court needs a parent court code")
    rooms = raw.get("rooms", [])
    if not isinstance(rooms, list):
        raise ConfigError(f"{where}: rooms: expected a list of tables")
    unknown = set(raw) - {"code", "case_prefix", "name_zh", "name_en", "level", "parent", "rooms"}
    if unknown:
        raise ConfigError(f"{where}: {sorted(unknown)[0]}: unknown key")
    return CourtSpec(
        code=code,
        case_prefix=_text(raw, "case_prefix", where),
        name_zh=_text(raw, "name_zh", where),
        name_en=_text(raw, "name_en", where),
        level=level,
        parent=parent,
        rooms=tuple(_room(r, code, f"{where}: rooms[{i}]") for i, r in enumerate(rooms)),
    )


def load_province(path: Path) -> Province:
    """Parse and validate the court tree; every error names the file and the court."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: province file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    head = raw.get("province", {})
    if not isinstance(head, dict):
        raise ConfigError(f"{path}: [province]: expected a table")
    courts_raw = raw.get("courts")
    if not isinstance(courts_raw, list) or not courts_raw:
        raise ConfigError(f"{path}: [[courts]]: at least one court is required")
    courts = tuple(_court(c, i, path) for i, c in enumerate(courts_raw))
    by_code: dict[str, CourtSpec] = {}
    rooms: set[str] = set()
    for court in courts:
        if court.code in by_code:
            raise ConfigError(f"{path}: court {court.code}: code is used twice")
        if court.parent is not None:
            parent = by_code.get(court.parent)
            if parent is None:
                raise ConfigError(
                    f"{path}: court {court.code}: parent {court.parent!r} is not listed before it"
                )
            if parent.level != PARENT_LEVEL[court.level]:
                raise ConfigError(
                    f"{path}: court {court.code}: a {court.level} court cannot sit under a "
                    f"{parent.level} court"
                )
        by_code[court.code] = court
        for room in court.rooms:
            if room.code in rooms:
                raise ConfigError(f"{path}: room {room.code}: code is used twice")
            rooms.add(room.code)
    if sum(c.level == "high" for c in courts) != 1:
        raise ConfigError(f"{path}: [[courts]]: exactly one high court is required")
    return Province(
        name_zh=_text(head, "name_zh", f"{path}: [province]"),
        name_en=_text(head, "name_en", f"{path}: [province]"),
        courts=courts,
    )
