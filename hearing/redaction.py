"""Redaction of text for publication, after the SPC's 2016 rules for judgments online.

《最高人民法院关于人民法院在互联网公布裁判文书的规定》(法释〔2016〕19号): names of natural
persons are replaced by the surname and 某 (art. 9: minority and foreign names keep their first
character, English names their first letter; names that collide get a number); home addresses,
contacts, ID numbers, bank accounts and licence plates are removed (art. 10), an address kept
down to its county or district (art. 11). Beyond the letter of art. 8 this product hides the
names of minors and victims entirely and masks every natural-person party by default; each rule
is a switch in `RedactionRules`, and organisations, officials, judges and lawyers are exempt.

Names come from the case's parties (known names); numbers and addresses from patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

# Two-character surnames of the 百家姓 and common modern ones.
COMPOUND_SURNAMES: Final = frozenset(
    "欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 公羊 赫连 澹台 皇甫 "
    "宗政 濮阳 公冶 太叔 申屠 公孙 慕容 仲孙 钟离 长孙 宇文 司徒 鲜于 司空 闾丘 子车 亓官 "
    "司寇 巫马 公西 颛孙 壤驷 公良 漆雕 乐正 宰父 谷梁 拓跋 夹谷 轩辕 令狐 段干 百里 呼延 "
    "东郭 南门 羊舌 微生 公户 公玉 公仪 梁丘 公仲 公上 公门 公山 公坚 左丘 公伯 西门 公祖 "
    "第五 公乘 贯丘 公皙 南荣 东里 东宫 仲长 子书 子桑 即墨 达奚 褚师 单于 完颜".split()
)


@dataclass(frozen=True)
class Person:
    """A name known from the case: a party, or anyone else the caller names."""

    name: str
    role: str = ""
    kind: str = "natural"  # natural | organisation
    minor: bool = False


@dataclass(frozen=True)
class RedactionRules:
    """Which rules apply and what replaces what they remove."""

    names: bool = True
    hide_minors: bool = True
    hide_victims: bool = True
    number_collisions: bool = True
    id_numbers: bool = True
    phones: bool = True
    emails: bool = True
    bank_accounts: bool = True
    plates: bool = True
    addresses: bool = True
    name_mask: str = "某"
    hidden_name: str = "某某"
    removed: str = "×××"
    victim_roles: frozenset[str] = frozenset({"victim"})
    exempt_roles: frozenset[str] = frozenset()
    # Officials, judges, lawyers named in the text: never touched even if a party shares a name.
    exempt_names: frozenset[str] = field(default_factory=frozenset)


_LATIN_NAME: Final = re.compile(r"[A-Za-z][A-Za-z .'\-]*")
_SEPARATORS: Final = "·•・."


def masked_name(name: str, mask: str = "某") -> str:
    """张三 → 张某, 欧阳娜娜 → 欧阳某, 买买提·艾力 → 买某, John Smith → J."""
    name = name.strip()
    if _LATIN_NAME.fullmatch(name):
        return name[0].upper()
    if any(s in name for s in _SEPARATORS):
        return name[0] + mask
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2] + mask
    return name[:1] + mask


def name_replacements(persons: Iterable[Person], rules: RedactionRules) -> dict[str, str]:
    """What each known name becomes; names left as they are map to themselves."""
    out: dict[str, str] = {}
    for p in persons:
        name = p.name.strip()
        if not name or name in out:
            continue
        if p.kind != "natural" or name in rules.exempt_names or p.role in rules.exempt_roles:
            out[name] = name
        elif (p.minor and rules.hide_minors) or (p.role in rules.victim_roles
                                                 and rules.hide_victims):
            out[name] = rules.hidden_name
        elif rules.names:
            out[name] = masked_name(name, rules.name_mask)
        else:
            out[name] = name
    for name in rules.exempt_names:
        out[name] = name
    if rules.number_collisions:
        _number_collisions(out)
    return out


def _number_collisions(out: dict[str, str]) -> None:
    """Two people both shown as 张某 become 张某1 and 张某2, in the order they were given."""
    groups: dict[str, list[str]] = {}
    for name, shown in out.items():
        if shown != name:
            groups.setdefault(shown, []).append(name)
    for shown, names in groups.items():
        if len(names) > 1:
            for i, name in enumerate(names, 1):
                out[name] = f"{shown}{i}"


_D: Final = r"[0-9０-９]"
# Article 10 numbers. Order matters: an ID number is also 18 digits of a would-be account.
_ID_NUMBER: Final = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[\dXx](?![0-9A-Za-z])"
)
_ACCOUNT_AFTER_WORD: Final = re.compile(
    r"((?:银行)?(?:账号|帐号|账户|帐户|卡号|银行卡)(?:号码|号)?\s*[:：为是]?\s*)(\d[\d\s\-]{6,38}\d)"
)
_ACCOUNT: Final = re.compile(r"(?<!\d)(?:\d{16,19}|\d{4}(?:[ \-]\d{4}){3}(?:[ \-]?\d{1,3})?)(?!\d)")
_PHONE_AFTER_WORD: Final = re.compile(
    r"((?:联系)?(?:电话|手机|座机|传真|联系方式)(?:号码|号)?\s*[:：为是]?\s*)"
    r"([+（(]?\d[\d\s()（）+\-转]{5,26}\d)"
)
_MOBILE: Final = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}(?!\d)")
_LANDLINE: Final = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?86[ \-]?)?(?:0\d{2,3}[ \-]|[（(]0\d{2,3}[)）]\s?)\d{7,8}"
    r"(?:(?:-|转)\d{1,6})?(?!\d)"
)
_EMAIL: Final = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PLATE: Final = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z]·?"
    r"[A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警]?(?![A-Za-z0-9])"
)

# Article 11: an address is kept down to its county or district; what follows goes. A detail
# starts right after 区/县/旗/市 and never spans another administrative unit.
_C: Final = r"(?:(?![省市区县])[\u4e00-\u9fff])"  # 红旗大街: 旗 may be in a street
_W: Final = rf"(?:{_C}|[0-9A-Za-z０-９])"
_TOWN: Final = rf"(?:{_C}{{1,8}}?(?:街道|镇|乡))"
_STREET: Final = rf"(?:{_W}{{1,12}}?(?:大街|大道|路|街|巷|胡同|弄|道|村(?![民委])|屯))"
_ESTATE: Final = rf"(?:{_W}{{1,12}}?(?:小区|花园|家园|公寓|大厦|社区|苑|新城))"
_N: Final = rf"(?:{_D}|[一二三四五六七八九十百零〇])"
_UNIT: Final = rf"(?:{_N}+(?:号院|号楼|号|栋|幢|单元|层|楼|室|户|组|社))"
_DASHED: Final = rf"(?:{_D}+(?:[\-－]{_D}+){{1,3}}(?:号|室)?)"
_TAIL: Final = rf"(?:{_UNIT}+{_D}*|{_DASHED})"
_ADDRESS_DETAIL: Final = re.compile(
    rf"(?<=[区县旗市])(?:{_TOWN}?(?:{_STREET}{_ESTATE}?|{_ESTATE}){_TAIL}"
    rf"|{_TOWN}?{_C}{{1,8}}?(?:村(?![民委])|屯))"
)


class Redactor:
    """Redacts texts of one case: its known names, then the pattern rules."""

    def __init__(self, persons: Iterable[Person] = (),
                 rules: RedactionRules | None = None) -> None:
        self.rules = rules or RedactionRules()
        self.replacements = name_replacements(persons, self.rules)
        names = sorted(self.replacements, key=len, reverse=True)  # longest name wins
        self._names = re.compile("|".join(map(re.escape, names))) if names else None

    def redact(self, text: str) -> str:
        r = self.rules
        if self._names is not None:
            text = self._names.sub(lambda m: self.replacements[m.group(0)], text)
        if r.id_numbers:
            text = _ID_NUMBER.sub(r.removed, text)
        if r.bank_accounts:
            text = _ACCOUNT_AFTER_WORD.sub(lambda m: m.group(1) + r.removed, text)
            # An ID number is 18 digits too: it is the ID rule's, whether on or off.
            text = _ACCOUNT.sub(lambda m: m.group(0) if _ID_NUMBER.fullmatch(m.group(0))
                                else r.removed, text)
        if r.phones:
            text = _PHONE_AFTER_WORD.sub(lambda m: m.group(1) + r.removed, text)
            text = _MOBILE.sub(r.removed, text)
            text = _LANDLINE.sub(r.removed, text)
        if r.emails:
            text = _EMAIL.sub(r.removed, text)
        if r.plates:
            text = _PLATE.sub(r.removed, text)
        if r.addresses:
            text = _ADDRESS_DETAIL.sub("", text)
        return text


def redact(text: str, persons: Iterable[Person] = (), rules: RedactionRules | None = None) -> str:
    """Redact one text; build a `Redactor` to redact many texts of one case."""
    return Redactor(persons, rules).redact(text)
