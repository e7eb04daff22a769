"""Golden answers on the sample corpus, one group per intent, through the real index and bot."""

from __future__ import annotations

import re

import pytest

from bot.compose import REFUSAL
from core.records import Answer

pytestmark = pytest.mark.slow


def flat(s: str) -> str:
    return re.sub(r"\s+", "", s)


def ask(bot, q: str, history: list[str] | None = None) -> Answer:
    ans = bot.ask(q, history=history or [])
    for c in ans.citations:  # every quote of every answer is verbatim from the cited clause
        clause = bot.index.clause(c.clause_id)
        assert clause is not None and c.quote and c.quote in clause.text, (q, c.quote)
    return ans


def cited_paths(ans: Answer) -> list[str]:
    return [c.clause for c in ans.citations]


def test_contact_and_deadline_from_task_row(sample_bot):
    ans = ask(sample_bot, "奉节县“无废奉节”信息化平台由哪个单位牵头、什么时候完成？")
    assert not ans.refused
    assert "县生态环境局" in ans.answer and "2025年12月底" in ans.answer
    assert ans.citations[0].clause.endswith("第4项")
    assert ans.intent == "contact"
    assert "该事项完成时限（2025年12月底）已过。" in ans.warnings


def test_yearly_target_amount(sample_bot):
    ans = ask(sample_bot, "奉节县每年技术市场成交合同额要达到多少？")
    assert "1000万元以上" in ans.answer
    assert any("技术市场成交合同额" in c.quote for c in ans.citations)


def test_lead_unit_of_body_clause(sample_bot):
    ans = ask(sample_bot, "奉节网剧产业归哪个单位牵头？")
    assert "牵头单位：县融媒体中心" in ans.answer
    assert cited_paths(ans)[0].endswith("（四）网剧产业")


def test_amount_with_region(sample_bot):
    ans = ask(sample_bot, "我们在万州新注册的软件企业，首次纳入规上统计能拿多少奖励？")
    assert "20万元" in ans.answer and ans.intent == "amount"
    assert "万州" in ans.citations[0].doc_title or "满天星" in ans.citations[0].doc_title


def test_growth_award_amounts(sample_bot):
    ans = ask(sample_bot, "万州规上软件企业营业额过1亿且增速超过20%，奖励多少？")
    assert all(x in ans.answer for x in ("2万元", "5万元", "10万元"))


def test_eligibility_conditions(sample_bot):
    ans = ask(sample_bot, "万州新引进人才奖励需要满足什么条件？")
    assert not ans.refused
    assert "本科以上" in ans.answer and "半年以上" in ans.answer


def test_procedure(sample_bot):
    ans = ask(sample_bot, "奉节的单位要上政务信息化项目，第一步该干啥？")
    assert "县大数据发展局" in ans.answer


def test_metadata_doc_number_and_date(sample_bot):
    ans = ask(sample_bot, "奉节四网一数行动计划的文号是什么？")
    assert "奉节府办发〔2026〕8号" in ans.answer and ans.intent == "metadata"
    ans = ask(sample_bot, "重庆十四五数字产业规划是哪天印发的？")
    assert "2022年1月5日" in ans.answer


def test_validity_draft_and_expired_warnings(sample_bot):
    ans = ask(sample_bot, "九龙坡满天星方案实施到什么时候？")
    assert "2027年12月31日" in ans.answer
    assert any("征求意见稿" in w for w in ans.warnings)
    ans = ask(sample_bot, "重庆市十四五规划还有效吗？")
    assert "执行期已结束" in ans.answer
    assert any("已结束" in w for w in ans.warnings)


def test_draft_warning_on_content_answer(sample_bot):
    ans = ask(sample_bot, "九龙坡游戏产业发展由哪个部门牵头？")
    assert "区委宣传部" in ans.answer
    assert any("征求意见稿" in w for w in ans.warnings)


def test_expired_warning_on_content_answer(sample_bot):
    ans = ask(sample_bot, "重庆市十四五规划要打造多少个数字经济产业园？")
    assert "10" in ans.answer
    assert any("执行期" in w for w in ans.warnings)


def test_follow_up_deadline(sample_bot):
    ans = ask(sample_bot, "那它的完成时限呢？", ["奉节县“无废奉节”信息化平台由哪个单位牵头？"])
    assert "2025年12月底" in ans.answer and ans.intent == "deadline"


def test_follow_up_carries_region_and_topic(sample_bot):
    ans = ask(sample_bot, "那进入市级首版次软件产品名单呢？", ["万州对首次入统的规上软件企业奖励多少？"])
    assert "50万元" in ans.answer


def test_follow_up_with_topic_only(sample_bot):
    ans = ask(sample_bot, "配合单位是谁，什么时候要完成？", ["奉节的“油橄榄”星创天地谁牵头？"])
    assert "县科技局" in ans.answer and "2023年12月底" in ans.answer


def test_multi_region_question_gets_one_line_per_region(sample_bot):
    ans = ask(sample_bot, "5G基站要建多少个？")
    assert "【重庆市万州区】" in ans.answer and "【重庆市奉节县】" in ans.answer
    assert "5050个" in ans.answer and "2525个" in ans.answer


def test_list_of_rewards(sample_bot):
    ans = ask(sample_bot, "万州对软件企业有哪些奖励？")
    assert len(ans.citations) >= 2
    assert "20万元" in ans.answer and "50万元" in ans.answer


@pytest.mark.parametrize(
    "question",
    [
        "奉节县经济信息委的联系电话是多少？",
        "九龙坡引进软件人才给多少安家费？",
        "万州新引进的本科人才，一次性人才奖励具体给多少钱？",
        "渝北区的软件企业首次入统能奖励多少？",
        "成都高新区对软件企业有什么补贴？",
        "万州的软件企业能减免房产税吗？",
        "",
    ],
)
def test_refusals(sample_bot, question):
    ans = ask(sample_bot, question)
    assert ans.refused
    assert ans.answer.startswith(REFUSAL)
    assert not ans.citations


def test_no_cross_region_figures(sample_bot):
    ans = ask(sample_bot, "奉节对首次纳入规上统计的软件企业奖励多少？")
    assert "20万元" not in ans.answer  # that is 万州's figure


def test_every_number_in_answers_is_in_a_cited_clause(sample_bot):
    from bot.verify import unsupported_numbers

    for q in ("奉节县每年技术市场成交合同额要达到多少？", "万州对软件企业有哪些奖励？", "5G基站要建多少个？"):
        ans = ask(sample_bot, q)
        body = ans.answer.split("\n\n[1]")[0]
        sources = [sample_bot.index.clause(c.clause_id).text for c in ans.citations]
        sources += [c.doc_title + c.clause for c in ans.citations]
        assert unsupported_numbers(body, sources) == [], q


def test_answer_json_contract(sample_bot):
    d = sample_bot.ask("奉节网剧产业归哪个单位牵头？").to_json()
    assert set(d) == {"question", "answer", "refused", "citations", "warnings", "intent", "mode", "label",
                      "fallback_reason"}
    assert set(d["citations"][0]) == {"doc_id", "doc_title", "clause", "quote", "source_file"}
    assert d["mode"] == "extractive" and d["label"] is None and d["fallback_reason"] is None


def test_tasks_led_by_a_named_unit(sample_bot):
    ans = ask(sample_bot, "奉节县县科协牵头哪些任务？")
    assert len(ans.citations) == 4
    for c in ans.citations:
        assert sample_bot.index.clause(c.clause_id).lead_units == ["县科协"]
    assert "[4]完成时限（2022年12月底）已过。" in ans.warnings  # the 科技馆 row


def test_indicator_row_is_answered_with_its_column_names(sample_bot):
    ans = ask(sample_bot, "重庆十四五规划要求集群内数据中心上架率达到多少？")
    assert "2025年：75%" in ans.answer


def test_year_named_in_question_picks_that_years_figure(sample_bot):
    ans = ask(sample_bot, "奉节县网播产业2026年纳税目标是多少？")
    head = ans.answer.split("\n")[0]
    assert "纳税5000万元" in head and "6000万元" not in head


@pytest.mark.parametrize(
    "question",
    ["奉节县对网剧拍摄有补贴吗？补多少？", "重庆市十四五规划对集成电路企业的税收优惠是什么？"],
)
def test_topic_present_but_the_asked_benefit_absent_is_refused(sample_bot, question):
    ans = ask(sample_bot, question)
    assert ans.refused and not ans.citations
