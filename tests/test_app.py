"""The web app end to end: gradio UIs through gradio_client, the HTTP API through httpx."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_app_fixtures import STAFF_PASSWORD, STAFF_USER, LiveApp, shared_live_app

pytestmark = pytest.mark.slow

WUFEI = "奉节县“无废奉节”信息化平台由哪个单位牵头、什么时候完成？"
ANSWER_KEYS = {"question", "answer", "refused", "citations", "warnings", "intent", "mode", "label", "fallback_reason"}
CITATION_KEYS = {"doc_id", "doc_title", "clause", "quote", "source_file"}
CLAUSE_KEYS = {"clause_id", "doc_id", "doc_title", "path", "text", "kind", "lead_units", "responsible_units",
               "deadline", "amounts", "score"}
DOC_KEYS = {
    "doc_id", "title", "doc_number", "issuer", "issued_on", "region", "period", "status", "clause_count", "source_file"
}


@pytest.fixture(scope="session")
def live_app(request: pytest.FixtureRequest, sample_index_dir: Path, settings_factory,
             tmp_path_factory: pytest.TempPathFactory) -> LiveApp:
    return shared_live_app(request, sample_index_dir, settings_factory, tmp_path_factory)


def public_client(app: LiveApp) -> Any:
    from gradio_client import Client

    return Client(app.url + "/", verbose=False)


def staff_client(app: LiveApp) -> Any:
    from gradio_client import Client

    return Client(app.staff_url, auth=(STAFF_USER, STAFF_PASSWORD), verbose=False)


def last_bot_text(chat: list[dict[str, Any]]) -> str:
    msg = chat[-1]
    assert msg["role"] == "assistant"
    content = msg["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)


# ---- public chat through gradio_client ---------------------------------------------------------
def test_chat_answers_with_units_warning_and_numbered_sources(live_app: LiveApp) -> None:
    msg, chat = public_client(live_app).predict(WUFEI, [], api_name="/ask")
    assert msg == ""
    text = last_bot_text(chat)
    assert "县生态环境局" in text
    assert 'class="pb-sources"' in text and 'class="pb-ref pb-source-link"' in text
    assert "《奉节县“科技创新赋能”工程实施方案》" in text
    assert 'class="pb-src"' in text and "奉节县人民政府办公室" in text  # document data for the source panel
    assert "⚠" in text  # the 2025 deadline has passed on the pinned test date
    assert "AI生成" not in text  # extractive answers carry no AI label
    assert ".txt" not in text  # titles, never file names


def test_chat_streams_the_answer(live_app: LiveApp) -> None:
    job = public_client(live_app).submit(WUFEI, [], api_name="/ask")
    job.result(timeout=60)
    updates = [last_bot_text(chat) for _, chat in job.outputs() if chat and chat[-1]["role"] == "assistant"]
    partial = [u for u in updates if "pb-streaming" in u]
    assert len(partial) >= 3, updates  # several growing pieces before the final answer
    assert len(partial[1]) < len(partial[-1])
    assert "pb-sources" in updates[-1] and "pb-streaming" not in updates[-1]


def test_chat_passes_earlier_questions_as_history_and_stores_feedback(live_app: LiveApp) -> None:
    client = public_client(live_app)
    _, chat = client.predict("奉节县“无废奉节”信息化平台由哪个单位牵头？", [], api_name="/ask")
    _, chat = client.predict("什么时候完成？", chat, api_name="/ask")
    assert "2025年12月底" in last_bot_text(chat)
    comment, status = client.predict("回答很清楚", api_name="/feedback_down")
    assert comment == "" and "感谢" in status
    db = sqlite3.connect(live_app.index_dir / "feedback.sqlite")
    try:
        row = db.execute("SELECT question, history, answer, citations, rating, comment FROM feedback "
                         "ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        db.close()
    question, history, answer, citations, rating, comment = row
    assert question == "什么时候完成？"
    assert json.loads(history) == ["奉节县“无废奉节”信息化平台由哪个单位牵头？"]
    assert "2025年12月底" in answer
    assert json.loads(citations) and set(json.loads(citations)[0]) == CITATION_KEYS
    assert (rating, comment) == ("down", "回答很清楚")


def test_new_conversation_clears_history(live_app: LiveApp) -> None:
    client = public_client(live_app)
    client.predict(WUFEI, [], api_name="/ask")
    chat, box, *_ = client.predict(api_name="/new_conversation")
    assert chat == [] and box == ""
    _, status = client.predict("", api_name="/feedback_up")
    assert "还没有" in status  # nothing left to rate after a new conversation


def test_chat_refuses_an_overlong_question_with_a_clear_message(live_app: LiveApp) -> None:
    _, chat = public_client(live_app).predict("请问" * 300, [], api_name="/ask")
    assert "问题过长" in last_bot_text(chat)


def test_chat_escapes_html_in_questions(live_app: LiveApp) -> None:
    _, chat = public_client(live_app).predict('<img src=x onerror="alert(1)">奖励多少？', [], api_name="/ask")
    user = "".join(p["text"] for p in chat[-2]["content"])
    assert "<img" not in user and "&lt;img" in user


# ---- staff tools through gradio_client ----------------------------------------------------------
def test_staff_pages_need_login(live_app: LiveApp) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    with pytest.raises(AuthenticationError):
        Client(live_app.staff_url, verbose=False)
    with pytest.raises(Exception):  # noqa: B017 - a wrong password is refused however gradio words it
        Client(live_app.staff_url, auth=(STAFF_USER, "wrong"), verbose=False)


def test_staff_search_export_and_task_list(live_app: LiveApp) -> None:
    client = staff_client(live_app)
    table, status = client.predict("无废奉节", "全部", "全部", "全部", "", "全部", api_name="/search")
    assert "共" in status
    assert table["headers"][:3] == ["序号", "条款位置", "牵头单位"]
    first = table["data"][0]
    assert "县生态环境局" in first[2] and "第4项" in first[1]

    # filters alone list every matching clause
    table, _ = client.predict("", "奉节县", "全部", "task_row", "县生态环境局", "2025", api_name="/search")
    assert table["data"] and all("县生态环境局" in r[2] for r in table["data"])

    csv_path = client.predict(api_name="/export_csv")
    with open(csv_path, encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["序号", "文件", "文号", "条款位置"]
    assert len(rows) == len(table["data"]) + 1
    assert all(r[6] == "县生态环境局" for r in rows[1:])

    tasks, _status = client.predict("全部", False, api_name="/tasks")
    data = tasks["data"]
    assert len(data) >= 40
    overdue = [r for r in data if r[-1] == "已逾期"]
    assert overdue and all(r[6] for r in overdue)
    assert all(r[-1] == "已逾期" for r in data if r[6] == "2025年12月底")  # before the pinned 2026-11-22
    only_late, _ = client.predict("全部", True, api_name="/tasks")
    assert len(only_late["data"]) == len(overdue)


def test_staff_clause_detail_and_copy_text(live_app: LiveApp) -> None:
    hits = httpx.get(live_app.url + "/api/search", params={"q": "无废奉节 信息化平台", "k": 1}).json()
    html, copy = staff_client(live_app).predict(hits[0]["clause_id"], api_name="/clause_detail")
    assert "县生态环境局" in html and "奉节县人民政府办公室" in html
    assert copy.startswith("打造“无废奉节”信息化平台")
    assert "出处：《奉节县“科技创新赋能”工程实施方案》" in copy and "第4项" in copy


def _policy_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_paragraph("XX县智慧茶园建设实施方案")
    d.add_paragraph("一、主要任务")
    d.add_paragraph("（一）打造智慧茶园平台。建设XX茶叶大数据平台。（牵头单位：县农业农村委；责任单位：县科技局）")
    d.save(str(path))
    return path


def test_upload_docx_then_chat_finds_it_then_remove(live_app: LiveApp, tmp_path: Path) -> None:
    from gradio_client import handle_file

    staff = staff_client(live_app)
    status = staff.predict(handle_file(str(_policy_docx(tmp_path / "智慧茶园方案.docx"))), api_name="/upload")
    assert "已入库" in status, status
    saved = live_app.index_dir / "uploads" / "智慧茶园方案.docx"
    assert saved.exists()

    _, chat = public_client(live_app).predict("智慧茶园平台由哪个单位牵头？", [], api_name="/ask")
    assert "县农业农村委" in last_bot_text(chat)
    docs = httpx.get(live_app.url + "/api/documents").json()
    new = [d for d in docs if "智慧茶园" in d["title"]]
    assert len(new) == 1

    status = staff.predict(new[0]["doc_id"], True, api_name="/remove_document")
    assert "已移除" in status
    assert not saved.exists()
    assert not [d for d in httpx.get(live_app.url + "/api/documents").json() if "智慧茶园" in d["title"]]
    ans = httpx.post(live_app.url + "/api/ask", json={"question": "智慧茶园平台由哪个单位牵头？"}).json()
    assert "县农业农村委" not in ans["answer"]


def test_upload_refuses_other_file_types(live_app: LiveApp, tmp_path: Path) -> None:
    from gradio_client import handle_file

    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ\x90\x00")
    try:
        status = staff_client(live_app).predict(handle_file(str(bad)), api_name="/upload")
    except Exception as e:  # noqa: BLE001 - gradio may refuse the upload itself (the component's file_types)
        status = str(e)
    assert "已入库" not in status
    assert not (live_app.index_dir / "uploads" / "tool.exe").exists()


# ---- HTTP API -----------------------------------------------------------------------------------
def test_api_ask(live_app: LiveApp) -> None:
    r = httpx.post(live_app.url + "/api/ask", json={"question": WUFEI, "history": []}, timeout=60)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == ANSWER_KEYS
    assert "县生态环境局" in body["answer"] and not body["refused"]
    assert body["citations"] and set(body["citations"][0]) == CITATION_KEYS
    assert body["mode"] == "extractive" and body["label"] is None and body["fallback_reason"] is None


def test_api_ask_uses_history(live_app: LiveApp) -> None:
    r = httpx.post(live_app.url + "/api/ask", json={
        "question": "什么时候完成？", "history": ["奉节县“无废奉节”信息化平台由哪个单位牵头？"]}, timeout=60)
    assert "2025年12月底" in r.json()["answer"]


def test_api_search(live_app: LiveApp) -> None:
    r = httpx.get(live_app.url + "/api/search", params={"q": "无废奉节", "region": "奉节", "k": 3})
    assert r.status_code == 200
    hits = r.json()
    assert 1 <= len(hits) <= 3
    assert set(hits[0]) == CLAUSE_KEYS
    assert "县生态环境局" in hits[0]["lead_units"]
    none = httpx.get(live_app.url + "/api/search", params={"q": "无废奉节", "doc": "没有这个文件"}).json()
    assert none == []
    assert httpx.get(live_app.url + "/api/search", params={"q": ""}).status_code == 422


def test_api_documents_and_healthz(live_app: LiveApp) -> None:
    docs = httpx.get(live_app.url + "/api/documents").json()
    assert len(docs) == 5 and all(set(d) == DOC_KEYS for d in docs)
    health = httpx.get(live_app.url + "/healthz").json()
    assert health["status"] == "ok" and health["documents"] == 5
    assert health["clauses"] == sum(d["clause_count"] for d in docs)
    assert health["llm"] is None  # no generative model configured


def test_api_question_limits(live_app: LiveApp) -> None:
    r = httpx.post(live_app.url + "/api/ask", json={"question": "问" * 100_000}, timeout=30)
    assert r.status_code == 413 and "问题过长" in r.json()["detail"]
    r = httpx.post(live_app.url + "/api/ask", json={"question": "   "})
    assert r.status_code == 422


# ---- staff lookup and chat suggestions against the live index ----------------------------------
def test_staff_lookup_never_widens_when_a_filter_is_added(live_app: LiveApp) -> None:
    from core.retrieval import Filters

    state = live_app.state
    terms = ["信息化", "平台"]

    def found(f: Filters) -> set[str]:
        hits, total = state.lookup("信息化平台", terms, filters=f, k=10_000)
        assert total == len(hits)
        return {h.clause.clause_id for h in hits}

    everything = found(Filters())
    region = found(Filters(regions=["重庆市奉节县"]))
    both = found(Filters(regions=["重庆市奉节县"], kinds=["task_row"]))
    assert both and both <= region <= everything and len(both) < len(region) < len(everything)
    for cid in both:
        c, d = state.clause_with_doc(cid)
        assert c.kind == "task_row" and d.region == "重庆市奉节县" and ("平台" in c.text or "信息化" in c.text)


def test_example_questions_are_answered(live_app: LiveApp) -> None:
    from webapp.collection import example_questions

    with live_app.state.reading() as idx:
        examples = example_questions(list(idx.docs.values()), idx.clauses)
    assert len(examples) == 3
    for q in examples:
        body = httpx.post(live_app.url + "/api/ask", json={"question": q}, timeout=60).json()
        assert not body["refused"], (q, body["answer"])
