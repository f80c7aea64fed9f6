"""Case numbers: every part validated, ASCII and full-width input, one canonical spelling."""

from __future__ import annotations

import pytest

from hearing.case_number import (
    ADMINISTRATIVE,
    CIVIL,
    CRIMINAL,
    ENFORCEMENT,
    CaseNumber,
    CaseNumberError,
    normalise_case_number,
    parse_case_number,
)

PREFIXES = {"黑", "黑01", "黑0102", "黑0103", "黑02"}


def parse(text: str) -> CaseNumber:
    return parse_case_number(text, PREFIXES, this_year=2025)


def test_parts_and_canonical_form() -> None:
    n = parse("（2017）黑01民初123号")
    assert n == CaseNumber(2017, "黑01", "民初", 123)
    assert n.case_type == CIVIL and str(n) == "（2017）黑01民初123号"


@pytest.mark.parametrize("text", [
    "(2017)黑01民初123号", "（2017)黑01民初123号", "〔2017〕黑01民初123号",
    " （２０１７） 黑01 民初 １２３号 ", "(2017)黑01民初123号\u3000",
])
def test_brackets_digits_and_spaces_are_normalised(text: str) -> None:
    assert normalise_case_number(text, PREFIXES) == "（2017）黑01民初123号"


@pytest.mark.parametrize(("text", "code", "kind"), [
    ("（2020）黑0102刑初5号", "刑初", CRIMINAL),
    ("（2020）黑01刑终77号", "刑终", CRIMINAL),
    ("（2021）黑行终3号", "行终", ADMINISTRATIVE),
    ("（2021）黑0103行初12号", "行初", ADMINISTRATIVE),
    ("（2022）黑0102执1号", "执", ENFORCEMENT),
    ("（2022）黑0102执恢88号", "执恢", ENFORCEMENT),
    ("（2022）黑0102执异9号", "执异", ENFORCEMENT),
    ("（2023）黑01民终999999号", "民终", CIVIL),
    ("（2023）黑民申4号", "民申", CIVIL),
])
def test_case_types(text: str, code: str, kind: str) -> None:
    n = parse(text)
    assert (n.type_code, n.case_type) == (code, kind)


def test_longest_court_prefix_wins() -> None:
    assert parse("（2019）黑0102民初1号").court_prefix == "黑0102"
    assert parse("（2019）黑01民初1号").court_prefix == "黑01"
    assert parse("（2019）黑民终1号").court_prefix == "黑"


@pytest.mark.parametrize(("text", "part", "says"), [
    ("", "number", "empty"),
    ("2017黑01民初123号", "brackets", "start with the year"),
    ("（2017黑01民初123号", "brackets", "closing bracket"),
    ("（17）黑01民初123号", "year", "four digits"),
    ("（1989）黑01民初123号", "year", "1989"),
    ("（2027）黑01民初123号", "year", "2027"),
    ("（2017）京01民初123号", "court", "京01"),
    ("（2017）黑99民初123号", "court", "黑99"),
    ("（2017）01民初123号", "court", "court code"),
    ("（2017）黑01123号", "court", "黑01123"),
    ("（2017）黑01号", "type", "case-type"),
    ("（2017）黑01民X123号", "type", "民X"),
    ("（2017）黑01刑终号", "sequence", "must follow"),
    ("（2017）黑01民初0号", "sequence", "start with 0"),
    ("（2017）黑01民初0123号", "sequence", "start with 0"),
    ("（2017）黑01民初1234567号", "sequence", "1234567"),
    ("（2017）黑01民初123", "sequence", "号"),
    ("（2017）黑01民初123号之一", "sequence", "号"),
    ("（2017）黑01民初123号" + "号" * 30, "number", "40"),
])
def test_errors_name_the_part(text: str, part: str, says: str) -> None:
    with pytest.raises(CaseNumberError) as err:
        parse(text)
    assert err.value.part == part
    assert says in err.value.message


def test_next_year_is_allowed_for_filings_at_new_year() -> None:
    assert parse("（2026）黑01民初1号").year == 2026


def test_without_a_registry_any_court_code_shape_is_accepted() -> None:
    assert parse_case_number("（2019）京0105民初12号", this_year=2025).court_prefix == "京0105"
