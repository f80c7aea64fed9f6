"""Chinese case numbers (案号), e.g. `（2017）黑01民初123号`: parse, validate, normalise.

The form follows the Supreme People's Court's 2016 rules on case numbers: the year of filing in
brackets, the court's code (法院代字, e.g. 黑01), the case-type code (类型代字, e.g. 民初) and the
sequence number, ended by 号. Input may use ASCII or full-width brackets and digits; the
normalised form uses full-width brackets （） and ASCII digits.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from control.db import utcnow

FIRST_YEAR: Final = 1990
MAX_SEQUENCE: Final = 999_999

CIVIL, CRIMINAL, ADMINISTRATIVE, ENFORCEMENT = "civil", "criminal", "administrative", "enforcement"
CASE_TYPES: Final = (CIVIL, CRIMINAL, ADMINISTRATIVE, ENFORCEMENT)

# 类型代字 of the SPC's 2016 standard that a trial court of this system hears, by category.
TYPE_CODES: Final[dict[str, str]] = {
    **dict.fromkeys(
        ("民初", "民终", "民再", "民申", "民抗", "民监", "民辖", "民辖终", "民特", "民督",
         "民催", "民撤", "民他", "破申", "破", "破终"),
        CIVIL,
    ),
    **dict.fromkeys(
        ("刑初", "刑终", "刑再", "刑申", "刑抗", "刑监", "刑核", "刑更", "刑医", "刑没",
         "刑辖", "刑他"),
        CRIMINAL,
    ),
    **dict.fromkeys(
        ("行初", "行终", "行再", "行申", "行抗", "行监", "行辖", "行审", "行审复", "行他"),
        ADMINISTRATIVE,
    ),
    **dict.fromkeys(
        ("执", "执恢", "执保", "执异", "执复", "执监", "执协", "执他", "执配"),
        ENFORCEMENT,
    ),
}

_OPEN, _CLOSE = "(（〔[", ")）〕]"
_WIDE_DIGITS: Final = str.maketrans("０１２３４５６７８９", "0123456789")
_SPACES: Final = re.compile(r"[\s\u3000]+")
_YEAR: Final = re.compile(r"^(\d{4})(.)")
_COURT: Final = re.compile(r"^([\u4e00-\u9fff])(\d*)")
_TYPE: Final = re.compile(r"^(\D+?)(?=\d|$)")
_SEQUENCE: Final = re.compile(r"^(\d+)(.*)$")


class CaseNumberError(ValueError):
    """A case number that does not parse; `part` names what is wrong."""

    def __init__(self, part: str, message: str) -> None:
        super().__init__(f"{part}: {message}")
        self.part, self.message = part, message


@dataclass(frozen=True)
class CaseNumber:
    """A valid case number, in parts."""

    year: int
    court_prefix: str
    type_code: str
    sequence: int

    @property
    def case_type(self) -> str:
        return TYPE_CODES[self.type_code]

    def __str__(self) -> str:
        return f"（{self.year}）{self.court_prefix}{self.type_code}{self.sequence}号"


def parse_case_number(text: str, court_prefixes: Collection[str] | None = None,
                      this_year: int | None = None) -> CaseNumber:
    """Parse `text`; `court_prefixes` are the registry's case prefixes (any `X` + digits if None).

    Raises CaseNumberError naming the part (brackets, year, court, type, sequence) at fault.
    """
    this_year = this_year or utcnow().year
    s = _SPACES.sub("", text or "").translate(_WIDE_DIGITS)
    if not s:
        raise CaseNumberError("number", "the case number is empty")
    if len(s) > 40:
        raise CaseNumberError("number", "the case number is longer than 40 characters")
    if s[0] not in _OPEN:
        raise CaseNumberError("brackets", "must start with the year in brackets, e.g. （2017）")
    m = _YEAR.match(s[1:])
    if m is None:
        raise CaseNumberError("year", "the year must be four digits, e.g. （2017）")
    if m.group(2) not in _CLOSE:
        raise CaseNumberError("brackets", "the year must be followed by a closing bracket")
    year = int(m.group(1))
    if not FIRST_YEAR <= year <= this_year + 1:
        raise CaseNumberError("year", f"year {year} is outside {FIRST_YEAR}..{this_year + 1}")
    rest = s[m.end() + 1:]
    prefix = _court_prefix(rest, court_prefixes)
    rest = rest[len(prefix):]
    t = _TYPE.match(rest)
    if t is None:
        raise CaseNumberError("type", "a case-type code such as 民初 must follow the court code")
    type_code = t.group(1)
    if type_code.endswith("号") and type_code[:-1] in TYPE_CODES:
        raise CaseNumberError("sequence", "a sequence number must follow the case-type code")
    if type_code not in TYPE_CODES:
        raise CaseNumberError("type", f"unknown case-type code {type_code!r}")
    q = _SEQUENCE.match(rest[t.end():])
    if q is None:
        raise CaseNumberError("sequence", "a sequence number must follow the case-type code")
    digits, tail = q.groups()
    if tail != "号":
        raise CaseNumberError("sequence", "the sequence number must be followed by 号 and nothing "
                                          "else")
    if digits.startswith("0"):
        raise CaseNumberError("sequence", "the sequence number must not start with 0")
    sequence = int(digits)
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise CaseNumberError("sequence", f"sequence {sequence} is outside 1..{MAX_SEQUENCE}")
    return CaseNumber(year, prefix, type_code, sequence)


def _court_prefix(rest: str, prefixes: Collection[str] | None) -> str:
    """The court code at the start of `rest`: the longest known prefix not followed by a digit."""
    m = _COURT.match(rest)
    if m is None:
        raise CaseNumberError("court", "a court code such as 黑01 must follow the year")
    if prefixes is None:
        if len(m.group(2)) > 6:
            raise CaseNumberError("court", f"court code {m.group(0)!r} is too long")
        return m.group(0)
    known = [p for p in prefixes if rest.startswith(p) and not rest[len(p):][:1].isdigit()]
    if not known:
        raise CaseNumberError("court", f"unknown court code {m.group(0)!r}")
    return max(known, key=len)


def normalise_case_number(text: str, court_prefixes: Collection[str] | None = None) -> str:
    """The canonical spelling of a valid case number (raises CaseNumberError otherwise)."""
    return str(parse_case_number(text, court_prefixes))
