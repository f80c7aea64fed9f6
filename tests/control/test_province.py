"""The province file: the real court tree, and validation that names the court."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from control.config import DEFAULT_CONFIG, ConfigError
from control.db import Database
from control.migrate import upgrade
from control.models import Court, Courtroom, Feed
from control.province import load_province
from control.registry import CourtRegistry, sync_province

PROVINCE = DEFAULT_CONFIG.parent / "province.toml"


def test_heilongjiang_has_192_courts_and_888_rooms() -> None:
    p = load_province(PROVINCE)
    levels = Counter(c.level for c in p.courts)
    assert levels == {"high": 1, "intermediate": 16, "basic": 175}
    assert p.room_count == 888
    high = p.courts[0]
    assert high.name_zh == "黑龙江省高级人民法院" and high.code == "HL"
    names = {c.name_zh for c in p.courts if c.level == "intermediate"}
    for city in ("哈尔滨", "齐齐哈尔", "牡丹江", "佳木斯", "大庆", "鸡西", "双鸭山", "伊春",
                 "七台河", "鹤岗", "黑河", "绥化", "大兴安岭", "林区", "农垦", "铁路运输"):
        assert any(city in n for n in names), city
    by_code = {c.code: c for c in p.courts}
    # Higher and busier courts have more rooms.
    per_level: dict[str, list[int]] = {}
    for c in p.courts:
        per_level.setdefault(c.level, []).append(len(c.rooms))
    avg = {k: sum(v) / len(v) for k, v in per_level.items()}
    assert avg["high"] > avg["intermediate"] > avg["basic"]
    assert all("main" in r.feeds for c in p.courts for r in c.rooms)
    assert by_code["HL0102"].parent == "HL01"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "p.toml"
    head = '[province]\nname_zh = "省"\nname_en = "P"\n'
    path.write_text(head + body, encoding="utf-8")
    return path


HIGH = ('[[courts]]\ncode = "HL"\ncase_prefix = "黑"\nname_zh = "高"\nname_en = "H"\n'
        'level = "high"\n')
MID = ('[[courts]]\ncode = "HL01"\ncase_prefix = "黑01"\nname_zh = "中"\nname_en = "M"\n'
       'level = "intermediate"\nparent = "HL"\n')


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (HIGH + HIGH, "court HL: code is used twice"),
        (MID, "court HL01: parent 'HL' is not listed before it"),
        (HIGH + MID.replace('"intermediate"', '"basic"'), "cannot sit under a high court"),
        (HIGH.replace('"HL"', '"../x"'), "code: must match"),
        (HIGH + 'rooms = [{ code = "HL01-01", name_zh = "a", name_en = "b" }]\n',
         "must look like HL-NN"),
        (HIGH + 'rooms = [{ code = "HL-01", name_zh = "a", name_en = "b", feeds = ["Main!"] }]\n',
         "feeds: expected distinct"),
        (HIGH.replace('level = "high"', 'level = "supreme"'), "level: 'supreme'"),
        (HIGH + 'color = "red"\n', "court HL: color: unknown key"),
    ],
)
def test_invalid_province_is_refused(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError, match=message) as info:
        load_province(path)
    assert str(path) in str(info.value)


def test_loading_is_idempotent(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(db)
    province = load_province(PROVINCE)
    with db.session() as s:
        first = sync_province(s, province)
    with db.session() as s:
        second = sync_province(s, province)
    assert first.courts_added == 192 and first.rooms_added == 888
    assert not second.changed
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Court)) == 192
        assert s.scalar(select(func.count()).select_from(Courtroom)) == 888
        feeds = s.scalar(select(func.count()).select_from(Feed))
        reg = CourtRegistry.load(s)
    assert feeds == sum(len(r.feeds) for c in province.courts for r in c.rooms)
    assert len(reg.rooms) == 888
    assert reg.subtree("HL") == frozenset(reg.courts)
    assert reg.is_within("HL0102", "HL01") and not reg.is_within("HL01", "HL0102")
    assert not reg.is_within("HL0103", "HL0102")
    db.close()


def test_changed_province_updates_and_removes_rooms(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(db)
    room = 'rooms = [{ code = "HL-01", name_zh = "一", name_en = "One", feeds = ["main"] }, ' \
           '{ code = "HL-02", name_zh = "二", name_en = "Two" }]\n'
    with db.session() as s:
        sync_province(s, load_province(_write(tmp_path, HIGH + room)))
    changed = room.replace('"One"', '"First"').replace('["main"]', '["main", "sub"]')
    changed = changed.replace(', { code = "HL-02", name_zh = "二", name_en = "Two" }', "")
    with db.session() as s:
        report = sync_province(s, load_province(_write(tmp_path, HIGH + changed)))
    assert (report.rooms_updated, report.rooms_removed) == (1, 1)
    with db.session() as s:
        reg = CourtRegistry.load(s)
    assert list(reg.rooms) == ["HL-01"]
    assert reg.rooms["HL-01"].name_en == "First" and reg.rooms["HL-01"].feeds == ("main", "sub")
    db.close()
