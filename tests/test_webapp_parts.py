"""The web app's parts without a browser: answer text and HTML, sources, suggestions, the stored
conversation, feedback storage, the timeline picture and the page shell. Collections here are made
up (a fictional county's plan), so nothing depends on the sample corpus."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from core.records import Answer, Citation, Clause, Deadline, PolicyDocument
from webapp import render
from webapp.collection import coverage_text, example_questions
from webapp.conversation import MAX_STORED_CHARS, ChatTurn, Conversation
from webapp.feedback import FeedbackStore
from webapp.followups import follow_ups
from webapp.page_html import rewrite_page
from webapp.sources import Source, sources_for
from webapp.timeline import timeline_svg

TODAY = dt.date(2026, 11, 22)


def doc(doc_id: str, title: str, *, region: str = "青川县", status: str = "effective",
        issued_on: str | None = "2026-03-01") -> PolicyDocument:
    return PolicyDocument(doc_id=doc_id, title=title, doc_number="青府办发〔2026〕3号", issuer="青川县人民政府办公室",
                          issued_on=issued_on, region=region, period=None, period_start=None, period_end=None,
                          valid_until=None, status=status, source_path=f"/srv/in/{doc_id}.txt", sha256="0")


def task(cid: str, text: str, *, seq: int, lead: list[str], deadline: str | None, date: str | None,
         doc_id: str = "d1") -> Clause:
    return Clause(clause_id=cid, doc_id=doc_id, seq=seq, path=["附件 任务分解表", f"第{seq}项"], text=text,
                  kind="task_row", lead_units=lead,
                  deadline=Deadline(deadline, date) if deadline else None)


PLAN = doc("d1", "青川县数字乡村建设行动方案")
ROWS = [
    task("c1", "建设云链溯源平台，实现一品一码。\t县农业农村委\t县市场监管局\t2024年6月底", seq=1,
         lead=["县农业农村委"], deadline="2024年6月底", date="2024-06-30"),
    task("c2", "建成乡村数字服务站二十个。\t县乡村振兴局\t\t2027年12月底", seq=2, lead=["县乡村振兴局"],
         deadline="2027年12月底", date="2027-12-31"),
    task("c3", "完善数据共享机制。\t县大数据局\t\t以系统规定时间为准", seq=3, lead=["县大数据局"],
         deadline="以系统规定时间为准", date=None),
]


# ---- the answer as shown and as copied ------------------------------------------------------------
def test_a_quote_line_that_repeats_the_line_above_is_folded_into_it() -> None:
    text = ("金额：对入驻企业每户给予10万元奖励\n    原文：“对入驻企业每户给予10万元奖励。”[1]\n"
            "牵头单位：县农业农村委\n    原文：“建设云链溯源平台，实现一品一码。”[2]\n\n[1] 《青川县方案》 一、任务")
    assert render.answer_lines(text) == [
        "金额：对入驻企业每户给予10万元奖励[1]",
        "牵头单位：县农业农村委",
        "原文：“建设云链溯源平台，实现一品一码。”[2]",
    ]


def _answer() -> tuple[Answer, list[Source]]:
    cite = Citation("d1", PLAN.title, ROWS[0].label, "建设云链溯源平台，实现一品一码。", "d1.txt", "c1")
    ans = Answer(question="云链溯源平台什么时候完成？",
                 answer="牵头单位：县农业农村委；完成时限：2024年6月底\n"
                        "    原文：“建设云链溯源平台，实现一品一码。”[1]",
                 citations=[cite], warnings=["该事项完成时限（2024年6月底）已过。"])
    return ans, [Source(1, cite, PLAN, ROWS[0], before=[], after=[ROWS[1]])]


def test_copy_text_is_the_answer_with_a_source_list() -> None:
    ans, sources = _answer()
    assert render.plain_text(ans, sources) == (
        "牵头单位：县农业农村委；完成时限：2024年6月底\n"
        "原文：“建设云链溯源平台，实现一品一码。”[1]\n"
        "⚠ 该事项完成时限（2024年6月底）已过。\n"
        "\n"
        "来源：\n"
        "[1] 《青川县数字乡村建设行动方案》 附件 任务分解表 › 第1项\n"
        "    “建设云链溯源平台，实现一品一码。”"
    )


def test_a_generated_answer_carries_its_label_on_the_page_and_in_the_copied_text() -> None:
    ans, sources = _answer()
    assert "AI生成" not in render.answer_html(ans, sources, turn=1) and "AI生成" not in render.plain_text(ans, sources)
    ans.mode = "llm"
    assert '<span class="pb-ai-label"' in render.answer_html(ans, sources, turn=1)
    assert render.plain_text(ans, sources).startswith("【AI生成】\n牵头单位：县农业农村委")
    # while a model's answer arrives, the page says its sentences are being checked
    assert "核对中" in render.streaming_html("对入驻企业", checking=True)
    assert "核对中" not in render.streaming_html("对入驻企业")


def test_answer_html_links_markers_to_the_source_panel_and_hides_file_names() -> None:
    ans, sources = _answer()
    html = render.answer_html(ans, sources, turn=3)
    assert '<a class="pb-ref" href="#pb-src-3-1"' in html
    assert 'id="pb-src-3-1" hidden' in html
    assert '<mark class="pb-cited-text">建设云链溯源平台，实现一品一码。</mark>' in html
    assert "d1.txt" not in html and "/srv/in" not in html
    assert '<span class="pb-badge pb-badge-effective">现行</span>' in html
    assert "\n" not in html  # one HTML block for the chatbot's Markdown renderer
    shown = html.split('<div class="pb-src"')[0]  # what is on screen before a [n] is clicked
    assert shown.count("建设云链溯源平台，实现一品一码。") == 1  # once: no card repeating it


def test_answer_html_escapes_document_and_user_text() -> None:
    ans, sources = _answer()
    ans.answer = '<img src=x onerror="alert(1)">[1]'
    bad = doc("d1", "<script>alert(1)</script>")
    html = render.answer_html(ans, [Source(1, sources[0].citation, bad, ROWS[0])], turn=0)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_refusal_carries_what_the_collection_covers() -> None:
    ans = Answer(question="月球补贴？", answer="抱歉，现有政策文件中没有找到能回答这个问题的依据。", refused=True)
    docs = [PLAN, doc("d2", "白河镇产业扶持办法", region="白河镇")]
    cover = coverage_text(docs)
    assert cover == ("本系统目前收录 2 份政策文件，涉及白河镇、青川县：《青川县数字乡村建设行动方案》；"
                     "《白河镇产业扶持办法》。")
    assert f'<div class="pb-coverage">{cover}</div>' in render.answer_html(ans, [], turn=0, coverage=cover)
    assert coverage_text([]) == "目前还没有收录任何政策文件。"


def test_marked_html_merges_overlaps_and_escapes() -> None:
    text = "a<b>云链溯源平台</b>"
    spans = render.term_spans(text, ["云链", "链溯源", "平台"])
    assert sorted(spans) == [(4, 6), (5, 8), (8, 10)]
    assert render.marked_html(text, spans) == "a&lt;b&gt;<mark>云链溯源平台</mark>&lt;/b&gt;"


# ---- suggestions ------------------------------------------------------------------------------------
def test_examples_come_from_the_catalog_and_tasks() -> None:
    older = doc("d0", "青川县旧规划", issued_on="2020-01-01", status="expired")
    assert example_questions([older, PLAN], ROWS) == [
        "建设云链溯源平台由哪个单位牵头、什么时候完成？",
        "《青川县数字乡村建设行动方案》现在还有效吗？",
        "现有哪些政策文件？",
    ]
    assert example_questions([], []) == []


def test_follow_ups_offer_what_the_cited_clause_holds_and_was_not_asked() -> None:
    ans, _ = _answer()
    assert follow_ups(ans, [ROWS[0]]) == ["牵头单位是谁？"]  # the deadline was asked already
    ans.question = "云链溯源平台是做什么的？"
    ans.intent = "general"
    assert follow_ups(ans, [ROWS[0]]) == ["牵头单位是谁？", "什么时候截止？"]
    ans.refused = True
    assert follow_ups(ans, [ROWS[0]]) == []


# ---- the tab's stored conversation -------------------------------------------------------------------
def test_conversation_round_trips_through_its_json() -> None:
    ans, _ = _answer()
    first = "云链溯源平台什么时候完成？"
    conv = Conversation([ChatTurn(first, [], ans), ChatTurn("那牵头单位呢？", [first], ans)])
    back = Conversation.from_json(conv.to_json())
    assert back.questions() == conv.questions()
    assert back.turns[1].history == ["云链溯源平台什么时候完成？"]
    assert back.turns[0].answer.citations[0].clause_id == "c1"
    assert back.turns[0].answer.warnings == ans.warnings


@pytest.mark.parametrize("raw", ["", "not json", '{"turns": 3}', '{"turns": [{"question": 1}]}',
                                 '{"turns": [{"question": "q", "answer": {"answer": ["x"]}}]}',
                                 "x" * (MAX_STORED_CHARS + 1)])
def test_a_malformed_stored_conversation_is_dropped(raw: str) -> None:
    assert Conversation.from_json(raw).turns == []


def test_a_stored_conversation_cannot_choose_an_unknown_mode() -> None:
    ans, _ = _answer()
    data = json.loads(Conversation([ChatTurn("q", [], ans)]).to_json())
    data["turns"][0]["answer"]["mode"] = "<b>"
    assert Conversation.from_json(json.dumps(data)).turns[0].answer.mode == "extractive"


# ---- feedback -----------------------------------------------------------------------------------------
def test_feedback_is_masked_and_keeps_the_cited_clause_ids(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    ans, _ = _answer()
    fid = store.add(question="我的电话13812345678，补贴多少？", history=["身份证500101199001011234"],
                    answer=ans.to_json(), rating="down", comment="", clause_ids=["c1"])
    assert store.set_comment(fid, "请打023-68881234联系我")
    row = store.rows()[0]
    assert row["question"] == "我的电话[手机号]，补贴多少？"
    assert row["history"] == ["身份证[身份证号]"]
    assert row["comment"] == "请打[电话]联系我"
    assert row["clause_ids"] == ["c1"] and row["rating"] == "down"
    assert not store.set_comment(fid + 100, "x")
    raw = (tmp_path / "feedback.sqlite").read_bytes()
    assert b"13812345678" not in raw and b"68881234" not in raw


def test_feedback_store_adds_the_clause_ids_column_to_an_older_database(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL,"
               " question TEXT NOT NULL, history TEXT NOT NULL, answer TEXT NOT NULL, citations TEXT NOT NULL,"
               " rating TEXT NOT NULL,"
               " comment TEXT NOT NULL DEFAULT '', mode TEXT NOT NULL DEFAULT '', refused INTEGER NOT NULL DEFAULT 0)")
    db.execute("INSERT INTO feedback (time, question, history, answer, citations, rating) VALUES"
               " ('t', 'old', '[]', 'a', '[]', 'up')")
    db.commit()
    db.close()
    store = FeedbackStore(path)
    assert [(r["question"], r["clause_ids"]) for r in store.rows()] == [("old", [])]


# ---- the timeline picture -----------------------------------------------------------------------------
def test_timeline_draws_a_row_per_lead_unit_and_overdue_tasks_red() -> None:
    tasks = [(c, PLAN, bool(c.deadline and c.deadline.date and c.deadline.date < TODAY.isoformat())) for c in ROWS]
    svg = timeline_svg(tasks, today=TODAY)
    assert svg.count('<circle class="pb-task pb-overdue"') == 1
    assert svg.count('<circle class="pb-task"') == 1
    assert "<title>县农业农村委</title>" in svg and "<title>县乡村振兴局</title>" in svg
    assert "县大数据局" not in svg  # no date to place it at: counted below the picture instead
    assert "另有 1 项任务的完成时限不是具体日期" in svg
    assert "今天 2026-11-22" in svg and "2024年" in svg and "2027年" in svg
    assert 'aria-label="任务完成时限时间线：3 项任务，其中已逾期 1 项，按牵头单位分行"' in svg


def test_timeline_escapes_unit_names() -> None:
    row = task("x", "任务", seq=1, lead=["<b>县局</b>"], deadline="2027年1月", date="2027-01-31")
    svg = timeline_svg([(row, PLAN, False)], today=TODAY)
    assert "<b>" not in svg and "&lt;b&gt;县局&lt;/b&gt;" in svg


# ---- neighbours through the Retriever contract -----------------------------------------------------------
def test_sources_come_with_their_neighbours_in_reading_order(sample_index) -> None:
    clauses = [c for c in sample_index.clauses if c.kind == "task_row"]
    mid = clauses[len(clauses) // 2]
    d = sample_index.docs[mid.doc_id]
    cite = Citation(d.doc_id, d.title, mid.label, mid.text[:10], d.source_file, mid.clause_id)
    (src,) = sources_for(sample_index, [cite])
    in_doc = [c for c in sample_index.clauses if c.doc_id == mid.doc_id]
    i = [c.clause_id for c in in_doc].index(mid.clause_id)
    assert [c.clause_id for c in src.before] == [c.clause_id for c in in_doc[i - 2 : i]]
    assert [c.clause_id for c in src.after] == [c.clause_id for c in in_doc[i + 1 : i + 3]]
    gone = Citation(d.doc_id, d.title, "x", "y", d.source_file, "no-such-clause")
    assert sources_for(sample_index, [gone])[0].clause is None


# ---- the page shell -------------------------------------------------------------------------------------
def test_page_shell_is_chinese_and_carries_the_page_script() -> None:
    html = b'<!doctype html><html\n\tlang="en"><head><meta charset="utf-8"></head><body></body></html>'
    out = rewrite_page(html).decode()
    assert 'lang="zh-CN"' in out and 'lang="en"' not in out
    assert out.index("navigator, 'language'") < out.index('<meta charset="utf-8">')
    assert "pb-source-panel" in out


# ---- both sample corpora --------------------------------------------------------------------------------
@pytest.mark.parametrize("corpus", ["policies", "policies-other"])
def test_suggestions_and_coverage_follow_each_sample_corpus(corpus: str) -> None:
    from ingest.pipeline import parse_document
    from tests.conftest import ROOT

    parsed = [parse_document(p, today=TODAY, max_bytes=50 * 1024 * 1024)
              for p in sorted((ROOT / "data" / corpus).iterdir()) if p.suffix in (".txt", ".html")]
    docs = [d for d, _ in parsed]
    clauses = [c for _, cs in parsed for c in cs]
    examples = example_questions(docs, clauses)
    current = [d for d in docs if d.status == "effective"] or docs
    newest = max(current, key=lambda d: (d.issued_on or "", d.title))
    assert f"《{newest.title}》现在还有效吗？" in examples
    assert examples[-1] == "现有哪些政策文件？"
    cover = coverage_text(docs)
    assert cover.startswith(f"本系统目前收录 {len(docs)} 份政策文件")
    assert all(f"《{d.title}》" in cover for d in docs)
