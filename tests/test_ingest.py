"""The ingest layer on the real sample corpus: catalog, golden clauses, clean verbatim text, other formats,
bad input in a batch, and idempotent re-ingest.

parse_document needs no embedder, so most checks run on it directly; the tests marked slow build an index.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest

from core.records import Clause, Contact, Deadline, PolicyDocument
from ingest.loaders import LoadError
from ingest.pipeline import parse_document
from tests.conftest import CHONGQING, FENGJIE_2022, FENGJIE_2026, JIULONGPO, POLICIES, WANZHOU

TODAY = dt.date(2026, 11, 22)
MAX_BYTES = 50 * 1024 * 1024
ALL = [FENGJIE_2026, FENGJIE_2022, WANZHOU, CHONGQING, JIULONGPO]

_cache: dict[tuple[str, dt.date], tuple[PolicyDocument, list[Clause]]] = {}


def parse(name: str, today: dt.date = TODAY) -> tuple[PolicyDocument, list[Clause]]:
    """A sample document parsed once per (file, today): the tests only read the records."""
    if (name, today) not in _cache:
        _cache[name, today] = parse_document(POLICIES / name, today=today, max_bytes=MAX_BYTES)
    return _cache[name, today]


def parse_path(path: Path) -> tuple[PolicyDocument, list[Clause]]:
    return parse_document(path, today=TODAY, max_bytes=MAX_BYTES)


def squash(text: str) -> str:
    return re.sub(r"\s", "", text)


META_PATHS = (["标题"], ["印发通知"], ["落款"], ["印发信息"])  # clauses kept for metadata questions


def policy_clauses(clauses: list[Clause]) -> list[Clause]:
    return [c for c in clauses if c.path not in META_PATHS]


def one(clauses: list[Clause], pred: Callable[[Clause], bool]) -> Clause:
    found = [c for c in clauses if pred(c)]
    assert len(found) == 1, [c.label for c in found]
    return found[0]


# --- 1. catalog ---------------------------------------------------------------------------------

CATALOG: dict[str, dict[str, object]] = {
    FENGJIE_2026: {
        "title": "奉节县聚焦“四网一数”发展软信产业行动计划（2026—2027年）",
        "doc_number": "奉节府办发〔2026〕8号",
        "issuer": "奉节县人民政府办公室",
        "issued_on": "2026-03-17",
        "region": "重庆市奉节县",
        "period": "2026—2027",
        "period_start": 2026,
        "period_end": 2027,
        "valid_until": None,
        "status": "effective",
        "aliases": ["四网一数"],
    },
    WANZHOU: {
        "title": "深入实施“满天星”计划助力数字经济发展实施方案（2023—2027年）",
        "doc_number": None,
        "issuer": "重庆市万州区人民政府办公室",
        "issued_on": "2023-12-24",
        "region": "重庆市万州区",
        "period": "2023—2027",
        "period_start": 2023,
        "period_end": 2027,
        "valid_until": None,
        "status": "effective",
        "aliases": ["满天星"],
    },
    FENGJIE_2022: {
        "title": "奉节县“科技创新赋能”工程实施方案",
        "doc_number": None,
        "issuer": "奉节县人民政府办公室",
        "issued_on": "2022-05-09",
        "region": "重庆市奉节县",
        "period": None,
        "period_start": None,
        "period_end": None,
        "valid_until": None,
        "status": "effective",
        "aliases": ["科技创新赋能"],
    },
    CHONGQING: {
        # the title is printed over two lines, "(2021—2025年)" on the second, with the source's ASCII brackets
        "title": "重庆市数字产业发展“十四五”规划(2021—2025年)",
        "doc_number": "渝府发〔2021〕45号",
        "issuer": "重庆市人民政府",
        "issued_on": "2022-01-05",  # the file prints no signature date; this is the footer's 印发 date
        "region": "重庆市",
        "period": "2021—2025",
        "period_start": 2021,
        "period_end": 2025,
        "valid_until": None,
        "status": "expired",
        "aliases": ["十四五"],
    },
    JIULONGPO: {
        "title": "重庆市九龙坡区进一步推进软件和信息服务业“满天星”行动计划实施方案",
        "doc_number": None,
        "issuer": None,  # a draft for comment: no header, no signature
        "issued_on": None,
        "region": "重庆市九龙坡区",
        "period": None,
        "period_start": None,
        "period_end": 2027,  # from "至2027年12月31日止"
        "valid_until": "2027-12-31",
        "status": "draft",
        "aliases": ["满天星"],
    },
}


def check_catalog(docs: dict[str, PolicyDocument]) -> None:
    assert sorted(docs) == sorted(CATALOG)
    for name, expected in CATALOG.items():
        doc = docs[name]
        assert {k: getattr(doc, k) for k in expected} == expected, name
        assert "\n" not in doc.title and doc.title == doc.title.strip(), name
        assert doc.source_file == name
        assert re.fullmatch(r"[0-9a-f]{64}", doc.sha256)
        assert doc.doc_id == doc.sha256[:16]
    assert sorted(d.region or "" for d in docs.values()) == sorted(
        ["重庆市", "重庆市万州区", "重庆市奉节县", "重庆市奉节县", "重庆市九龙坡区"]
    )


def test_catalog_from_parse_document() -> None:
    docs = {name: parse(name)[0] for name in ALL}
    check_catalog(docs)
    for name in ALL:
        assert docs[name].clause_count == len(parse(name)[1])


def test_status_follows_today() -> None:
    assert parse(CHONGQING, dt.date(2025, 6, 1))[0].status == "effective"
    assert parse(CHONGQING, dt.date(2025, 12, 31))[0].status == "effective"  # the period's last day
    assert parse(CHONGQING, dt.date(2026, 1, 1))[0].status == "expired"
    assert parse(FENGJIE_2026, dt.date(2028, 1, 1))[0].status == "expired"
    assert parse(JIULONGPO, dt.date(2025, 6, 1))[0].status == "draft"  # a draft stays a draft
    assert parse(JIULONGPO, dt.date(2030, 1, 1))[0].status == "draft"


@pytest.mark.slow
def test_catalog_in_the_sample_index(sample_index) -> None:
    docs = {d.source_file: d for d in sample_index.docs.values()}
    check_catalog(docs)
    assert len(sample_index.clauses) == sum(len(parse(name)[1]) for name in ALL)
    for name in ALL:  # the index holds exactly what parse_document produced
        doc, clauses = parse(name)
        assert docs[name].doc_id == doc.doc_id
        assert [c.to_dict() for c in sample_index.clauses if c.doc_id == doc.doc_id] == [c.to_dict() for c in clauses]


# --- 2. golden clauses --------------------------------------------------------------------------


def test_fengjie_2026_unit_blocks() -> None:
    clauses = parse(FENGJIE_2026)[1]
    drama = one(clauses, lambda c: c.path[-1] == "（四）网剧产业")
    assert drama.path == ["一、重点方向", "（四）网剧产业"]
    assert drama.kind == "body"
    assert drama.lead_units == ["县融媒体中心"]
    assert drama.responsible_units == ["县经济信息委", "县商务委", "县文化旅游委", "重庆赤甲集团"]
    assert drama.text.startswith("（四）网剧产业。与网剧、影视制作企业合作")
    assert drama.text.endswith(
        "（牵头单位：县融媒体中心；责任单位：县经济信息委、县商务委、县文化旅游委，重庆赤甲集团）"
    )

    live = one(clauses, lambda c: c.path[-1] == "（一）网播产业")
    assert live.path == ["一、重点方向", "（一）网播产业"]
    assert live.lead_units == ["县文化旅游委", "县商务委"]
    assert "各乡镇（街道）" in live.responsible_units  # nested brackets keep the name whole
    assert "重庆白盐集团" in live.responsible_units
    assert not any(u in ("各乡镇", "街道）", "街道") for u in live.responsible_units)

    # numbered measures under a （一） heading get a three-level path
    item = one(clauses, lambda c: c.path[-1] == "6．营造良好营商环境")
    assert item.path == ["二、重点措施", "（二）培育壮大市场主体", "6．营造良好营商环境"]
    assert (item.lead_units, item.responsible_units) == (["县行政服务中心"], [])


def task_rows() -> list[Clause]:
    return [c for c in parse(FENGJIE_2022)[1] if c.kind == "task_row"]


def row(n: int) -> Clause:
    return one(task_rows(), lambda c: c.path[-1] == f"第{n}项")


def test_fengjie_2022_task_table_has_51_rows() -> None:
    rows = task_rows()
    assert len(rows) == 51
    assert [c.path for c in rows] == [["附件 “科技创新赋能”工程任务分解表", f"第{i}项"] for i in range(1, 52)]
    for c in rows:
        assert c.lead_units, c.label
        assert c.deadline is not None and c.deadline.text, c.label
        assert "\n" not in c.text
    assert all(c.kind != "task_row" for c in parse(FENGJIE_2022)[1][: -len(rows)])  # the table is last


def test_fengjie_2022_task_rows() -> None:
    olive = one(task_rows(), lambda c: "油橄榄" in c.text)
    assert olive.path[-1] == "第16项"
    assert olive.lead_units == ["县林业局"]
    assert olive.responsible_units == ["县科技局"]
    assert olive.deadline == Deadline("2023年12月底", "2023-12-31", recurring=False)

    waste = one(task_rows(), lambda c: "无废奉节" in c.text)
    assert waste.lead_units == ["县生态环境局"]  # "县生态\n\n环境局" in the source, broken by a page
    assert waste.deadline == Deadline("2025年12月底", "2025-12-31")

    assert row(11).deadline == Deadline("以系统规定时间为准", None)

    contracts = row(34)
    assert "技术市场成交合同额" in contracts.text
    assert contracts.deadline is not None
    assert contracts.deadline.text == "每年12月底"
    assert contracts.deadline.recurring is True
    assert contracts.deadline.date == "2026-12-31"  # this year's occurrence
    assert any((a.text, a.value, a.unit) == ("1000万元", 1000, "万元") for a in contracts.amounts)

    assert row(7).lead_units == ["县发展改革委"]
    assert row(7).responsible_units == ["县规划和自然资源局", "县国资管理中心", "县科技局"]
    assert row(30).deadline == Deadline("2025年11月底", "2025-11-30")
    assert row(13).responsible_units == ["各乡镇（街道）"]
    assert row(1).text == (
        "围绕生态环境保护与修复方面引进推广一批先进的新技术、新材料和新设备。鼓励建立专业化的生态环境技术专业机构。"
        "\t县生态环境局\t2025年12月底"
    )


def test_wanzhou_amounts() -> None:
    clauses = parse(WANZHOU)[1]
    scale = one(clauses, lambda c: c.path[-1] == "2.鼓励企业扩大规模")
    assert scale.path == ["三、保障措施", "（二）加强政策支持", "2.鼓励企业扩大规模"]
    rewards = [(a.value, a.unit, a.is_cap) for a in scale.amounts]
    for value in (2, 5, 10):
        assert (value, "万元", False) in rewards

    bigger = one(clauses, lambda c: c.path[-1] == "1.鼓励企业做大做强")
    amounts = [(a.text, a.value, a.unit, a.is_cap) for a in bigger.amounts]
    assert ("给予20万元", 20, "万元", False) in amounts  # a fixed reward per enterprise, not a cap
    assert ("不超过30万元", 30, "万元", True) in amounts
    assert ("不超过100万元", 100, "万元", True) in amounts
    for a in bigger.amounts:  # every amount is quoted as written
        assert a.text in bigger.text


def test_chongqing_indicator_rows() -> None:
    clauses = parse(CHONGQING)[1]
    box = "专栏1 “十四五”数字产业集群发展目标"
    revenue = one(clauses, lambda c: c.text.startswith("数字产业业务收入（亿元）"))
    assert revenue.kind == "target"
    assert box in revenue.path
    assert revenue.path == [
        "二、总体要求", "（三）发展目标", box, "一、产业规模指标", "表头：指标名称（单位）｜2022年｜2025年｜指标属性"
    ]
    assert revenue.text == "数字产业业务收入（亿元）\t11000\t15000\t预期性"
    indicators = [c for c in clauses if box in c.path]
    assert len(indicators) == 15
    assert all(c.kind == "target" and "\t" in c.text for c in indicators)
    # the 专栏 2.. boxes of the plan hold key projects, not indicators
    projects = one(clauses, lambda c: c.text.startswith("集成电路产业补链强链工程"))
    assert (projects.kind, projects.path[-1]) == ("box", "专栏 2 集成电路产业重点工程")


# --- 3. cleanliness -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_clauses_are_clean_and_verbatim(name: str) -> None:
    source = squash((POLICIES / name).read_text("utf-8"))
    doc, clauses = parse(name)
    assert clauses
    for c in clauses:
        assert "[bookmark" not in c.text, c.label
        assert "抄送" not in c.text, c.label
        assert "此件公开发布" not in c.text, c.label
        if "印发给你们" in c.text:
            assert c.path == ["印发通知"], c.label
        assert squash(c.text) in source, c.label  # verbatim once whitespace is removed
        assert c.text == c.text.strip()
        assert c.path and all(p and "\n" not in p for p in c.path), c.path
        assert c.doc_id == doc.doc_id
    assert [c.seq for c in clauses] == list(range(len(clauses)))


def test_footer_and_debris_are_not_clauses() -> None:
    city = parse(CHONGQING)[1]
    footer = ("重庆警备区", "市高法院", "重庆市人民政府办公厅")
    assert not any(word in c.text for c in city for word in footer)
    # with no dated signature, the footer's 印发 line is kept alone, as the only statement of the date
    printed = one(city, lambda c: "印发" in c.text and c.path != ["印发通知"])
    assert (printed.path, printed.text) == (["印发信息"], "2022年1月5日印发")
    wanzhou = parse(WANZHOU)[1]
    assert not any("2023年12月26日印发" in c.text or "区人武部" in c.text for c in wanzhou)
    assert one(wanzhou, lambda c: c.path == ["落款"]).text == "重庆市万州区人民政府办公室 2023年12月24日"
    fengjie = parse(FENGJIE_2026)[1]
    signature = one(fengjie, lambda c: c.path == ["落款"])
    assert signature.text == "2026年3月17日"  # the [bookmark: _GoBack] before the date is gone


def test_unique_clause_ids() -> None:
    ids = [c.clause_id for name in ALL for c in parse(name)[1]]
    assert len(ids) == len(set(ids))
    assert [len(policy_clauses(parse(name)[1])) for name in ALL] == [26, 79, 25, 129, 29]


@pytest.mark.parametrize(
    "words",
    [
        "高校设立人工智能",  # "设\n\n立": split by a page break in the source
        "基站规模进入全国第一梯队",
        "校企合作共建实训基地",
        "数字经济核心产业增加值",
    ],
)
def test_page_breaks_do_not_split_words(words: str) -> None:
    assert any(words in c.text for c in parse(CHONGQING)[1])


@pytest.mark.parametrize("max_chars", [600, 150])
def test_long_clauses_split_at_sentence_ends(max_chars: int) -> None:
    for name in ALL:
        source = squash((POLICIES / name).read_text("utf-8"))
        _, clauses = parse_document(POLICIES / name, today=TODAY, max_bytes=MAX_BYTES, max_clause_chars=max_chars)
        assert len({c.clause_id for c in clauses}) == len(clauses)
        for c in clauses:
            assert squash(c.text) in source
            if len(c.text) > max_chars:  # only a single sentence may run longer
                sentences = [s for s in re.split(r"(?<=[。；;！？])", c.text) if s]
                assert len(sentences) == 1, (name, c.label, len(c.text))
    parts = [c for c in parse_document(POLICIES / WANZHOU, today=TODAY, max_bytes=MAX_BYTES, max_clause_chars=150)[1]
             if c.path[-1] == "（二）聚力打造科技创新平台"]
    assert len(parts) > 1
    assert "".join(c.text for c in parts) == one(parse(WANZHOU)[1], lambda c: c.path == parts[0].path).text


# --- 4. contacts --------------------------------------------------------------------------------

SHORT_POLICY = """奉节县人民政府办公室
关于印发奉节县数字乡村试点实施方案的通知
奉节府办发〔2025〕3号
各乡镇人民政府、街道办事处，县政府各部门，有关单位：
《奉节县数字乡村试点实施方案》已经县政府同意，现印发给你们，请认真抓好落实。
奉节县人民政府办公室
2025年4月1日
（此件公开发布）
奉节县数字乡村试点实施方案
为加快数字乡村建设，结合我县实际，制定本方案。
一、工作目标
到2026年，建成数字乡村示范村10个。
二、重点任务
（一）建设农村电商服务站。在各乡镇建设电商服务站，对新建站点给予一次性奖励2万元。\
（牵头单位：县商务委；责任单位：各乡镇（街道）、县农业农村委）
（二）推广智慧农业。建设智慧农业示范基地3个，完成时限：2026年12月底。（牵头单位：县农业农村委；责任单位：县科技局）
三、保障措施
（一）加强组织领导。成立工作专班，统筹推进试点工作。
（二）做好咨询服务。联系人：张三，联系电话：023-12345678，地址：重庆市奉节县永安街道XX路1号，邮箱：kjj@example.gov.cn。
"""

SHORT_POLICY_2 = """重庆市万州区智慧社区建设工作方案
为推进智慧社区建设，制定本方案。
一、主要任务
（一）建设社区服务平台。2025年底前建成区级智慧社区服务平台。（牵头单位：区民政局；配合单位：区大数据发展局）
（二）开展示范创建。对评为市级示范的智慧社区给予最高不超过10万元奖励。（牵头单位：区民政局）
二、保障措施
加强资金保障，区财政局统筹安排工作经费。
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_contacts_and_fields_of_a_short_policy(tmp_path: Path) -> None:
    doc, clauses = parse_path(write(tmp_path / "policy.txt", SHORT_POLICY))
    assert (doc.title, doc.doc_number, doc.issuer, doc.issued_on, doc.region, doc.status) == (
        "奉节县数字乡村试点实施方案", "奉节府办发〔2025〕3号", "奉节县人民政府办公室",
        "2025-04-01", "重庆市奉节县", "effective",
    )
    service = one(clauses, lambda c: c.path[-1] == "（二）做好咨询服务")
    assert service.path == ["三、保障措施", "（二）做好咨询服务"]
    assert service.contacts == [
        Contact("联系人", "张三"),
        Contact("联系电话", "023-12345678"),
        Contact("地址", "重庆市奉节县永安街道XX路1号"),
        Contact("邮箱", "kjj@example.gov.cn"),
    ]
    assert all(c.contacts == [] for c in clauses if c is not service)

    shops = one(clauses, lambda c: c.path[-1] == "（一）建设农村电商服务站")
    assert shops.lead_units == ["县商务委"]
    assert shops.responsible_units == ["各乡镇（街道）", "县农业农村委"]
    assert [(a.text, a.value, a.unit, a.is_cap) for a in shops.amounts] == [("奖励2万元", 2, "万元", False)]
    farming = one(clauses, lambda c: c.path[-1] == "（二）推广智慧农业")
    assert farming.deadline == Deadline("2026年12月底", "2026-12-31")
    goal = one(clauses, lambda c: c.path == ["一、工作目标"])
    assert (goal.kind, goal.years, [t.value for t in goal.targets]) == ("target", [2026], ["10个"])


# --- 5. other formats ---------------------------------------------------------------------------

TASK_HEADER = ["序号", "工作任务", "牵头单位", "配合单位", "完成时限"]
TASK_ROWS = [
    ["1", "建成生态环境监测平台。", "县生态\n环境局", "县科技局", "2025年12月底"],
    ["2", "建设数据中心。", "县经济信息委", "县发展改革委、县财政局", "每年6月底"],
]


def task_docx(path: Path, before_table: list[str]) -> Path:
    document = docx.Document()
    document.add_paragraph("奉节县测试平台建设实施方案")
    document.add_paragraph("为推进平台建设，制定本方案。")
    document.add_heading("一、重点任务", level=1)
    document.add_paragraph("（一）打造平台。建设平台。（牵头单位：县经济信息委；责任单位：县科技局）")
    for text in before_table:
        document.add_paragraph(text)
    table = document.add_table(rows=1 + len(TASK_ROWS), cols=len(TASK_HEADER))
    for cells, values in zip(table.rows, [TASK_HEADER, *TASK_ROWS], strict=True):
        for cell, value in zip(cells.cells, values, strict=True):
            first, *more = value.split("\n")
            cell.text = first
            for line in more:  # a second paragraph in the cell, as Word wraps "县生态/环境局"
                cell.add_paragraph(line)
    document.save(str(path))
    return path


def check_task_rows(clauses: list[Clause], base: list[str]) -> None:
    rows = [c for c in clauses if c.kind == "task_row"]
    assert [c.path for c in rows] == [[*base, "第1项"], [*base, "第2项"]]
    assert rows[0].text == "建成生态环境监测平台。\t县生态环境局\t县科技局\t2025年12月底"
    assert (rows[0].lead_units, rows[0].responsible_units) == (["县生态环境局"], ["县科技局"])
    assert rows[0].deadline == Deadline("2025年12月底", "2025-12-31")
    assert (rows[1].lead_units, rows[1].responsible_units) == (["县经济信息委"], ["县发展改革委", "县财政局"])
    assert rows[1].deadline == Deadline("每年6月底", "2026-06-30", recurring=True)


def test_docx_with_attached_task_table(tmp_path: Path) -> None:
    doc, clauses = parse_path(task_docx(tmp_path / "plan.docx", ["附件", "重点任务分解表"]))
    assert (doc.title, doc.region, doc.status) == ("奉节县测试平台建设实施方案", "重庆市奉节县", "effective")
    platform = one(clauses, lambda c: c.path == ["一、重点任务", "（一）打造平台"])
    assert platform.text == "（一）打造平台。建设平台。（牵头单位：县经济信息委；责任单位：县科技局）"
    assert (platform.lead_units, platform.responsible_units) == (["县经济信息委"], ["县科技局"])
    check_task_rows(clauses, ["附件 重点任务分解表"])
    assert len(policy_clauses(clauses)) == 4  # 前言, （一）, two rows: no header or cell fragments


def test_docx_attachment_title_on_the_attachment_line(tmp_path: Path) -> None:
    _, clauses = parse_path(task_docx(tmp_path / "plan.docx", ["附件1：重点任务分解表"]))
    check_task_rows(clauses, ["附件 重点任务分解表"])
    assert len(policy_clauses(clauses)) == 4


def test_docx_task_table_in_the_body(tmp_path: Path) -> None:
    """A table under a heading, no 附件: rows the loader writes a cell a line are still read as rows."""
    _, clauses = parse_path(task_docx(tmp_path / "plan.docx", []))
    check_task_rows(clauses, ["一、重点任务"])
    assert len(policy_clauses(clauses)) == 4


def test_docx_attachment_table_without_row_numbers(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("测试工作方案")
    document.add_paragraph("一、工作目标")
    document.add_paragraph("完成各项指标。")
    document.add_paragraph("附件")
    document.add_paragraph("主要指标表")
    table = document.add_table(rows=3, cols=3)
    for cells, values in zip(table.rows, [["指标", "2025年", "属性"], ["营收（亿元）", "10", "预期性"],
                                          ["企业（家）", "5", "约束性"]], strict=True):
        for cell, value in zip(cells.cells, values, strict=True):
            cell.text = value
    document.save(str(tmp_path / "t.docx"))
    _, clauses = parse_path(tmp_path / "t.docx")
    rows = [c for c in clauses if c.path[0] == "附件 主要指标表"]
    assert [c.text for c in rows] == ["营收（亿元）\t10\t预期性", "企业（家）\t5\t约束性"]
    assert all(c.kind == "table_row" for c in rows)


def test_gbk_copy_parses_like_the_utf8_original(tmp_path: Path) -> None:
    original = (POLICIES / JIULONGPO).read_text("utf-8")
    gbk = write(tmp_path / JIULONGPO, original, "gbk")
    assert gbk.read_bytes() != (POLICIES / JIULONGPO).read_bytes()
    doc, clauses = parse_path(gbk)
    want_doc, want = parse(JIULONGPO)
    assert [c.text for c in clauses] == [c.text for c in want]
    assert [c.path for c in clauses] == [c.path for c in want]
    assert [(c.lead_units, c.responsible_units) for c in clauses] == [
        (c.lead_units, c.responsible_units) for c in want
    ]
    assert (doc.title, doc.status, doc.valid_until) == (want_doc.title, want_doc.status, want_doc.valid_until)
    assert doc.doc_id != want_doc.doc_id  # identity is the file's bytes


def fields(clauses: list[Clause]) -> list[tuple[object, ...]]:
    return [
        (c.path, c.kind, c.text, c.lead_units, c.responsible_units, c.deadline, c.amounts, c.targets, c.contacts)
        for c in clauses
    ]


def meta(doc: PolicyDocument) -> tuple[object, ...]:
    return (doc.title, doc.doc_number, doc.issuer, doc.issued_on, doc.region, doc.period, doc.status)


def html_version(text: str) -> str:
    lines = [x for x in text.splitlines() if x.strip()]
    title = "奉节县数字乡村试点实施方案"
    body = "\n".join(f"<h1>{x}</h1>" if x == title else f"<p>{x}</p>" for x in lines)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>奉节县人民政府</title>'
        "<style>p { margin: 0 }</style></head><body><nav>首页 | 政务公开 | 政策文件</nav>\n"
        f'<div class="article">{body}</div>\n<script>var visits = "不应出现";</script>'
        "<footer>主办：奉节县人民政府办公室</footer></body></html>"
    )


def md_version(text: str) -> str:
    out = []
    for x in filter(str.strip, text.splitlines()):
        if x == "奉节县数字乡村试点实施方案":
            x = "# " + x
        elif re.match(r"^[一二三]、", x):
            x = "## " + x
        elif x.startswith("（一）建设农村电商服务站。"):
            x = x.replace("（一）建设农村电商服务站。", "**（一）建设农村电商服务站。**")
        out.append(x + "\n")  # a blank line between paragraphs, as Markdown writers do
    return "\n".join(out)


@pytest.mark.parametrize(("suffix", "convert"), [(".html", html_version), (".md", md_version)])
def test_html_and_markdown_parse_like_the_text(tmp_path: Path, suffix: str, convert: Callable[[str], str]) -> None:
    want_doc, want = parse_path(write(tmp_path / "policy.txt", SHORT_POLICY))
    doc, clauses = parse_path(write(tmp_path / f"policy{suffix}", convert(SHORT_POLICY)))
    assert meta(doc) == meta(want_doc)
    assert fields(clauses) == fields(want)
    assert not any(x in c.text for c in clauses for x in ("不应出现", "首页", "主办", "**", "#"))


def test_html_and_markdown_task_tables(tmp_path: Path) -> None:
    cells = [TASK_HEADER, *TASK_ROWS]
    html_rows = "".join("<tr>" + "".join(f"<td>{v.replace(chr(10), '<br>')}</td>" for v in r) + "</tr>" for r in cells)
    html = (
        "<html><body><h1>测试方案</h1><p>一、重点任务</p><p>（一）打造平台。建设平台。</p>"
        f"<p>附件</p><p>重点任务分解表</p><table>{html_rows}</table></body></html>"
    )
    md_rows = ["| " + " | ".join(v.replace("\n", "<br>") for v in r) + " |" for r in cells]
    md = "\n".join([
        "# 测试方案", "", "一、重点任务", "", "（一）打造平台。建设平台。", "", "附件", "", "重点任务分解表", "",
        md_rows[0], "|---|---|---|---|---|", *md_rows[1:], "",
    ])
    for name, text in (("plan.html", html), ("plan.md", md)):
        _, clauses = parse_path(write(tmp_path / name, text))
        check_task_rows(clauses, ["附件 重点任务分解表"])


def test_unreadable_or_empty_policy_raises_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="empty"):
        parse_path(write(tmp_path / "e.txt", ""))
    with pytest.raises(LoadError, match="too large"):
        parse_document(write(tmp_path / "p.txt", SHORT_POLICY), today=TODAY, max_bytes=100)


# --- 6. bad input in one ingest run -------------------------------------------------------------


def docx_declaring(path: Path, unpacked: int) -> Path:
    """A .docx of a few hundred bytes whose zip directory declares `unpacked` bytes for a member.

    The loader decides from the declared sizes alone, so no real bomb is needed (nor 50 MB on disk)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    data = bytearray(buf.getvalue())
    entry = data.rindex(b"PK\x01\x02")  # the central directory entry of word/document.xml
    struct.pack_into("<I", data, entry + 24, unpacked)  # its uncompressed size
    path.write_bytes(bytes(data))
    return path


def truncated_docx(path: Path) -> Path:
    whole = path.with_suffix(".whole")
    document = docx.Document()
    document.add_paragraph("奉节县测试实施方案")
    document.save(str(whole))
    path.write_bytes(whole.read_bytes()[:8000])  # cut mid-archive: no central directory
    whole.unlink()
    return path


BAD = {  # file name → what its failure reason must say
    "empty.txt": "empty",
    "binary.txt": "binary",
    "truncated.docx": "corrupt",
    "bomb.docx": "unpack",
    "corrupt.pdf": "corrupt",
    "big.txt": "too large",
}


def bad_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    corpus.mkdir()
    write(corpus / "policy.txt", SHORT_POLICY)
    write(corpus / "wanzhou-gbk.txt", SHORT_POLICY_2, "gbk")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 20)
    truncated_docx(corpus / "truncated.docx")
    docx_declaring(corpus / "bomb.docx", 0xF000_0000)
    (corpus / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + bytes((i * 37 + 11) % 256 for i in range(4000)))
    write(corpus / "big.txt", SHORT_POLICY * 20)
    for name in ("truncated.docx", "bomb.docx", "corrupt.pdf", "binary.txt"):
        assert (corpus / name).stat().st_size < 10_000, name  # under the cap: fails for its own reason
    assert (corpus / "big.txt").stat().st_size > 20_000
    return corpus


def snapshot(settings) -> tuple[str | None, list[dict], list[dict]]:
    from policybot.wiring import open_index
    from vectorstore import catalog

    index = open_index(settings, with_embeddings=False)
    docs = sorted((d.to_dict() for d in index.docs.values()), key=lambda d: d["doc_id"])
    return catalog.current_name(settings.index_dir), docs, [c.to_dict() for c in index.clauses]


@pytest.mark.slow
def test_bad_files_fail_alone_and_never_damage_the_index(tmp_path: Path, settings_factory) -> None:
    from policybot.wiring import ingest_paths

    corpus = bad_corpus(tmp_path)
    settings = settings_factory(tmp_path / "index", max_file_mb=0.01)
    report = ingest_paths([corpus], settings=settings)

    assert sorted(report.added) == sorted(str(corpus / n) for n in ("policy.txt", "wanzhou-gbk.txt"))
    assert (report.updated, report.removed, report.skipped) == ([], [], [])
    reasons = dict(report.failed)
    assert sorted(reasons) == sorted(str(corpus / n) for n in BAD)
    for name, word in BAD.items():
        assert word in reasons[str(corpus / name)], (name, reasons[str(corpus / name)])
    assert "10485" in reasons[str(corpus / "big.txt")]  # the cap is stated
    assert report.documents == 2
    assert report.clauses == report.embedded > 0

    gen, docs, clauses = snapshot(settings)
    assert gen is not None
    assert sorted(d["title"] for d in docs) == ["奉节县数字乡村试点实施方案", "重庆市万州区智慧社区建设工作方案"]
    gbk = next(d for d in docs if d["region"] == "重庆市万州区")
    assert gbk["source_path"] == str(corpus / "wanzhou-gbk.txt")
    assert len(clauses) == report.clauses

    # Every file fails now, the two good ones included: the index is left exactly as it was.
    (corpus / "policy.txt").write_bytes(bytes(range(256)) * 20)
    (corpus / "wanzhou-gbk.txt").write_bytes(b"")
    again = ingest_paths([corpus], settings=settings)
    assert (again.added, again.updated, again.removed, again.skipped) == ([], [], [], [])
    assert len(again.failed) == len(BAD) + 2
    assert again.embedded == 0
    assert snapshot(settings) == (gen, docs, clauses)


# --- 7. idempotency -----------------------------------------------------------------------------


@pytest.mark.slow
def test_reingest_of_an_unchanged_corpus_does_nothing(
    tmp_path: Path, settings_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import indexing.service
    from policybot.wiring import ingest_paths
    from vectorstore import catalog

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus / "policy.txt", SHORT_POLICY)
    write(corpus / "wanzhou.txt", SHORT_POLICY_2)
    settings = settings_factory(tmp_path / "index")

    calls: list[Path] = []
    real = indexing.service.parse_document

    def counting(path: Path, **kw: object) -> tuple[PolicyDocument, list[Clause]]:
        calls.append(path)
        return real(path, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(indexing.service, "parse_document", counting)
    first = ingest_paths([corpus], settings=settings)
    assert len(first.added) == 2 and not first.failed
    assert first.embedded == first.clauses > 0
    assert len(calls) == 2
    generation = catalog.current_name(settings.index_dir)
    before = snapshot(settings)

    calls.clear()
    second = ingest_paths([corpus], settings=settings)
    assert calls == []  # unchanged files are recognised by their hash, never parsed again
    assert (second.added, second.updated, second.removed, second.failed) == ([], [], [], [])
    assert sorted(second.skipped) == sorted(str(p) for p in corpus.iterdir())
    assert second.embedded == 0
    assert (second.documents, second.clauses) == (first.documents, first.clauses)
    assert catalog.current_name(settings.index_dir) == generation
    assert snapshot(settings) == before


def test_issuer_and_date_at_the_end_become_the_signature(tmp_path: Path):
    text = (
        "奉节县数字经济企业培育若干措施\n\n为加快培育数字经济企业，制定本措施。\n一、支持措施\n"
        "（一）首次入统奖励。对首次纳入规上统计的数字经济企业给予5万元奖励。（牵头单位：县经济信息委；责任单位：县统计局）\n\n"
        "奉节县人民政府办公室\n2025年6月1日\n"
    )
    f = tmp_path / "end-signature.txt"
    f.write_text(text, "utf-8")
    doc, clauses = parse_document(f, today=dt.date(2026, 11, 22), max_bytes=1 << 20)
    assert (doc.issuer, doc.issued_on, doc.region) == ("奉节县人民政府办公室", "2025-06-01", "重庆市奉节县")
    body = [c for c in clauses if c.path[0] not in ("标题", "落款")]
    assert all("人民政府办公室" not in c.text for c in body)
    assert [c.text for c in clauses if c.path == ["落款"]] == ["奉节县人民政府办公室 2025年6月1日"]
