"""Ingest of another region's real pages (data/policies-other, facts in its SOURCES.md) and of small
made-up documents, one for each structure the parser must read: articles, question-and-answer pairs,
labelled blocks, unit lines that close measures, the "列第一位者为牵头单位" convention, numbers broken
over lines, run-on text with a stray tab, and a portal page with its chrome and metadata block.

The made-up documents are of a fictional county (青禾县) with fictional units; they prove the parser
reads structures, not sample text.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from core.records import Clause, Contact, Deadline, PolicyDocument
from core.regions import gazetteer
from ingest.discover import discover
from ingest.loaders import load_file
from ingest.pipeline import parse_document
from tests.conftest import POLICIES, ROOT

OTHER = ROOT / "data" / "policies-other"
TODAY = dt.date(2026, 11, 22)
MAX_BYTES = 50 * 1024 * 1024

_cache: dict[str, tuple[PolicyDocument, list[Clause]]] = {}


def page(prefix: str) -> tuple[PolicyDocument, list[Clause]]:
    """A page of the second sample corpus by its number ("201"), parsed once."""
    if prefix not in _cache:
        path = next(OTHER.glob(f"{prefix}-*.html"))
        _cache[prefix] = parse_document(path, today=TODAY, max_bytes=MAX_BYTES)
    return _cache[prefix]


def made_up(tmp_path: Path, text: str, name: str = "doc.txt") -> tuple[PolicyDocument, list[Clause]]:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return parse_document(path, today=TODAY, max_bytes=MAX_BYTES)


def one(clauses: list[Clause], pred: Callable[[Clause], bool]) -> Clause:
    found = [c for c in clauses if pred(c)]
    assert len(found) == 1, [c.label for c in found]
    return found[0]


def squash(text: str) -> str:
    return re.sub(r"\s", "", text)


# --- 1. the catalog of the eight pages, as SOURCES.md states it ------------------------------------

CATALOG: dict[str, dict[str, object]] = {
    "201": {
        "title": "广州市天河区深化支持港澳青年创新创业高质量发展实施办法",
        "issuer": "广州市天河区科技工业和信息化局、广州市天河区人力资源和社会保障局、中共广州市天河区委统战部",
        "doc_number": "穗天科工信规字〔2023〕1号",
        "issued_on": "2023-08-09",
        "published_on": "2023-08-09",
        "valid_from": "2023-09-08",
        "valid_until": "2026-09-07",  # 有效期3年 from 2023-09-08: expired from 2026-09-08 on
        "validity_text": "第十三条 本办法自2023年9月8日起施行，有效期3年。",
        "region": "广州市天河区",
        "status": "expired",
    },
    "202": {
        "title": "广州市高校毕业生创业补贴，请查收",
        # the page says "市人力资源社会保障局官网" on a district's portal: the city's bureau, in full
        "issuer": "广州市人力资源和社会保障局",
        "doc_number": None,
        "issued_on": "2025-04-08",
        "published_on": "2025-04-08",
        "valid_from": None,
        "valid_until": None,
        "validity_text": None,
        "region": "广州市",
        "status": "effective",
    },
    "203": {
        "title": "创业担保贷款常见问题",
        "issuer": "广州市人力资源和社会保障局、广州市劳动就业服务管理中心",
        "doc_number": None,
        "issued_on": "2025-11-18",
        "published_on": "2025-11-18",
        "valid_from": None,
        "valid_until": None,
        "validity_text": None,
        "region": "广州市",
        "status": "effective",
    },
    "204": {
        "title": "广州市人力资源和社会保障局 广州市财政局关于印发广州市就业见习基地管理办法的通知",
        "issuer": "广州市人力资源和社会保障局、广州市财政局",
        "doc_number": "穗人社规字〔2019〕6号",
        "issued_on": "2019-10-09",
        "published_on": "2019-10-16",
        "valid_from": "2019-10-16",
        "valid_until": "2024-10-15",
        "validity_text": "实施日期：2019年10月16日；失效日期：2024年10月15日",
        "region": "广州市",
        "status": "expired",
    },
    "205": {
        "title": "广州市卫生健康委等4部门关于印发推进广州市家庭医生签约服务高质量发展实施方案的通知",
        "issuer": "广州市卫生健康委员会、广州市财政局、广州市人力资源和社会保障局、广州市医疗保障局",
        "doc_number": "穗卫函〔2023〕1930号",
        "issued_on": "2023-10-19",  # 成文日期
        "published_on": "2023-11-07",  # 发布日期
        "valid_from": None,
        "valid_until": None,
        "validity_text": None,
        "region": "广州市",
        "status": "effective",
    },
    "206": {
        "title": "关于受理天河区人才公寓申请的公告",
        # SOURCES.md: 天河区住房建设和园林局 (区住建园林局); the page signs with the full name
        "issuer": "广州市天河区住房建设和园林局",
        "doc_number": None,
        "issued_on": "2025-08-11",
        "published_on": "2025-08-11",
        "valid_from": None,
        "valid_until": None,
        "validity_text": None,
        "region": "广州市天河区",
        "status": "effective",  # in force; its application window has passed (a deadline, below)
    },
    "207": {
        "title": "广东省高校毕业生就业创业扶持政策清单",
        "issuer": "广东省人力资源和社会保障厅",
        "doc_number": None,
        "issued_on": "2026-08-03",
        "published_on": "2026-08-03",
        "valid_from": None,
        "valid_until": None,
        "validity_text": None,
        "region": "广东省",
        "status": "effective",
    },
    "208": {
        "title": "学历型人才引进入户申报指南",
        "issuer": "广州市人力资源和社会保障局 人力资源流动管理处",  # a division of the bureau
        "doc_number": None,
        "issued_on": "2026-05-18",
        "published_on": "2026-05-18",
        "valid_from": None,
        "valid_until": None,
        "validity_text": None,
        "region": "广州市",
        "status": "effective",
    },
}
CHAINS = {  # each region's parents, nearest first
    "广州市天河区": ["广州市", "广东省", "全国"],
    "广州市": ["广东省", "全国"],
    "广东省": ["全国"],
}


@pytest.mark.parametrize("prefix", sorted(CATALOG))
def test_catalog_of_the_pages_matches_their_sources(prefix: str) -> None:
    doc, clauses = page(prefix)
    assert {k: getattr(doc, k) for k in CATALOG[prefix]} == CATALOG[prefix]
    region = gazetteer().get(doc.region)
    assert region is not None
    assert [r.display for r in gazetteer().ancestors(region)] == CHAINS[doc.region]
    assert doc.clause_count == len(clauses) > 0
    assert doc.coverage == 1.0


def test_validity_names_the_clause_it_came_from() -> None:
    doc, clauses = page("201")
    article = one(clauses, lambda c: c.clause_id == doc.validity_clause_id)
    assert article.path == ["第十三条"]
    assert "本办法自2023年9月8日起施行，有效期3年" in article.text
    doc, clauses = page("204")  # from the page's metadata block, shown as a clause of its own
    block = one(clauses, lambda c: c.clause_id == doc.validity_clause_id)
    assert block.path == ["基本信息"]
    assert "失效日期：2024年10月15日" in block.text
    assert "文　　号：穗人社规字〔2019〕6号" in block.text
    for prefix in ("202", "203", "205", "206", "207", "208"):
        assert page(prefix)[0].validity_clause_id is None


def test_page_chrome_is_not_a_clause() -> None:
    chrome = ("无障碍", "长者助手", "网站标识码", "ICP备", "扫一扫", "网站地图", "返回顶部", "浏览次数", "市委组织部")
    for prefix in CATALOG:
        _, clauses = page(prefix)
        for c in clauses:
            assert not any(word in c.text for word in chrome), (prefix, c.label, c.text[:80])
    # a hidden copy of the whole text (display:none) is not read twice
    _, clauses = page("204")
    texts = [c.text for c in clauses if "第一条 为加强本市就业见习基地管理" in c.text]
    assert len(texts) == 1


# --- 2. structures and fields of the pages ------------------------------------------------------


def test_201_articles() -> None:
    _, clauses = page("201")
    articles = [c for c in clauses if c.path and c.path[0].startswith("第") and len(c.path) == 1]
    assert [c.path[0] for c in articles] == [
        "第一条", "第二条", "第三条 载体建设", "第四条 平台服务", "第五条 企业培育", "第六条 离岸孵化",
        "第七条 交流融合", "第八条 专项支持", "第九条", "第十条", "第十一条", "第十二条", "第十三条",
    ]
    second = articles[1]  # an article of several paragraphs is one clause
    assert second.text.startswith("第二条 本办法所称港澳青年，是指45周岁以下")
    assert second.text.count("\n") == 3
    items = [c for c in clauses if c.path[0] == "第五条 企业培育" and len(c.path) == 2]
    assert [c.path[1] for c in items] == ["（一）落户补贴", "（二）租金补贴", "（三）高质量发展奖励"]
    assert [(a.value, a.unit) for a in items[0].amounts] == [(10, "万元")]
    signature = one(clauses, lambda c: c.path == ["落款"])
    assert signature.text == (
        "广州市天河区科技工业和信息化局 广州市天河区人力资源和社会保障局 中共广州市天河区委统战部 2023年8月9日"
    )


def test_204_chapters_and_articles() -> None:
    _, clauses = page("204")
    fifth = [c for c in clauses if len(c.path) >= 2 and c.path[1] == "第五条"]
    assert fifth[0].path == ["第二章 见习基地的申请条件和程序", "第五条"]
    assert [c.path[-1] for c in fifth[1:]] == [
        "（一）具有良好的社会信誉", "（二）具有见习师资力量", "（三）具有符合国家规定的劳动保护和职业防护设施",
        "（四）能够为见习人员购买人身意外保险并提供不低于规定标准的生活补贴",
        "（五）每年能够提供非临时性、具有一定知识技术含量、专业性强的见习工作岗位",
    ]
    # the paragraph after an article's items is still the article's
    seal = one(clauses, lambda c: c.text == "申请单位应当在申请材料上加盖单位公章。")
    assert seal.path == ["第二章 见习基地的申请条件和程序", "第六条"]
    chapters = {c.path[0] for c in clauses if c.path[0].startswith("第") and "章" in c.path[0]}
    assert chapters == {"第一章 总则", "第二章 见习基地的申请条件和程序", "第三章 见习单位职责", "第四章 见习基地管理",
                        "第五章 附则"}


def test_203_question_and_answer_pairs() -> None:
    _, clauses = page("203")
    pairs = [c for c in clauses if c.path != ["基本信息"]]
    assert [c.path for c in pairs] == [[q] for q in (
        "一、创业担保贷款申请对象有哪几类？", "二、创业担保贷款最高可以申请多少额度？",
        "三、创业担保贷款每次最长可以申请多长时间？", "四、创业担保贷款的贷款利率和贴息利率分别是多少？",
        "五、创业担保贷款有哪些申请条件？", "六、创业担保贷款有哪些申请渠道？", "七、创业担保贷款有哪些经办银行？",
    )]
    for c in pairs:
        question, answer = c.text.split("\n", 1)
        assert question == c.path[0]
        assert answer.startswith("答：")
    conditions = pairs[4]  # the answer's own numbered items stay inside the pair
    assert "（一）登记失业人员" in conditions.text and "小微企业借款人申请条件：" in conditions.text
    amounts = [(a.text, a.value) for a in pairs[1].amounts]
    assert amounts == [("最高30万元", 30), ("最高50万元", 50), ("最高500万元", 500)]


def test_202_labelled_blocks() -> None:
    _, clauses = page("202")
    items = ["1、一次性创业资助", "2、优秀创业项目资助", "3、创业租金补贴", "4、创业带动就业补贴"]
    labels = ["补贴条件", "补贴对象", "补贴标准", "补贴期限"]
    assert [c.path for c in clauses if c.path != ["基本信息"]] == [[i, label] for i in items for label in labels]
    conditions = one(clauses, lambda c: c.path == [items[0], "补贴条件"])
    assert conditions.text.startswith("补贴条件：\n（1）初创企业的法定代表人")
    assert "⑤创办驿道客栈、民宿、农家乐的人员。" in conditions.text
    assert "（2）初创企业登记注册满6个月" in conditions.text
    standard = one(clauses, lambda c: c.path == [items[1], "补贴标准"])
    assert standard.text == "补贴标准：一等奖20万元，二等奖15万元，三等奖10万元，优胜奖5万元。"
    assert [a.value for a in standard.amounts] == [20, 15, 10, 5]
    assert one(clauses, lambda c: c.path == [items[2], "补贴期限"]).text == "补贴期限：累计不超过3年。"


def test_207_parts_and_labelled_blocks() -> None:
    _, clauses = page("207")
    parts = {c.path[0] for c in clauses if c.path[0] not in ("基本信息", "前言")}
    assert parts == {"面向单位的扶持政策", "面向毕业生的扶持政策"}
    ways = [c for c in clauses if c.path[-1] == "申领方式"]
    assert len(ways) == 11
    first = ways[0]
    assert first.path == ["面向单位的扶持政策", "一、小微企业社保补贴", "申领方式"]
    assert first.text.split("\n")[1].startswith("网址：")  # the address line belongs to the block
    # both lists start again at 一、: the two 一、 sections are apart
    flexible = one(clauses, lambda c: c.path == ["面向毕业生的扶持政策", "一、灵活就业社保补贴"])
    assert flexible.text.startswith("毕业2年内")
    rent = one(clauses, lambda c: c.path == ["面向毕业生的扶持政策", "六、创业租金补贴"] and "补贴标准为" in c.text)
    assert [(a.value, a.unit, a.is_cap) for a in rent.amounts] == [(6000, "元", True), (4000, "元", True)]


def task_rows() -> list[Clause]:
    return [c for c in page("205")[1] if c.kind == "task_row"]


def test_205_task_table_rows_with_their_units() -> None:
    rows = task_rows()
    assert len(rows) == 39
    assert sorted({c.path[-1] for c in rows}, key=lambda x: int(x[1:-1])) == [f"第{i}项" for i in range(1, 25)]
    assert all(c.path[0] == "附件 关于推进广州市家庭医生签约服务高质量发展工作的任务分工表" for c in rows)
    first = [c for c in rows if c.path[-1] == "第1项"]  # 序号 and 工作事项 span three rows in the page
    assert [(c.lead_units, c.responsible_units) for c in first] == [
        (["各区政府"], ["市卫生健康委"]),
        (["各区政府"], ["市卫生健康委", "市人社局"]),
        (["各区政府"], ["市卫生健康委"]),
    ]
    assert all(c.text.startswith("有序扩大家庭医生来源。\t") for c in first)
    sixth = [c for c in rows if c.path[-1] == "第6项"]
    assert [(c.lead_units, c.responsible_units) for c in sixth] == [
        (["各区政府"], ["市卫生健康委", "市医保局"]),
        (["各区政府", "市卫生健康委"], ["市医保局"]),
        (["市医保局", "市卫生健康委", "各区政府"], []),  # "/": no unit
        (["各区政府", "市医保局"], ["市卫生健康委"]),
    ]
    twentieth = one(rows, lambda c: c.path[-1] == "第20项")
    assert (twentieth.lead_units, twentieth.responsible_units) == (["市人社局"], ["市卫生健康委", "各区政府"])
    indicators = [c for c in page("205")[1] if c.path[0].startswith("附件 广州市家庭医生签约服务质量监测指标体系")]
    assert len(indicators) == 19
    assert indicators[0].text.startswith("签约数量指标\t1.重点人群签约服务覆盖率\t较上一年增加。")
    assert indicators[2].text.startswith("签约数量指标\t3.")  # the 一级指标 cell spans its rows


def test_205_notice_and_contact() -> None:
    _, clauses = page("205")
    notice = one(clauses, lambda c: c.path == ["印发通知"])
    assert notice.text.startswith("穗卫函〔2023〕1930号\n各区卫生健康局")
    assert Contact("联系电话", "81085234") in notice.contacts
    assert one(clauses, lambda c: c.path == ["标题"]).text == "关于推进广州市家庭医生签约服务高质量发展实施方案"


def test_206_phones_per_category_and_the_application_window() -> None:
    _, clauses = page("206")
    phones = {c.path[-1]: [x.value for x in c.contacts if x.kind == "联系电话"] for c in clauses if c.contacts}
    assert phones == {
        "1.高层次人才、区委、区政府批准引进的急需紧缺人才": ["020-30862216"],
        "2.重点企业人才、区重点新引进企业人才": ["020-88831097"],
        "3.创新型企业人才": ["020-38200174"],
        "4.港澳台青年人才": ["020-38622235"],
    }
    window = one(clauses, lambda c: c.deadline is not None)
    assert window.path == ["五、申请时间", "申请时间"]
    assert window.deadline == Deadline("2025年8月11日至8月22日", "2025-08-22")
    attachments = one(clauses, lambda c: c.path == ["附件"])  # listed, not attached to the page
    assert attachments.text.count("\n") == 6


def test_208_table_under_its_section() -> None:
    _, clauses = page("208")
    rows = [c for c in clauses if c.kind == "table_row"]
    assert [c.text.split("\t")[:2] for c in rows] == [
        ["博士研究生", "50周岁以下"], ["硕士研究生", "45周岁以下"], ["全日制本科+学士学位", "40周岁以下"],
        ["国（境）外学士学位", "40周岁以下"],
    ]
    assert rows[0].path == ["一、分梯度申报条件：找准您的定位", "表头：学历层次｜年龄要求｜核心说明"]


# --- 3. no text silently dropped ------------------------------------------------------------------


def test_coverage_of_both_sample_corpora_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    files = sorted(POLICIES.glob("*.txt")) + sorted(OTHER.glob("*.html"))
    assert len(files) == 13
    with caplog.at_level(logging.WARNING, logger="ingest"):
        docs = [parse_document(f, today=TODAY, max_bytes=MAX_BYTES)[0] for f in files]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert all(d.coverage is not None and d.coverage >= 0.98 for d in docs), [(d.source_file, d.coverage) for d in docs]


RUN_ON = (
    "青禾县数字经济发展实施方案 为加快推进全县数字经济发展，培育壮大数字产业，结合本县实际，制定本方案。"
    "一、总体要求（一）指导思想。坚持创新驱动，推动数字产业化和产业数字化协同发展，为全县高质量发展提供新动能。"
    "（二）发展目标。到2027年，全县数字经济核心产业增加值达到10亿元，培育规模以上数字企业20家。"
    "二、重点任务（一）培育数字企业。对首次纳入规上统计的数字企业给予3万元一次性奖励。\t（牵头单位：县数智发展局；"
    "责任单位：县统计局）（二）建设数字园区。到2026年底建成数字产业园1个，入驻企业不少于30家。"
    "（牵头单位：县产业发展局）三、保障措施（一）加强组织领导。成立工作专班，统筹推进各项任务。"
    "（二）强化资金保障。县财政每年安排数字经济发展专项资金500万元。"
)


def test_run_on_text_with_a_stray_tab_keeps_all_its_text(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert "\n" not in RUN_ON and len(RUN_ON) > 300
    with caplog.at_level(logging.WARNING, logger="ingest"):
        doc, clauses = made_up(tmp_path, RUN_ON)
    assert caplog.records == []
    assert doc.coverage == 1.0
    assert doc.title == "青禾县数字经济发展实施方案"
    # every sentence is in a clause, less the section names that now head their paths
    joined = squash("".join(c.text for c in clauses))
    names = {p for c in clauses for p in c.path if re.match(r"^[一二三]、", p)}
    for sentence in re.split(r"(?<=。)", RUN_ON.removeprefix(doc.title)):
        for name in names:
            sentence = sentence.replace(name, "")
        assert squash(sentence) in joined, sentence
    assert names == {"一、总体要求", "二、重点任务", "三、保障措施"}
    firms = one(clauses, lambda c: c.path == ["二、重点任务", "（一）培育数字企业"])
    assert (firms.lead_units, firms.responsible_units) == (["县数智发展局"], ["县统计局"])
    assert [(a.value, a.unit) for a in firms.amounts] == [(3, "万元")]
    park = one(clauses, lambda c: c.path == ["二、重点任务", "（二）建设数字园区"])
    assert park.lead_units == ["县产业发展局"]


def test_a_document_losing_text_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.pipeline

    real = ingest.pipeline.build_clauses

    def lossy(*args: object, **kw: object) -> list[Clause]:
        return real(*args, **kw)[:3]  # type: ignore[arg-type]

    monkeypatch.setattr(ingest.pipeline, "build_clauses", lossy)
    with caplog.at_level(logging.WARNING, logger="ingest"):
        doc, _ = made_up(tmp_path, RUN_ON.replace("\t", ""))
    assert doc.coverage is not None and doc.coverage < 0.98
    assert any("landed in clauses" in r.getMessage() for r in caplog.records)


# --- 4. structures on made-up documents ------------------------------------------------------------

ARTICLES = """青禾县促进数字经济发展若干措施

第一章 总则
第一条 为促进本县数字经济发展，根据有关规定，制定本措施。
第二条 本措施适用于在本县登记注册的数字经济企业。
本措施所称数字经济企业，是指以数据资源为关键要素开展经营的企业。
第二章 支持措施
第三条 入统奖励。对首次纳入规上统计的企业给予5万元奖励。
第四条 租金补贴。符合条件的企业可申请以下补贴：
（一）入驻县数字产业园的，按实际租金的50%给予补贴；
（二）入驻县级孵化器的，按实际租金的30%给予补贴。
补贴期限累计不超过3年。
第三章 附则
第五条 本措施自2027年1月1日起施行，有效期2年。
"""


def test_chapters_and_articles(tmp_path: Path) -> None:
    doc, clauses = made_up(tmp_path, ARTICLES)
    assert [c.path for c in clauses] == [
        ["标题"],
        ["第一章 总则", "第一条"],
        ["第一章 总则", "第二条"],
        ["第二章 支持措施", "第三条 入统奖励"],
        ["第二章 支持措施", "第四条 租金补贴"],
        ["第二章 支持措施", "第四条 租金补贴", "（一）入驻县数字产业园的"],
        ["第二章 支持措施", "第四条 租金补贴", "（二）入驻县级孵化器的"],
        ["第二章 支持措施", "第四条 租金补贴"],
        ["第三章 附则", "第五条"],
    ]
    assert clauses[2].text == (
        "第二条 本措施适用于在本县登记注册的数字经济企业。\n"
        "本措施所称数字经济企业，是指以数据资源为关键要素开展经营的企业。"
    )
    assert clauses[7].text == "补贴期限累计不超过3年。"
    # in force from 2027: not yet on 2026-11-22; two years end on 2028-12-31
    assert (doc.valid_from, doc.valid_until, doc.status) == ("2027-01-01", "2028-12-31", "not_yet")
    assert doc.validity_clause_id == clauses[8].clause_id
    assert doc.coverage == 1.0


FAQ = """青禾县创业补贴常见问题
一、哪些人可以申请创业补贴？
答：在本县首次创业的高校毕业生、返乡创业人员可以申请。
二、补贴标准是多少？
答：按创业主体类型分别补贴：
（一）个体工商户每户5000元；
（二）小微企业每户1万元。
三、到哪里申请？
答：到县人力资源服务中心窗口申请，咨询电话：0000-7654321。
"""


def test_question_and_answer_pairs(tmp_path: Path) -> None:
    _, clauses = made_up(tmp_path, FAQ)
    pairs = clauses[1:]
    assert [c.path for c in pairs] == [["一、哪些人可以申请创业补贴？"], ["二、补贴标准是多少？"], ["三、到哪里申请？"]]
    assert pairs[1].text == (
        "二、补贴标准是多少？\n答：按创业主体类型分别补贴：\n（一）个体工商户每户5000元；\n（二）小微企业每户1万元。"
    )
    assert [(a.value, a.unit) for a in pairs[1].amounts] == [(5000, "元"), (1, "万元")]
    assert pairs[2].contacts == [Contact("联系电话", "0000-7654321")]


GUIDE = """青禾县就业补贴办事指南
一、一次性就业补贴
申请条件：
（1）在本县就业满6个月；
（2）签订1年以上劳动合同。
补贴标准：每人2000元。
补贴期限：一次性。
申请材料：身份证、劳动合同。
二、社保补贴
申请条件：招用就业困难人员并为其缴纳社会保险的企业。
补贴标准：按企业实际缴纳社会保险费的50%给予补贴。
"""


def test_labelled_blocks(tmp_path: Path) -> None:
    _, clauses = made_up(tmp_path, GUIDE)
    assert [c.path for c in clauses[1:]] == [
        ["一、一次性就业补贴", "申请条件"], ["一、一次性就业补贴", "补贴标准"], ["一、一次性就业补贴", "补贴期限"],
        ["一、一次性就业补贴", "申请材料"], ["二、社保补贴", "申请条件"], ["二、社保补贴", "补贴标准"],
    ]
    assert clauses[1].text == "申请条件：\n（1）在本县就业满6个月；\n（2）签订1年以上劳动合同。"
    assert [(a.value, a.unit) for a in clauses[2].amounts] == [(2000, "元")]


UNIT_LINES = """青禾县数字乡村建设三年行动方案
一、重点任务
（一）建设农村电商站点。到2027年建成村级电商服务站点60个。
（责任单位：县商务服务局、县乡村振兴局）
（二）推进智慧农业。
1.建设智慧农场3个。
2.推广农业物联网设备200台。
（责任单位：县乡村振兴局）
（三）完善冷链物流。新建冷链仓储设施2处。（牵头单位：县交通物流局；配合单位：县商务服务局）
二、保障措施
加强资金保障，县财政统筹安排工作经费。
"""


def test_unit_lines_close_the_measures_above_them(tmp_path: Path) -> None:
    _, clauses = made_up(tmp_path, UNIT_LINES)
    units = {c.label: (c.lead_units, c.responsible_units) for c in clauses}
    assert units == {
        "标题": ([], []),
        "一、重点任务 › （一）建设农村电商站点": ([], ["县商务服务局", "县乡村振兴局"]),
        "一、重点任务 › （二）推进智慧农业 › 1.建设智慧农场3个": ([], ["县乡村振兴局"]),
        "一、重点任务 › （二）推进智慧农业 › 2.推广农业物联网设备200台": ([], ["县乡村振兴局"]),
        "一、重点任务 › （三）完善冷链物流": (["县交通物流局"], ["县商务服务局"]),
        "二、保障措施": ([], []),
    }
    # the line stays with the text it closes, verbatim
    shop = one(clauses, lambda c: c.path[-1] == "（一）建设农村电商站点")
    assert shop.text == (
        "（一）建设农村电商站点。到2027年建成村级电商服务站点60个。\n（责任单位：县商务服务局、县乡村振兴局）"
    )


LEAD_FIRST = """青禾县优化营商环境行动方案
一、主要任务
（一）压缩企业开办时间。企业开办时间压缩至1个工作日以内。（县市场服务局、县政务服务中心负责。列第一位者为牵头单位，下同）
（二）推行电子证照。推广电子营业执照在各类场景中的应用。（县政务服务中心、县数智发展局、县税务分局负责）
（三）优化纳税服务。推行全程网上办税。
（县税务分局负责）
"""


def test_the_first_unit_listed_leads_when_the_document_says_so(tmp_path: Path) -> None:
    _, clauses = made_up(tmp_path, LEAD_FIRST)
    units = [(c.path[-1], c.lead_units, c.responsible_units) for c in clauses[1:]]
    assert units == [
        ("（一）压缩企业开办时间", ["县市场服务局"], ["县政务服务中心"]),
        ("（二）推行电子证照", ["县政务服务中心"], ["县数智发展局", "县税务分局"]),
        ("（三）优化纳税服务", ["县税务分局"], []),
    ]
    # without the convention, units that "负责" share the work and none is named to lead
    _, plain = made_up(tmp_path, LEAD_FIRST.replace("。列第一位者为牵头单位，下同", ""), "plain.txt")
    assert [(c.lead_units, c.responsible_units) for c in plain[1:3]] == [
        ([], ["县市场服务局", "县政务服务中心"]), ([], ["县政务服务中心", "县数智发展局", "县税务分局"]),
    ]


BROKEN_NUMBERS = """青禾县降低企业用能成本若干措施
一、降低用电成本
（一）电价支持。对年用电量超过100万千瓦时的工业企业，到户电价降至
0.6
元
/
千瓦时。
（二）用气补贴标准为
1.2
元
/
立方米，每户每年最高
5
万元。
"""


def test_numbers_broken_over_lines_are_joined(tmp_path: Path) -> None:
    _, clauses = made_up(tmp_path, BROKEN_NUMBERS)
    power = one(clauses, lambda c: c.path[-1] == "（一）电价支持")
    assert power.text.endswith("到户电价降至0.6元/千瓦时。")
    gas = one(clauses, lambda c: c.path[-1].startswith("（二）"))
    assert gas.text == "（二）用气补贴标准为1.2元/立方米，每户每年最高5万元。"
    assert [(a.value, a.unit, a.is_cap) for a in gas.amounts] == [(1.2, "元", False), (5, "万元", True)]


# --- 5. a made-up portal page: chrome, hidden text, spaced labels, a metadata table, row spans ---

PORTAL = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>青禾县数字乡村建设实施方案 - 青禾县人民政府门户网站</title>
<meta name="SiteName" content="青禾县人民政府门户网站"><meta name="ArticleTitle" content="青禾县数字乡村建设实施方案">
</head><body>
<div class="top">无障碍 | 长者模式 | 登录 | 注册</div>
<ul class="menu"><li>首页</li><li>政务公开</li><li>办事服务</li><li>互动交流</li></ul>
<div class="meta"><table>
<tr><td>索 引 号：</td><td>QH-2026-00017</td><td>主题分类：</td><td>农业、农村</td></tr>
<tr><td>发文机关：</td><td>青禾县人民政府办公室</td><td>成文日期：</td><td>2026年02月10日</td></tr>
<tr><td>发 文 字 号 ：</td><td>青府办发〔2026〕5号</td><td>发布日期：</td><td>2026年02月12日</td></tr>
</table></div>
<div class="article">
<h1>青禾县数字乡村建设实施方案</h1>
<p>文　　号：青府办发〔2026〕5号　　失效日期：2028年12月31日</p>
<p>为加快推进数字乡村建设，促进农业农村现代化，结合本县实际，制定本方案。本方案所称数字乡村，是指伴随网络化、
数字化、智能化在农业农村经济社会发展中的应用而形成的农业农村现代化发展和转型进程。</p>
<p>一、工作目标</p>
<p>到2028年，全县建成数字乡村示范村20个，农产品网络零售额年均增长15%以上，乡村数字治理水平明显提升。</p>
<p>二、重点任务</p>
<p>（一）建设乡村信息基础设施。推进千兆光网和5G网络向行政村延伸，到2027年实现行政村千兆光网全覆盖。</p>
<div style="display: none">隐藏的重复正文不应出现</div>
<p hidden>另一段隐藏文字</p>
<span aria-hidden="true">图标文字</span>
<!-- 注释不应出现 -->
<p>（二）发展农村电子商务。支持农产品电商企业发展，对年网络零售额首次突破500万元的企业给予5万元奖励。</p>
<p>附件</p>
<p>重点任务分工表</p>
<table>
<tr><td>序号</td><td>工作事项</td><td>主要内容</td><td>牵头单位</td><td>配合单位</td></tr>
<tr><td rowspan="2">1</td><td rowspan="2">建设信息基础设施</td><td>推进千兆光网向行政村延伸</td>
<td>县数智发展局</td><td>各乡镇</td></tr>
<tr><td>推进5G基站建设</td><td>县数智发展局、县通信管理办</td><td>/</td></tr>
<tr><td>2</td><td>发展农村电商</td><td>培育农产品电商企业</td><td>县商务服务局</td><td>县乡村振兴局</td></tr>
</table>
</div>
<div class="share">分享到：微信 微博</div>
<div class="footer">主办：青禾县人民政府办公室　网站标识码：0000000000　备案号：某ICP备00000000号</div>
</body></html>
"""


def test_portal_page(tmp_path: Path) -> None:
    doc, clauses = made_up(tmp_path, PORTAL, "page.html")
    assert (doc.title, doc.doc_number, doc.issuer, doc.issued_on, doc.published_on, doc.valid_until) == (
        "青禾县数字乡村建设实施方案", "青府办发〔2026〕5号", "青禾县人民政府办公室", "2026-02-10", "2026-02-12",
        "2028-12-31",
    )
    assert doc.status == "effective"
    everything = "\n".join(c.text for c in clauses)
    hidden_or_chrome = ("隐藏的重复正文", "另一段隐藏文字", "图标文字", "注释不应出现", "无障碍", "政务公开", "分享到",
                        "网站标识码")
    for hidden in hidden_or_chrome:
        assert hidden not in everything, hidden
    info = one(clauses, lambda c: c.path == ["基本信息"])
    assert "发 文 字 号：青府办发〔2026〕5号" in info.text and "索 引 号：QH-2026-00017" in info.text
    rows = [c for c in clauses if c.kind == "task_row"]
    assert [(c.path[-1], c.text, c.lead_units, c.responsible_units) for c in rows] == [
        ("第1项", "建设信息基础设施\t推进千兆光网向行政村延伸\t县数智发展局\t各乡镇", ["县数智发展局"], ["各乡镇"]),
        ("第1项", "建设信息基础设施\t推进5G基站建设\t县数智发展局、县通信管理办\t/",
         ["县数智发展局", "县通信管理办"], []),
        ("第2项", "发展农村电商\t培育农产品电商企业\t县商务服务局\t县乡村振兴局", ["县商务服务局"], ["县乡村振兴局"]),
    ]
    trade = one(clauses, lambda c: c.path == ["二、重点任务", "（二）发展农村电子商务"])
    assert [(a.value, a.unit) for a in trade.amounts] == [(500, "万元"), (5, "万元")]
    assert doc.coverage == 1.0


def test_a_page_of_a_district_portal_names_its_city_relative_to_it(tmp_path: Path) -> None:
    """"市X局" in the 信息来源 of a district's portal is the city's bureau; the region follows it."""
    html = (
        '<html><head><meta charset="utf-8"><meta name="SiteName" content="苏州市吴江区人民政府门户网站">'
        '<meta name="ArticleTitle" content="高校毕业生就业补贴申领指南"><meta name="ContentSource" '
        'content="市人社局官网"><meta name="PubDate" content="2026-03-02 09:00"></head><body>'
        "<h1>高校毕业生就业补贴申领指南</h1><p>一、补贴对象</p><p>毕业2年内在本市就业的高校毕业生。</p>"
        "<p>二、补贴标准</p><p>每人一次性补贴3000元。</p></body></html>"
    )
    doc, _ = made_up(tmp_path, html, "guide.html")
    assert (doc.issuer, doc.region, doc.issued_on) == ("苏州市人力资源和社会保障局", "苏州市", "2026-03-02")


def test_metadata_block_at_the_top_of_a_text_file(tmp_path: Path) -> None:
    text = (
        "索 引 号：QH-2025-00031\t主题分类：综合政务\n"
        "发文机关：青禾县人民政府\t成文日期：2025年06月03日\n"
        "发 文 字 号 ：青府发〔2025〕9号\t发布日期：2025年06月05日\n"
        "青禾县公共数据开放管理办法\n"
        "第一条 为规范公共数据开放，制定本办法。\n"
        "第二条 本办法有效期至2027年6月30日。\n"
    )
    doc, clauses = made_up(tmp_path, text)
    assert (doc.title, doc.doc_number, doc.issuer, doc.issued_on, doc.valid_until) == (
        "青禾县公共数据开放管理办法", "青府发〔2025〕9号", "青禾县人民政府", "2025-06-03", "2027-06-30",
    )
    assert [c.path for c in clauses] == [["标题"], ["基本信息"], ["第一条"], ["第二条"]]  # the block is no body text
    assert doc.validity_text == "第二条 本办法有效期至2027年6月30日。"


# --- 6. which files of a folder are read ---------------------------------------------------------


def test_folder_ingest_skips_readme_and_sources_with_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    for name in ("plan.txt", "README.md", "SOURCES.md", "index.html", "notes.md", "sub/readme.txt", "photo.png",
                 ".hidden.txt", "~$plan.docx"):
        (folder / name).write_text("一、总则\n正文。", "utf-8")
    found = discover([folder])
    assert [p.name for p in found.files] == ["notes.md", "plan.txt"]
    assert {Path(p).name: why for p, why in found.ignored} == {
        "README.md": "describes the folder, not a policy document (--include to read it)",
        "SOURCES.md": "describes the folder, not a policy document (--include to read it)",
        "index.html": "describes the folder, not a policy document (--include to read it)",
        "readme.txt": "describes the folder, not a policy document (--include to read it)",
        "photo.png": "an image (.png): read by OCR when named directly or with --include",
    }
    assert [p.name for p in discover([folder], include=["README*"]).files] == ["README.md", "notes.md", "plan.txt"]
    assert [p.name for p in discover([folder / "SOURCES.md"]).files] == ["SOURCES.md"]  # named directly: read
    assert [Path(p).name for p, _ in discover([OTHER]).ignored] == ["SOURCES.md"]


def test_an_older_catalog_loads_with_defaults_for_new_fields() -> None:
    doc = page("201")[0]
    old = {k: v for k, v in doc.to_dict().items()
           if k not in ("valid_from", "published_on", "issuers", "validity_text", "validity_clause_id", "coverage")}
    loaded = PolicyDocument.from_dict({**old, "field_of_a_newer_version": 1})
    assert (loaded.valid_from, loaded.issuers, loaded.coverage) == (None, [], None)
    assert loaded.title == doc.title


def test_loaded_page_reports_what_it_removed() -> None:
    loaded = load_file(next(OTHER.glob("203-*.html")))
    assert loaded.metadata["published_on"] == "2025-11-18 17:37"
    assert any("粤公网安备" in line for line in loaded.removed)
    assert not any("粤公网安备" in line for line in loaded.text.split("\n"))


@pytest.mark.slow
def test_ingest_reports_the_files_it_did_not_read_and_drops_them_from_the_index(tmp_path: Path,
                                                                                 settings_factory) -> None:
    from policybot.wiring import ingest_paths

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "plan.txt").write_text(UNIT_LINES, "utf-8")
    (folder / "README.md").write_text("# 说明\n\n本目录收录青禾县的政策文件。\n", "utf-8")
    settings = settings_factory(tmp_path / "index")
    first = ingest_paths([folder], settings=settings, include=["README*"])  # as an older version did
    assert sorted(Path(p).name for p in first.added) == ["README.md", "plan.txt"]
    second = ingest_paths([folder], settings=settings)
    note = "describes the folder, not a policy document (--include to read it)"
    assert second.ignored == [(str(folder / "README.md"), note)]
    assert second.removed == [str(folder / "README.md")]
    assert (second.skipped, second.documents) == ([str(folder / "plan.txt")], 1)


def test_region_filters_still_match_a_short_name() -> None:
    """Regions are stored as display names (重庆市奉节县); `--region 奉节` keeps finding them."""
    import argparse

    from policybot.cli import _filters

    docs = {d.doc_id: d for d in (parse_document(p, today=TODAY, max_bytes=MAX_BYTES)[0]
                                  for p in sorted(POLICIES.glob("*.txt")))}
    cases = (("奉节", ["重庆市奉节县"]), ("万州区", ["重庆市万州区"]), ("重庆市九龙坡区", ["重庆市九龙坡区"]))
    for typed, stored in cases:
        assert _filters(argparse.Namespace(region=typed, doc=None, kind=None), docs).regions == stored


def test_every_status_names_the_words_it_rests_on(tmp_path: Path) -> None:
    from tests.conftest import CHONGQING, JIULONGPO

    plan, clauses = parse_document(POLICIES / CHONGQING, today=TODAY, max_bytes=MAX_BYTES)
    assert (plan.status, plan.validity_text) == ("expired", "重庆市数字产业发展“十四五”规划(2021—2025年)")
    assert one(clauses, lambda c: c.clause_id == plan.validity_clause_id).path == ["标题"]
    draft, clauses = parse_document(POLICIES / JIULONGPO, today=TODAY, max_bytes=MAX_BYTES)
    assert (draft.status, draft.validity_text) == ("draft", "本方案实施期限自印发之日起至2027年12月31日止。")
    assert one(clauses, lambda c: c.clause_id == draft.validity_clause_id).path == ["三、保障措施"]
    text = "青禾县公共数据开放办法\n（征求意见稿）\n一、总则\n为规范公共数据开放，制定本办法。\n"
    doc, clauses = made_up(tmp_path, text)
    assert (doc.status, doc.validity_text) == ("draft", "（征求意见稿）")
    assert one(clauses, lambda c: c.clause_id == doc.validity_clause_id).path == ["标题"]
    doc, _ = made_up(tmp_path, "青禾县公共数据开放办法\n一、总则\n为规范公共数据开放，制定本办法。\n", "plain.txt")
    assert (doc.status, doc.validity_text, doc.validity_clause_id) == ("effective", None, None)


PARTS_RUN_ON = """岚溪县青年就业扶持政策清单

为促进青年就业，现将扶持政策公布如下。
面向单位的扶持政策
一、小微企业社保补贴
小微企业招用毕业2年内高校毕业生的，给予社会保险补贴。
二、一次性扩岗补助
企业招用毕业年度高校毕业生的，按每人1500元给予一次性扩岗补助。
面向毕业生的扶持政策
三、一次性创业补贴
高校毕业生创办小微企业的，可申请1万元的一次性创业补贴。
四、创业租金补贴
高校毕业生租用经营场地创业的，每年最高补贴6000元。
"""


def test_part_headings_over_a_numbering_that_runs_on(tmp_path: Path) -> None:
    """"面向毕业生的扶持政策" between "…扩岗补助。" and "三、…" heads the items after it; it is not the last
    words of the item before."""
    _, clauses = made_up(tmp_path, PARTS_RUN_ON)
    expand = one(clauses, lambda c: "1500元" in c.text)
    assert expand.path == ["面向单位的扶持政策", "二、一次性扩岗补助"] and "面向毕业生" not in expand.text
    rent = one(clauses, lambda c: "6000元" in c.text)
    assert rent.path == ["面向毕业生的扶持政策", "四、创业租金补贴"]
