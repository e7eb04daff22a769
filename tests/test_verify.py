"""Verification of generated answers, token by token, on a made-up county's plan: each reply in the tables
is checked against the clauses it cites (bot/verify.py), as the LLM answerer checks each sentence."""

from __future__ import annotations

import pytest

from bot import facts
from bot.verify import cited_numbers, reply_problems, source_of, split_sentences
from core.records import Clause, PolicyDocument

DOC = PolicyDocument(doc_id="d1", title="白鹭县促进数字经济发展若干措施", doc_number="白府办发〔2025〕4号",
                     issuer="白鹭县人民政府办公室", issued_on="2025-02-20", region="白鹭县", period=None,
                     period_start=None, period_end=None, valid_until=None, status="effective",
                     source_path="bailu.txt", sha256="0")
CLAUSES = [
    Clause("c1", "d1", 1, ["二、支持措施", "（三）加大入驻奖励"],
           "（三）加大入驻奖励。对新入驻园区并首次纳入规模以上统计的企业，每户给予30万元奖励；对年营业收入首次"
           "突破1亿元的企业，一次性奖励不超过50万元。（牵头单位：县经济和信息化局；责任单位：县财政局、县统计局）",
           lead_units=["县经济和信息化局"], responsible_units=["县财政局", "县统计局"]),
    Clause("c2", "d1", 2, ["二、支持措施", "4.人才安居"],
           "4.人才安居。引进的博士研究生每人每月给予3000元租房补贴，最长补贴36个月。不得与其他住房补贴重复享受。"),
    Clause("c3", "d1", 3, ["附件 任务分解表", "第7项"],
           "建设县级数据共享交换平台，实现部门数据按需共享。\t县大数据中心\t县政务服务办\t2026年9月底",
           kind="task_row", lead_units=["县大数据中心"], responsible_units=["县政务服务办"]),
    Clause("c4", "d1", 4, ["附则"], "本措施自2025年3月1日起施行，有效期3年。"),
]
SOURCES = [source_of(c, DOC) for c in CLAUSES]
MIN_SUPPORT = 0.3  # the default of Settings.verify.min_support

FAITHFUL = [
    "新入驻并首次纳入规上统计的企业，每户给予30万元奖励[1]。",
    "新入驻并首次纳入规上统计的企业，每户可获得三十万元奖励[1]。",
    "新入驻企业首次纳入规模以上统计的，每户给予300000元奖励[1]。",
    "年营业收入首次突破1亿元的企业，一次性奖励最高50万元[1]。",
    "年营业收入首次突破一亿元的企业，一次性奖励不超过五十万元[1]。",
    "牵头单位是县经济和信息化局，县财政局、县统计局为责任单位[1]。",
    "该措施由县经济和信息化局牵头[1]。",
    "引进的博士研究生每月可领3000元租房补贴，最长36个月[2]。",
    "租房补贴不能与其他住房补贴重复享受[2]。",
    "数据共享交换平台由县大数据中心牵头，2026年9月底前完成[3]。",
    "数据共享交换平台的完成时限是2026年9月[3]。",
    "本措施自2025年3月1日起施行，有效期3年[4]。",
    "本措施（白府办发〔2025〕4号）自2025年3月1日起施行[4]。",
    "新入驻并首次纳入规上统计的企业每户给予30万元奖励。[1]",
    "根据[1]，新入驻并首次纳入规上统计的企业每户给予30万元奖励。",
    "【1】新入驻并首次纳入规上统计的企业每户给予30万元奖励。",
    "具体如下：\n1. 新入驻并首次入统的企业：每户30万元[1]；\n2. 营业收入首次突破1亿元的企业：最高50万元[1]。",
    "**新入驻并首次纳入规上统计的企业**每户给予30万元奖励[1]。\n\n[1] 《白鹭县促进数字经济发展若干措施》 二、支持措施",
    "新入驻企业每户给予30万元奖励[1]，博士研究生每月3000元租房补贴[2]。",
    "新入驻企业每户给予30万元奖励[1][2]。",
]

# (reply, what the check must name)
UNFAITHFUL = [
    ("新入驻企业每户给予3万元奖励[1]。", "figure 3万元"),  # "3" is a substring of "30"
    ("营收首次突破1亿元的企业一次性奖励不超过5万元[1]。", "figure 5万元"),  # "5" of "50"
    ("新入驻企业每户给予二十五万元奖励[1]。", "figure 二十五万元"),  # Chinese numerals are read
    ("新入驻企业每户给予25万元奖励[1]。", "figure 25万元"),
    ("新入驻企业每户给予30万元奖励[2]。", "figure 30万元"),  # the figure is in [1], not in the clause cited
    ("新入驻企业每户给予30万元奖励[1]，博士研究生每月5000元租房补贴[2]。", "figure 5000元"),
    ("营收首次突破1亿元的企业一次性奖励50万元[1]。", "figure 50万元"),  # a ceiling stated as the sum
    ("博士研究生每月3000元租房补贴，最长补贴48个月[2]。", "figure 48个月"),
    ("新入驻并首次入统的企业不能获得任何奖励[1]。", "negation"),  # the clause grants a reward
    ("新入驻园区的企业没有入驻奖励[1]。", "negation"),
    ("博士研究生租房补贴不需要申请即可领取[2]。", "negation"),
    ("入驻奖励的牵头单位是县财政局[1]。", "not a lead unit"),  # a responsible unit named as the lead
    ("入驻奖励由县发展和改革委员会牵头[1]。", "unit 县发展和改革委员会"),
    ("入驻奖励由县科技局负责兑现[1]。", "unit 县科技局"),
    ("数据共享交换平台由市大数据中心牵头[3]。", "unit 市大数据中心"),
    ("数据共享交换平台须在2025年9月底前完成[3]。", "date 2025年9月"),
    ("本措施自2025年4月1日起施行[4]。", "date 2025年4月1日"),
    ("本措施（白府办发〔2024〕4号）自2025年3月1日起施行[4]。", "文号"),
    ("新入驻企业每户给予30万元奖励[1]。符合条件的企业还可以叠加享受其他奖励。", "without a citation"),
    ("新入驻企业每户给予30万元奖励[5]。", "unknown sources [5]"),
    ("新入驻企业每户给予30万元奖励。", "no [n] citation"),
    ("该奖励仅限国有控股企业申请，民营企业需另行报批[1]。", "does not state"),
    ("", "empty reply"),
]


@pytest.mark.parametrize("reply", FAITHFUL)
def test_a_faithful_reply_passes(reply: str) -> None:
    assert reply_problems(reply, SOURCES, min_support=MIN_SUPPORT) == []


@pytest.mark.parametrize(("reply", "named"), UNFAITHFUL)
def test_an_unfaithful_reply_is_rejected_for_what_it_invents(reply: str, named: str) -> None:
    problems = reply_problems(reply, SOURCES, min_support=MIN_SUPPORT)
    assert problems, reply
    assert any(named in p for p in problems), problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("每户给予20万元奖励", [(200000.0, "元", "")]),
        ("每户给予二十五万元奖励", [(250000.0, "元", "")]),
        ("一次性奖励不超过100万元", [(1000000.0, "元", "ceiling")]),
        ("营业收入1.5亿元以上", [(150000000.0, "元", "floor")]),
        ("补贴标准为10—20万元", [(100000.0, "元", ""), (200000.0, "元", "")]),
        ("覆盖率达到百分之七十", [(70.0, "%", "")]),
        ("覆盖率达到70%", [(70.0, "%", "")]),
        ("引育企业1,200家", [(1200.0, "家", "")]),
        ("统一部署，一次性奖励，推进十四五规划", []),  # words, not figures
    ],
)
def test_figures_are_read_with_value_unit_and_bound(text: str, expected: list[tuple[float, str, str]]) -> None:
    assert [(f.value, f.unit, f.bound) for f in facts.facts_in(text).figures] == expected


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("牵头单位：县科技局，县委改革办；责任单位：县发展改革委、县经济信息委",
         ["县经济信息委", "县发展改革委", "县委改革办", "县科技局"]),
        ("由县人力资源和社会保障局会同县财政局负责", ["县财政局", "县人力资源和社会保障局"]),
        ("请联系贵公司所在地政府，构建新发展格局，办理手续，委托第三方", []),
    ],
)
def test_unit_names_are_read_whole(text: str, units: list[str]) -> None:
    assert facts.unit_names(text) == units


def test_dates_and_doc_numbers_are_normalised() -> None:
    f = facts.facts_in("依据白府办发〔2025〕4号，二〇二五年十二月三十一日前完成")
    assert [(d.year, d.month, d.day) for d in f.dates] == [(2025, 12, 31)]
    assert [(n.year, n.number) for n in f.doc_numbers] == [(2025, 4)]


def test_sentences_keep_the_citations_after_their_end_mark() -> None:
    done, rest = split_sentences("每户给予30万元。[1]另有补贴[2]。最后一句还在", final=False)
    assert done == ["每户给予30万元。[1]", "另有补贴[2]。"] and rest == "最后一句还在"
    done, rest = split_sentences("每户给予30万元。", final=False)
    assert done == [] and rest == "每户给予30万元。"  # a citation may still follow the end mark
    assert cited_numbers("甲[2]，乙[1][2]，丙[3,4]") == [2, 1, 3, 4]
