"""Redaction for publication: each rule of the SPC's 2016 rules proved on real-looking text."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hearing.redaction import Person, RedactionRules, Redactor, masked_name, redact

PARTIES = [
    Person("张三", "plaintiff"),
    Person("李四", "defendant"),
    Person("欧阳娜娜", "appellant"),
    Person("王小明", "victim"),
    Person("赵小红", "plaintiff", minor=True),
    Person("哈尔滨市某某商贸有限公司", "defendant", kind="organisation"),
]


def r(text: str, rules: RedactionRules | None = None, persons: list[Person] = PARTIES) -> str:
    return Redactor(persons, rules).redact(text)


@pytest.mark.parametrize(("name", "shown"), [
    ("张三", "张某"), ("李小龙", "李某"), ("欧阳娜娜", "欧阳某"), ("司马光明", "司马某"),
    ("诸葛亮", "诸葛某"), ("司马", "司某"), ("买买提·艾力", "买某"), ("John Smith", "J"),
])
def test_surname_and_mou(name: str, shown: str) -> None:
    assert masked_name(name) == shown


def test_party_names_keep_the_surname() -> None:
    text = "原告张三与被告李四民间借贷纠纷一案，上诉人欧阳娜娜不服一审判决。"
    assert r(text) == "原告张某与被告李某民间借贷纠纷一案，上诉人欧阳某不服一审判决。"


def test_minors_and_victims_are_fully_hidden() -> None:
    text = "被害人王小明系被告人李四之邻居；未成年人赵小红由其母代为诉讼。"
    assert r(text) == "被害人某某1系被告人李某之邻居；未成年人某某2由其母代为诉讼。"
    only_one = r("被害人王小明到庭。", persons=[Person("王小明", "victim")])
    assert only_one == "被害人某某到庭。"
    rules = RedactionRules(hidden_name="[姓名已隐去]", number_collisions=False)
    assert r("被害人王小明", rules) == "被害人[姓名已隐去]"


def test_names_that_collide_are_numbered() -> None:
    people = [Person("张三"), Person("张伟"), Person("张三丰", "third_party")]
    text = "原告张三、张伟与第三人张三丰均到庭。"
    assert r(text, persons=people) == "原告张某1、张某2与第三人张某3均到庭。"


def test_organisations_officials_and_lawyers_are_exempt() -> None:
    rules = RedactionRules(exempt_names=frozenset({"李四平"}), exempt_roles=frozenset({"agent"}))
    people = [*PARTIES, Person("钱律师", "agent")]
    text = ("被告哈尔滨市某某商贸有限公司，法定代表人李四。审判长李四平。"
            "委托诉讼代理人钱律师，黑龙江某某律师事务所律师。")
    assert r(text, rules, people) == (
        "被告哈尔滨市某某商贸有限公司，法定代表人李某。审判长李四平。"
        "委托诉讼代理人钱律师，黑龙江某某律师事务所律师。")


def test_id_numbers_are_removed() -> None:
    text = "原告张三，公民身份号码23010219800501123X，被告李四，身份证号230103199212121234。"
    assert r(text) == "原告张某，公民身份号码×××，被告李某，身份证号×××。"


def test_phone_numbers_are_removed() -> None:
    text = ("张三，联系电话13812345678；李四手机+86 139-0451-6789；"
            "办公电话0451-86661234，传真(0451)86661235转12，座机：045184441234。")
    assert r(text) == ("张某，联系电话×××；李某手机×××；办公电话×××，传真×××，座机：×××。")


def test_bank_accounts_and_emails_are_removed() -> None:
    text = ("被告应将款项汇入原告张三的中国工商银行账户，账号：3500 0401 1920 0123 456，"
            "或银行卡6217000010012345678；电子邮箱zhangsan@example.com。")
    assert r(text) == ("被告应将款项汇入原告张某的中国工商银行账户，账号：×××，"
                       "或银行卡×××；电子邮箱×××。")


def test_licence_plates_are_removed() -> None:
    assert r("被告人李四驾驶黑A12345号小型轿车与黑AD12345号新能源车相撞。") == \
        "被告人李某驾驶×××号小型轿车与×××号新能源车相撞。"


@pytest.mark.parametrize(("text", "kept"), [
    ("住哈尔滨市道里区某某街12号。", "住哈尔滨市道里区。"),
    ("住黑龙江省哈尔滨市道里区安静街12号3单元501室。", "住黑龙江省哈尔滨市道里区。"),
    ("住哈尔滨市南岗区学府路74号院2号楼1单元302，", "住哈尔滨市南岗区，"),
    ("现住哈尔滨市香坊区红旗大街某某小区5栋2单元601室。", "现住哈尔滨市香坊区。"),
    ("住大庆市萨尔图区某某街道某某小区12-3-401。", "住大庆市萨尔图区。"),
    ("户籍地黑龙江省五常市某某镇某某村三组。", "户籍地黑龙江省五常市。"),
    ("住五常市向阳镇兴隆村。", "住五常市。"),
])
def test_addresses_are_kept_down_to_county_or_district(text: str, kept: str) -> None:
    assert r(text) == kept


@pytest.mark.parametrize("text", [
    "本案由哈尔滨市道里区人民法院第一法庭公开开庭审理。",
    "（2017）黑0102民初123号民事判决书已发生法律效力。",
    "哈尔滨市道里区某某村民委员会作为第三人参加诉讼。",
    "判决被告于2017年12月1日前给付原告借款本金100000元及利息。",
    "原告诉请支付货款人民币1,234,567.89元。",
])
def test_what_must_stay_stays(text: str) -> None:
    assert r(text) == text


def test_each_rule_can_be_switched_off() -> None:
    text = "原告张三，身份证号230102198005011234，电话13812345678，住哈尔滨市道里区某某街12号。"
    off = RedactionRules(names=False, id_numbers=False, phones=False, addresses=False)
    assert r(text, off) == text
    only_names = replace(off, names=True)
    assert r(text, only_names) == text.replace("张三", "张某")
    custom = RedactionRules(removed="[已删除]", name_mask="**")
    assert r(text, custom) == "原告张**，身份证号[已删除]，电话[已删除]，住哈尔滨市道里区。"


def test_a_whole_paragraph() -> None:
    text = (
        "原告：张三，男，1980年5月1日出生，汉族，住哈尔滨市道里区安静街12号3单元501室，"
        "公民身份号码230102198005011234，联系电话13812345678。\n"
        "被告：李四，女，1985年3月8日出生，住哈尔滨市南岗区学府路74号院2号楼1单元302。\n"
        "原告张三向本院提出诉讼请求：判令被告李四偿还借款50000元，"
        "款项已于2016年5月转入被告李四名下账号6222021234567890123。"
    )
    assert redact(text, PARTIES) == (
        "原告：张某，男，1980年5月1日出生，汉族，住哈尔滨市道里区，"
        "公民身份号码×××，联系电话×××。\n"
        "被告：李某，女，1985年3月8日出生，住哈尔滨市南岗区。\n"
        "原告张某向本院提出诉讼请求：判令被告李某偿还借款50000元，"
        "款项已于2016年5月转入被告李某名下账号×××。"
    )


def test_markup_in_text_is_left_to_the_page_to_escape() -> None:
    # Redaction changes words, not markup: pages escape whatever they show.
    assert r("<b>张三</b>") == "<b>张某</b>"
