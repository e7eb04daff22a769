"""Unit tests of ingest/fields.py: units, deadlines, amounts, years, targets, contacts from one clause's text."""

from __future__ import annotations

import datetime as dt

import pytest

from core.records import Amount, Contact, Deadline, Target
from ingest.fields import (
    body_deadline,
    extract_amounts,
    extract_contacts,
    extract_targets,
    extract_unit_block,
    extract_years,
    parse_deadline,
    split_units,
    units_of,
)

TODAY = dt.date(2026, 11, 22)

# --- units --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "units"),
    [
        ("县经济信息委、县商务委，重庆赤甲集团", ["县经济信息委", "县商务委", "重庆赤甲集团"]),
        # a bracketed part of a name is not a separator
        ("县经济信息委，各乡镇（街道）、重庆白盐集团", ["县经济信息委", "各乡镇（街道）", "重庆白盐集团"]),
        ("县农业农村委、各乡镇(街道)", ["县农业农村委", "各乡镇(街道)"]),
        # a cell broken over lines by the layout
        ("县生态\n环境局", ["县生态环境局"]),
        ("县规划和自然资源局、\n\n县国资管理中心、\n县科技局", ["县规划和自然资源局", "县国资管理中心", "县科技局"]),
        # "A等B" names two units
        ("区大数据发展局等区级有关部门", ["区大数据发展局", "区级有关部门"]),
        ("县科技局；县教委。", ["县科技局", "县教委"]),
        ("县科技局、县科技局", ["县科技局"]),
        ("", []),
    ],
)
def test_split_units(cell: str, units: list[str]) -> None:
    assert split_units(cell) == units


def test_unit_block_with_nested_brackets() -> None:
    text = (
        "（一）网播产业。实现全国网红聚奉节。（牵头单位：县文化旅游委、县商务委；"
        "责任单位：县科技局、各乡镇（街道），重庆白盐集团）"
    )
    lead, resp, span = extract_unit_block(text)
    assert lead == ["县文化旅游委", "县商务委"]
    assert resp == ["县科技局", "各乡镇（街道）", "重庆白盐集团"]
    assert span is not None
    assert text[span[0] : span[1]] == text[text.index("（牵头单位") :]


@pytest.mark.parametrize(
    ("text", "lead", "resp"),
    [
        ("开发“轻快准”游戏产品。〔牵头单位：区委宣传部；责任单位：区经济信息委〕", ["区委宣传部"], ["区经济信息委"]),
        ("建设平台。（牵头部门：县教委；配合部门：县财政局、县发展改革委）", ["县教委"], ["县财政局", "县发展改革委"]),
        ("营造良好营商环境。（牵头单位：县行政服务中心）", ["县行政服务中心"], []),
        ("牵头单位：区财政局；责任单位：区级有关部门", ["区财政局"], ["区级有关部门"]),
        ("（牵头单位：区委宣传部、区委网信办；责任单位：区公安分局等区级有关部门）",
         ["区委宣传部", "区委网信办"], ["区公安分局", "区级有关部门"]),
    ],
)
def test_unit_block_labels(text: str, lead: list[str], resp: list[str]) -> None:
    got_lead, got_resp, _ = extract_unit_block(text)
    assert (got_lead, got_resp) == (lead, resp)


def test_no_unit_block() -> None:
    assert extract_unit_block("加强组织领导。各牵头单位、配合单位要高度重视。") == ([], [], None)


@pytest.mark.parametrize(
    ("text", "lead_first", "lead", "resp"),
    [
        ("建设平台。（县甲局、县乙局负责）", False, [], ["县甲局", "县乙局"]),
        ("建设平台。（县甲局、县乙局、各乡镇（街道）负责）", True, ["县甲局"], ["县乙局", "各乡镇（街道）"]),
        ("建设平台。（县甲局、县乙局负责。列第一位者为牵头单位，下同）", True, ["县甲局"], ["县乙局"]),
        ("建设平台。（由县甲局负责）", True, ["县甲局"], []),
        ("（责任单位：县甲局、县乙局）", True, [], ["县甲局", "县乙局"]),  # a label always wins
        ("各单位要明确专人负责。", True, [], []),  # "负责" in a sentence names nobody
        ("建设平台（县甲局负责）后开展评估。", True, [], []),  # only a closing bracket assigns units
    ],
)
def test_units_of_a_closing_duty_bracket(text: str, lead_first: bool, lead: list[str], resp: list[str]) -> None:
    assert units_of(text, lead_first=lead_first) == (lead, resp)


@pytest.mark.parametrize("cell", ["/", "／", "—", "无", "-"])
def test_a_cell_without_a_unit(cell: str) -> None:
    assert split_units(cell) == []


# --- deadlines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2023年12月底", Deadline("2023年12月底", "2023-12-31")),
        ("2025年11月底", Deadline("2025年11月底", "2025-11-30")),
        ("2024年2月底", Deadline("2024年2月底", "2024-02-29")),  # leap year
        ("2026年6月30日", Deadline("2026年6月30日", "2026-06-30")),
        ("2025年6月31日", Deadline("2025年6月31日", "2025-06-30")),  # a day past month end is clamped
        ("2025年底", Deadline("2025年底", "2025-12-31")),
        ("2025年", Deadline("2025年", "2025-12-31")),
        ("2025年6月前", Deadline("2025年6月前", "2025-06-30")),
        ("每年12月底", Deadline("每年12月底", "2026-12-31", recurring=True)),  # this year's occurrence
        ("以系统规定时间为准", Deadline("以系统规定时间为准")),
        ("长期坚持", Deadline("长期坚持")),
        ("2025年13月底", Deadline("2025年13月底")),  # not a month: kept as text, no date
        ("2025年\n12月底", Deadline("2025年12月底", "2025-12-31")),  # a cell broken over lines
        ("２０２５年１２月底", Deadline("２０２５年１２月底", "2025-12-31")),  # full-width digits; text verbatim
    ],
)
def test_parse_deadline(raw: str, expected: Deadline) -> None:
    assert parse_deadline(raw, today=TODAY) == expected


def test_empty_deadline_cell_is_none() -> None:
    assert parse_deadline("", today=TODAY) is None
    assert parse_deadline(" \n", today=TODAY) is None


def test_recurring_deadline_follows_today() -> None:
    assert parse_deadline("每年6月底", today=dt.date(2030, 1, 1)) == Deadline("每年6月底", "2030-06-30", True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("申请时间：2025年8月11日至8月22日。", Deadline("2025年8月11日至8月22日", "2025-08-22")),
        ("受理时间为2024年12月1日至2025年1月10日。", Deadline("2024年12月1日至2025年1月10日", "2025-01-10")),
        ("申报时间：２０２６年３月１日—３月３１日", Deadline("２０２６年３月１日—３月３１日", "2026-03-31")),
        ("申请时间：每年3月", None),
    ],
)
def test_an_application_window_ends_on_its_last_day(text: str, expected: Deadline | None) -> None:
    assert body_deadline(text, today=TODAY) == expected


def test_body_deadline_from_label() -> None:
    text = "建设智慧农业示范基地3个，完成时限：2026年12月底。（牵头单位：县农业农村委）"
    assert body_deadline(text, today=TODAY) == Deadline("2026年12月底", "2026-12-31")
    assert body_deadline("（完成时限：每年12月底）", today=TODAY) == Deadline("每年12月底", "2026-12-31", True)
    assert body_deadline("到2025年底完成建设。", today=TODAY) is None  # no label: not a deadline field


# --- amounts ------------------------------------------------------------------------------------


def test_amount_lists_are_separate_sums() -> None:
    text = "年营业额达到1000万元、5000万元、1亿元以上的，分别给予一次性奖励2万元、5万元、10万元。"
    amounts = extract_amounts(text)
    assert [(a.value, a.unit, a.is_cap) for a in amounts] == [
        (1000, "万元", False), (5000, "万元", False), (1, "亿元", False),
        (2, "万元", False), (5, "万元", False), (10, "万元", False),
    ]
    assert amounts[2].yuan == 1e8
    assert amounts[3].yuan == 2e4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一次性奖励不超过30万元", Amount("不超过30万元", 30, "万元", is_cap=True)),
        ("单个项目最高不超过100万元", Amount("单个项目最高不超过100万元", 100, "万元", is_cap=True)),
        ("最高50万元", Amount("最高50万元", 50, "万元", is_cap=True)),
        # a cap word before the verb still caps the sum
        ("最高给予50万元奖励", Amount("最高给予50万元", 50, "万元", is_cap=True)),
        ("最高奖励20万元", Amount("最高奖励20万元", 20, "万元", is_cap=True)),
        ("每户给予20万元奖励", Amount("给予20万元", 20, "万元", is_cap=False)),
        ("营业收入超过 15000 亿元", Amount("超过 15000 亿元", 15000, "亿元", is_cap=False)),
        ("营收1.5亿元", Amount("1.5亿元", 1.5, "亿元", is_cap=False)),
        ("补助５０００元", Amount("５０００元", 5000, "元", is_cap=False)),  # matched as 5000, quoted as written
    ],
)
def test_amount(text: str, expected: Amount) -> None:
    assert extract_amounts(text) == [expected]


def test_no_amounts() -> None:
    assert extract_amounts("建设5G基站2525个，比重不低于2%。") == []


# --- years and targets --------------------------------------------------------------------------


def test_years_in_order_without_duplicates() -> None:
    text = "2022年各街道新培育科技型企业5家。2023—2025年各街道每年新培育6家，到2025年累计30家。"
    assert extract_years(text) == [2022, 2023, 2025]
    assert extract_years("营收1000万元，建设2525个基站") == []
    assert extract_years("规划期为2021-2025年") == [2021, 2025]


def test_targets_tie_a_quantity_to_a_year() -> None:
    text = "到2027年，建成5G基站5050个；数字经济核心产业增加值占比显著提升。2026年，营收超30亿元。"
    assert extract_targets(text) == [
        # the sentence as written; "5G" names a technology, not a quantity
        Target("到2027年，建成5G基站5050个；", 2027, "5050个"),
        Target("2026年，营收超30亿元。", 2026, "30亿元"),
    ]
    bandwidth = "到2025年，骨干直联带宽达 490G。"
    assert extract_targets(bandwidth) == [Target(bandwidth, 2025, "490G")]
    assert extract_targets("持续优化营商环境。") == []
    assert extract_targets("到2025年，基本形成发展格局。") == []  # a year without a quantity is no target


# --- contacts -----------------------------------------------------------------------------------


def test_contacts_in_one_sentence() -> None:
    text = "联系人：张三，联系电话：023-12345678，地址：重庆市奉节县永安街道XX路1号，邮箱：kjj@example.gov.cn。"
    assert extract_contacts(text) == [
        Contact("联系人", "张三"),  # the next label is not a second name
        Contact("联系电话", "023-12345678"),
        Contact("地址", "重庆市奉节县永安街道XX路1号"),
        Contact("邮箱", "kjj@example.gov.cn"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("联系人：张三、李四；电话：13812345678",
         [Contact("联系人", "张三、李四"), Contact("联系电话", "13812345678")]),
        ("咨询电话：（023）56661234", [Contact("联系电话", "（023）56661234")]),
        ("联系人：张三，李四，联系电话：１３８１２３４５６７８",
         [Contact("联系人", "张三，李四"), Contact("联系电话", "１３８１２３４５６７８")]),
        ("联系电话：023—56661234转8001", [Contact("联系电话", "023—56661234")]),
        ("联系地址：重庆市万州区高笋塘1号；E-mail：wz@example.cn",
         [Contact("地址", "重庆市万州区高笋塘1号"), Contact("邮箱", "wz@example.cn")]),
        ("联系人：王五", [Contact("联系人", "王五")]),
        ("加强联系对接各配合单位。", []),
    ],
)
def test_contacts(text: str, expected: list[Contact]) -> None:
    assert extract_contacts(text) == expected
