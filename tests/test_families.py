"""Lead-ins and their items, on a made-up county's measures: "提交下列材料：" is answered with the items
under it, each cited; an item ("（三）曾获得生源地助学贷款") with the lead-in that names the subsidy and
its amount. Real ingest, index, embedder and bot."""

from __future__ import annotations

import pytest

from bot.family import announces_items, learn_families
from core.records import Clause
from tests.documents import bot_over

pytestmark = pytest.mark.slow

MEASURES = """白石县青年就业见习基地管理办法

第一章 总则
第一条 为规范本县就业见习基地管理，帮助青年积累工作经验，制定本办法。
第二章 申请程序
第五条 申请认定就业见习基地，应当向县就业服务中心提交下列材料：
（一）《白石县就业见习基地申请表》；
（二）《见习岗位计划表》；
（三）营业执照复印件。
第六条 符合以下条件之一的见习人员，可申请一次性交通补贴，补贴标准为每人800元：
（一）属于低保家庭成员；
（二）属于持证残疾人；
（三）曾获得生源地助学贷款。
第七条 见习基地应当为见习人员购买人身意外伤害保险。
第三章 附则
第九条 本办法自2026年1月1日起施行，有效期3年。
"""


@pytest.fixture(scope="module")
def county_bot(tmp_path_factory: pytest.TempPathFactory, settings_factory):
    root = tmp_path_factory.mktemp("families")
    return bot_over(root, settings_factory(root / "index"), {"baishi-internship.txt": MEASURES})


def _clause(cid: str, seq: int, path: list[str], text: str) -> Clause:
    return Clause(clause_id=cid, doc_id="d", seq=seq, path=path, text=text)


def test_items_belong_to_the_lead_in_above_them() -> None:
    lead = _clause("a", 0, ["第五条"], "第五条 申请时应当提交下列材料：")
    one = _clause("b", 1, ["第五条", "（一）申请表"], "（一）申请表；")
    more = _clause("c", 2, ["第五条"], "申请材料应当加盖公章。")  # the article goes on: not an item
    other = _clause("d", 3, ["第六条"], "第六条 本办法自印发之日起施行。")
    later = _clause("e", 4, ["第六条", "（一）其他"], "（一）其他。")  # under an article that announces nothing
    fam = learn_families([later, other, more, one, lead])
    assert fam.lead_in(one) is lead and [x.clause_id for x in fam.items_of(lead)] == ["b"]
    assert fam.lead_in(more) is None and fam.lead_in(later) is None and fam.items_of(other) == []


@pytest.mark.parametrize("text, announces", [
    ("应当提交下列材料：", True),
    ("符合以下条件之一的，可申请补贴，每人800元。", True),
    ("具体如下：", True),
    ("对新认定的基地给予一次性奖励2万元。", False),
])
def test_what_announces_items(text: str, announces: bool) -> None:
    assert announces_items(text) is announces


def test_a_materials_lead_in_is_answered_with_its_items(county_bot) -> None:
    ans = county_bot.ask("我们想在白石县申请认定就业见习基地，要交哪些材料？交给谁？")
    assert not ans.refused
    for words in ("县就业服务中心", "《白石县就业见习基地申请表》", "《见习岗位计划表》", "营业执照复印件"):
        assert words in ans.answer, words
    cited = [c.clause for c in ans.citations]
    assert any(p.endswith("第五条") for p in cited)
    assert sum("第五条 › （" in p for p in cited) == 3  # each item cited as a clause of its own
    for c in ans.citations:
        assert c.quote in county_bot.index.clause(c.clause_id).text


def test_an_item_is_answered_with_the_lead_in_that_holds_the_amount(county_bot) -> None:
    ans = county_bot.ask("我之前拿过生源地助学贷款，现在去见习，能申请一次性交通补贴吗？多少钱？")
    assert not ans.refused
    assert "800元" in ans.answer
    quotes = [c.quote for c in ans.citations]
    assert any("800元" in q for q in quotes)
    assert "（三）曾获得生源地助学贷款。" in quotes
    assert "低保" not in ans.answer  # the other conditions are not the asker's case


def test_a_question_the_family_does_not_answer_is_still_refused(county_bot) -> None:
    ans = county_bot.ask("白石县见习基地的见习人员能拿多少住房补贴？")
    assert ans.refused
