"""Questions the way people type them, on a made-up county's documents the code never saw: the asker's own
figure picks its bracket, a named year picks that year's figure, the benefit named picks its sentence over
the asker's situation, an age limit is quoted with its age, "多久内申请" gets the period counted from the
event, "有效期几年" the years, "哪个部门发的" a web page's own source line. Real ingest, index and bot."""

from __future__ import annotations

import pytest

from tests.documents import bot_over

pytestmark = pytest.mark.slow

FAQ = """岚溪县创业扶持政策问答

一、创业担保贷款最高可以贷多少？
答：个人创业担保贷款额度最高20万元；带动就业5人及以上的，贷款额度最高40万元。
二、创业补贴什么时候申请？
答：岚溪县内登记注册3年内的初创企业，登记注册满6个月的，可申请8000元的一次性创业补贴。
符合条件人员应于创业主体登记注册之日起2年内，向注册地人力资源社会保障部门提出补贴申请。
三、见习有哪些补贴？
答：在孵化基地入驻企业连续就业满1年的青年，可领取每人每月900元住房补贴，补贴期限最长为2年。在孵化基地入驻企业见习的在校学生，给予每人每月2500元见习补贴，补贴期限不超过4个月。
四、一次性创业资助对年龄有要求吗？
答：申请人为初创企业的法定代表人，符合以下条件之一：退役军人；登记失业人员。
申请人年龄不超过50周岁。
五、本办法的有效期
答：本问答自2025年1月1日起施行，有效期4年。有效期满而资助资金尚未拨付完毕的，继续拨付至完毕。
"""

PLAN = """岚溪县电子商务发展行动计划

一、发展基础
2024年，全县农产品网络零售额达6亿元，同比增长12%。
二、发展目标
到2027年，全县农产品网络零售额达到12亿元，培育电商示范企业30家。
"""

PLAN2 = """松阳县电子商务发展行动计划

一、发展目标
到2027年，全县农产品网络零售额达到8亿元，培育电商示范企业20家。
"""

NOTICE = """岚溪县人才公寓申请公告

一、申请材料
1.创新型企业需提供《人才公寓申请表（企业）》。
2.创新型企业需提供营业执照复印件。
3.创新型企业需提供员工劳动合同复印件。
二、申请程序
1.创新型企业人才以企业的名义申请，由企业整体租赁，企业向县科技局提出申请。
2.个人申请的，向县人才服务中心提交材料。
"""

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>岚溪县青年见习补贴申领指南 - 岚溪县人民政府门户网站</title>
<meta name="ArticleTitle" content="岚溪县青年见习补贴申领指南">
<meta name="PubDate" content="2026-04-09 10:20:00">
<meta name="ContentSource" content="岚溪县人力资源和社会保障局">
</head><body>
<div class="article">
<h1>岚溪县青年见习补贴申领指南</h1>
<ul><li class="date"><img src="clock.png" title="发布时间"><span>2026-04-09</span></li>
<li>来源：岚溪县人力资源和社会保障局</li></ul>
<p>一、补贴对象</p>
<p>在本县见习基地参加见习的16至24岁失业青年，见习期间每人每月可领取1200元见习补贴，由见习基地先行垫付。</p>
<p>二、申领流程</p>
<p>见习期满后，见习基地向县公共就业服务中心提交申请，经审核后拨付资金。</p>
</div></body></html>
"""


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, settings_factory):
    root = tmp_path_factory.mktemp("phrasing")
    return bot_over(root, settings_factory(root / "index"), {
        "lanxi-startup-faq.txt": FAQ, "lanxi-ecommerce-plan.txt": PLAN, "lanxi-internship-guide.html": PAGE,
        "lanxi-apartment-notice.txt": NOTICE, "songyang-ecommerce-plan.txt": PLAN2,
    })


def ask(bot, question: str, history: list[str] | None = None):
    ans = bot.ask(question, history=history or [])
    for c in ans.citations:
        assert c.quote in bot.index.clause(c.clause_id).text
    return ans


def head(ans) -> str:
    return ans.answer.split("\n")[0]


def test_the_askers_figure_picks_its_bracket(bot) -> None:
    ans = ask(bot, "在岚溪县申请个人创业担保贷款，我们带动了5个人就业，最高能贷多少？")
    assert "40万元" in head(ans) and "20万元" not in head(ans)


def test_a_named_year_picks_that_years_figure(bot) -> None:
    ans = ask(bot, "岚溪县2024年农产品网络零售额是多少？")
    assert "6亿元" in ans.answer and "12亿元" not in ans.answer


def test_a_target_of_a_year_no_clause_sets_is_refused(bot) -> None:
    assert ask(bot, "岚溪县到2030年农产品网络零售额的目标是多少？").refused
    assert "12亿元" in head(ask(bot, "岚溪县到2027年农产品网络零售额的目标是多少？"))


def test_a_follow_up_that_changes_the_place_asks_in_the_same_unit(bot) -> None:
    first = "岚溪县到2027年要培育多少家电商示范企业？"
    assert "30家" in head(ask(bot, first))
    ans = ask(bot, "那松阳县呢？", [first])  # a real county no sample document is about
    assert "20家" in head(ans) and "8亿元" not in head(ans)


def test_the_benefit_named_leads_over_the_askers_situation(bot) -> None:
    ans = ask(bot, "我是在校学生，现在在岚溪县孵化基地入驻企业连续就业，见习补贴每个月多少？")
    assert "2500元" in head(ans)


def test_an_age_limit_is_quoted_with_its_age(bot) -> None:
    ans = ask(bot, "我48岁，退役军人，在岚溪开了个小公司，申请一次性创业资助年龄有限制吗？")
    assert "50周岁" in ans.answer


def test_how_long_to_apply_is_the_period_counted_from_the_event(bot) -> None:
    ans = ask(bot, "岚溪县的一次性创业补贴，要在公司注册后多长时间内申请？")
    assert "之日起2年内" in ans.answer


def test_validity_in_years(bot) -> None:
    ans = ask(bot, "岚溪县创业扶持政策问答有效期几年？")
    assert "有效期4年" in ans.answer


def test_a_procedure_is_found_under_its_heading_though_the_clause_never_says_so(bot) -> None:
    ans = ask(bot, "我们是岚溪县的创新型企业，给员工申请人才公寓是个什么流程？")
    assert "整体租赁" in ans.answer and "县科技局" in ans.answer


def test_who_issued_a_web_page_and_when(bot) -> None:
    ans = ask(bot, "岚溪县青年见习补贴申领指南是哪天发的？哪个部门出的？")
    assert not ans.refused
    assert "岚溪县人力资源和社会保障局" in ans.answer and "2026年4月9日" in ans.answer
    page_block = [c for c in ans.citations if c.clause == "基本信息"]
    assert page_block and "2026-04-09" in page_block[0].quote


def test_a_list_keeps_to_the_part_of_the_document_its_best_item_is_in() -> None:
    """"单位能享受哪些扶持": the benefits for companies, one per item, not an item's own aspects, and not the
    benefits for graduates that rank lower."""
    from bot.chat import _list_items
    from bot.evidence import Evidence
    from core.records import Clause, PolicyDocument

    doc = PolicyDocument("d", "岚溪县青年就业扶持政策清单", None, None, None, None, None, None, None, None,
                         "effective", "list.html", "0" * 64)
    paths = [["面向单位", "一、社保补贴"], ["面向单位", "一、社保补贴", "申领方式"], ["面向毕业生", "四、创业补贴"],
             ["面向单位", "二、扩岗补助"], ["面向单位", "三、见习补贴"], ["面向毕业生", "五、租金补贴"]]
    ev = [Evidence(Clause(f"c{i}", "d", i, p, f"条款{i}"), doc, f"条款{i}", 1.0, 10.0 - i) for i, p in enumerate(paths)]
    listed = _list_items(ev[0], ev, 6)
    assert [e.clause.path[-1] for e in listed] == ["一、社保补贴", "二、扩岗补助", "三、见习补贴"]
    numbered = [Evidence(Clause(f"n{i}", "d", i, ["二、政策支持", f"{i}.措施{i}"], "x"), doc, "x", 1.0) for i in (1, 2)]
    lead = Evidence(Clause("n0", "d", 0, ["二、政策支持"], "x"), doc, "x", 1.0)
    assert [e.clause.clause_id for e in _list_items(lead, [lead, *numbered], 6)] == ["n0", "n1", "n2"]


def test_what_a_named_benefit_is_for() -> None:
    from bot.understand import _benefit_subjects

    assert _benefit_subjects("新招的人能申请新引进人才奖励吗", ["新招", "引进", "人才", "引进人才"]) == ["引进人才"]
    assert _benefit_subjects("住房补贴和见习补贴各多少", ["住房", "见习"]) == ["住房", "见习"]
    assert _benefit_subjects("有什么奖励", ["奖励"]) == []
