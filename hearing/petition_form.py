"""The remote petition sign-up form: who the petitioner is and what about, checked."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from hearing.errors import HearingError

_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final = "10X98765432"
_ID_FORM: Final = re.compile(r"^\d{17}[\dX]$")
_MOBILE: Final = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE: Final = re.compile(r"^0\d{9,11}$")


@dataclass(frozen=True)
class SignUp:
    """What a petitioner enters, already checked."""

    court: str
    name: str
    phone: str
    id_number: str
    subject: str


def check_id_number(raw: str) -> str:
    """An 18-character resident identity number (GB 11643-1999) with a correct check digit."""
    value = raw.strip().upper()
    if not _ID_FORM.match(value):
        raise HearingError(400, "id_number must be an 18-character resident identity number",
                           {"field": "id_number"})
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise HearingError(400, "the check digit of id_number is wrong", {"field": "id_number"})
    return value


def normalize_phone(raw: str) -> str:
    """A mainland mobile (13812345678) or landline with area code (045188886666) as digits."""
    digits = re.sub(r"[\s\-()（）]", "", raw)
    for prefix in ("+86", "0086"):
        digits = digits.removeprefix(prefix)
    if not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise HearingError(400, "phone must be a mobile number or a landline with its area code",
                           {"field": "phone"})
    return digits


def clean_text(raw: str, name: str, max_len: int, multiline: bool = False) -> str:
    """Trimmed, non-empty, no control characters; kept verbatim otherwise (pages escape it)."""
    value = raw.strip()
    if not value:
        raise HearingError(400, f"field {name!r} is empty", {"field": name})
    if len(value) > max_len:
        raise HearingError(400, f"field {name!r} is longer than {max_len} characters",
                           {"field": name})
    allowed = "\n\t" if multiline else ""
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
        raise HearingError(400, f"field {name!r} holds control characters", {"field": name})
    return value
