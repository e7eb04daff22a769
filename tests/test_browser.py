"""The chat and staff pages in a real browser: Playwright driving the system's headless Chromium.

Each test acts as a visitor or as window staff would, and checks what they would see: rendered
colours, the viewport, the clipboard, the URL, the tab's storage. Skipped when Chromium is absent.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser_helpers import CHROMIUM, LAUNCH_ARGS, low_contrast, screenshot_dirs
from tests.test_app_fixtures import STAFF_PASSWORD, STAFF_USER, LiveApp, shared_live_app

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')")
pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect.set_options(timeout=30_000)  # a search or an ingest on two shared cores can take a while

WUFEI_WHEN = "“无废奉节”信息化平台什么时候完成？"
WUFEI_QUOTE = "打造“无废奉节”信息化平台，构建从产生、收集、贮存、运输到处置环节的全过程环境风险监测预警网络。"
LONG_ANSWER = "5G基站要建多少个？"  # an answer of several regions: it streams for a while
OFF_TOPIC = "月球基地的建设补贴怎么申请？"
TIMEOUT_MS = 60_000
# Latin words allowed on a Chinese page: file formats, units and abbreviations staff read as such
ALLOWED_LATIN = {"CSV", "AI", "MB", "txt", "docx", "doc", "wps", "pdf", "ofd", "xlsx", "xls", "html", "md", "png",
                 "jpg", "API", "5G", "IPv6"}


# ---- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def live_app(request: pytest.FixtureRequest, sample_index_dir: Path, settings_factory,
             tmp_path_factory: pytest.TempPathFactory) -> LiveApp:
    return shared_live_app(request, sample_index_dir, settings_factory, tmp_path_factory)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options: the system Chromium, no sandbox, no network of its own."""
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (Debian: apt-get install -y chromium)"
        print(reason)
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": LAUNCH_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # an English-language browser: the page must still be Chinese throughout
    return {**browser_context_args, "locale": "en-US", "viewport": {"width": 1280, "height": 1000}}


@pytest.fixture
def chat(page: Page, live_app: LiveApp) -> Page:
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(live_app.url + "/")
    page.wait_for_selector("#question textarea")
    return page


@pytest.fixture
def staff(page: Page, live_app: LiveApp) -> Page:
    page.set_default_timeout(TIMEOUT_MS)
    login(page, live_app.staff_url)
    return page


def login(page: Page, url: str) -> None:
    page.goto(url)
    page.locator("input[type=password]").wait_for()
    page.locator("input[type=text]").first.fill(STAFF_USER)
    page.locator("input[type=password]").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector("#staff-query textarea, #staff-query input")


def ask(page: Page, question: str) -> Any:
    """Type a question, press Enter, wait for the final answer; the last reply's locator."""
    before = page.locator("#chat .pb-reply").count()
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#chat .pb-reply")).to_have_count(before + 1, timeout=TIMEOUT_MS)
    return page.locator("#chat .pb-reply").last


def save_picture(page: Page, name: str, **kw: Any) -> None:
    for d in screenshot_dirs(name):
        d.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(d / name), **kw)


def catalog(app: LiveApp) -> list[dict[str, Any]]:
    return httpx.get(app.url + "/api/documents", timeout=30).json()


# ---- chat: one answer presentation and the source panel ---------------------------------------
def test_answer_then_numbered_sources_and_source_panel(chat: Page, live_app: LiveApp) -> None:
    reply = ask(chat, WUFEI_WHEN)
    text = reply.inner_text()
    assert "县生态环境局" in text and "⚠" in text
    assert text.count(WUFEI_QUOTE[:30]) == 1  # the quoted sentence is shown once, not in a card again
    html = reply.inner_html()
    docs = {d["title"]: d for d in catalog(live_app)}
    doc = docs["奉节县“科技创新赋能”工程实施方案"]
    assert doc["source_file"] not in html  # document titles, never file names
    assert reply.locator(".pb-sources li").count() == 1
    assert "《奉节县“科技创新赋能”工程实施方案》" in reply.locator(".pb-sources").inner_text()

    reply.locator(".pb-answer a.pb-ref").first.click()  # the [1] in the answer text
    panel = chat.locator("#pb-source-panel")
    expect(panel).to_be_visible()
    body = panel.inner_text()
    assert "《奉节县“科技创新赋能”工程实施方案》" in body
    assert "奉节县人民政府办公室" in body and "文号" in body and "印发日期" in body
    assert panel.locator(".pb-badge").inner_text() in {"现行", "已过期", "草案"}
    assert "任务分解表 › 第4项" in body
    # the cited clause highlighted among its neighbours, in reading order
    assert panel.locator(".pb-ctx-cited mark").inner_text() == WUFEI_QUOTE
    paths = panel.locator(".pb-ctx-path").all_inner_texts()
    assert [p.rsplit("第", 1)[-1] for p in paths] == ["2项", "3项", "4项", "5项", "6项"]
    assert panel.locator(".pb-ctx").nth(2).get_attribute("class") == "pb-ctx pb-ctx-cited"
    chat.wait_for_timeout(200)
    save_picture(chat, "screenshot-chat.png")

    chat.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    # the source list opens the same panel
    reply.locator(".pb-sources a.pb-ref").click()
    expect(panel).to_be_visible()
    chat.locator(".pb-panel-close").click()
    expect(panel).to_be_hidden()


def test_copy_gives_plain_text_with_sources(chat: Page, live_app: LiveApp) -> None:
    chat.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_app.url)
    reply = ask(chat, WUFEI_WHEN)
    reply.locator("button.pb-copy").click()
    expect(reply.locator(".pb-copy-status")).to_have_text("已复制")
    copied = chat.evaluate("navigator.clipboard.readText()")
    assert "<" not in copied and "&" not in copied  # text, not HTML
    lines = copied.split("\n")
    assert lines[0] == "牵头单位：县生态环境局；完成时限：2025年12月底"
    assert "来源：" in lines
    assert "[1] 《奉节县“科技创新赋能”工程实施方案》 附件 “科技创新赋能”工程任务分解表 › 第4项" in lines
    assert f"    “{WUFEI_QUOTE}”" in lines
    assert any(line.startswith("⚠ ") for line in lines)


def test_input_is_kept_while_streaming_and_new_conversation_clears_both(chat: Page) -> None:
    # the moment the answer starts streaming, the visitor types the next question
    chat.evaluate("""() => new MutationObserver((_, obs) => {
        if (!document.querySelector('#chat .pb-streaming')) return;
        obs.disconnect();
        const ta = document.querySelector('#question textarea');
        const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;
        set.call(ta, '那牵头单位呢？');
        ta.dispatchEvent(new Event('input', {bubbles: true}));
        window.__typedWhileStreaming = true;
    }).observe(document.body, {subtree: true, childList: true})""")
    ask(chat, LONG_ANSWER)
    assert chat.evaluate("window.__typedWhileStreaming") is True
    chat.wait_for_timeout(300)
    assert chat.locator("#question textarea").input_value() == "那牵头单位呢？"

    chat.locator("#new-conversation").click()
    expect(chat.locator("#chat .pb-reply")).to_have_count(0)
    expect(chat.locator("#question textarea")).to_have_value("")
    chat.wait_for_timeout(300)
    assert chat.evaluate("sessionStorage.getItem('policybot-conversation')") is None


def test_reload_keeps_the_conversation_within_the_tab(chat: Page, live_app: LiveApp) -> None:
    ask(chat, WUFEI_WHEN)
    ask(chat, "牵头单位是谁？")
    chat.wait_for_timeout(300)
    chat.reload()
    expect(chat.locator("#chat .pb-reply")).to_have_count(2)
    assert WUFEI_WHEN in chat.locator("#chat .pb-question").first.inner_text()
    # the restored conversation goes on: a follow-up still knows the topic
    reply = ask(chat, "配合单位呢？")
    assert "县生态环境局" in reply.inner_text()

    other_tab = chat.context.browser.new_page()  # another tab session starts empty
    try:
        other_tab.goto(live_app.url + "/")
        other_tab.wait_for_selector("#question textarea")
        other_tab.wait_for_timeout(1000)
        assert other_tab.locator("#chat .pb-reply").count() == 0
    finally:
        other_tab.close()

    chat.locator("#new-conversation").click()
    expect(chat.locator("#chat .pb-reply")).to_have_count(0)
    chat.wait_for_timeout(300)
    chat.reload()
    chat.wait_for_selector("#question textarea")
    chat.wait_for_timeout(1000)
    assert chat.locator("#chat .pb-reply").count() == 0


def test_follow_ups_come_from_the_cited_clause(chat: Page) -> None:
    ask(chat, WUFEI_WHEN)  # asks for the deadline; the cited task row also names its lead unit
    offered = chat.get_by_role("button", name="牵头单位是谁？")
    expect(offered).to_be_visible()
    assert chat.get_by_role("button", name="什么时候截止？").count() == 0  # already asked
    offered.click()
    expect(chat.locator("#chat .pb-reply")).to_have_count(2, timeout=TIMEOUT_MS)
    reply = chat.locator("#chat .pb-reply").last
    assert "牵头单位：县生态环境局" in reply.inner_text()
    assert "任务分解表 › 第4项" in reply.locator(".pb-sources").inner_text()


def test_refusal_says_what_the_collection_covers(chat: Page, live_app: LiveApp) -> None:
    reply = ask(chat, OFF_TOPIC)
    assert "没有找到能回答这个问题的依据" in reply.inner_text()
    coverage = reply.locator(".pb-coverage").inner_text()
    docs = catalog(live_app)
    assert f"收录 {len(docs)} 份政策文件" in coverage
    assert all(f"《{d['title']}》" in coverage for d in docs)
    assert all(d["region"] in coverage for d in docs if d["region"])


def test_examples_are_built_from_the_catalog(chat: Page, live_app: LiveApp) -> None:
    examples = chat.locator("#chat .examples button, #chat button.example")
    expect(examples.first).to_be_visible()
    texts = examples.all_inner_texts()
    docs = catalog(live_app)
    newest = max((d for d in docs if d["status"] == "effective"), key=lambda d: d["issued_on"] or "")
    assert any(newest["title"] in t for t in texts), texts
    examples.first.click()
    expect(chat.locator("#chat .pb-reply")).to_have_count(1, timeout=TIMEOUT_MS)
    assert "没有找到能回答" not in chat.locator("#chat .pb-reply").inner_text()


# ---- chat: language, colours, phone screen, accessibility -------------------------------------
def _latin_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", text) if w not in ALLOWED_LATIN}


def test_page_is_chinese_without_an_api_footer(chat: Page) -> None:
    ask(chat, WUFEI_WHEN)
    assert chat.evaluate("document.documentElement.lang") == "zh-CN"
    body = chat.locator("body").inner_text()
    assert "API" not in body and "Gradio" not in body
    assert chat.locator("footer").count() == 0 or not chat.locator("footer").is_visible()
    assert not _latin_words(body), _latin_words(body)
    labels = chat.evaluate("""[...document.querySelectorAll('[aria-label],[title],[placeholder]')]
        .filter(e => e.getClientRects().length)
        .map(e => [e.getAttribute('aria-label'), e.getAttribute('title'), e.getAttribute('placeholder')].join(' '))""")
    assert not _latin_words(" ".join(labels)), _latin_words(" ".join(labels))


def test_staff_page_is_chinese_too(staff: Page) -> None:
    assert staff.evaluate("document.documentElement.lang") == "zh-CN"
    staff.locator("#staff-query textarea, #staff-query input").first.fill("信息化平台")
    staff.locator("#staff-query textarea, #staff-query input").first.press("Enter")
    _search_rows(staff)
    for tab in ("窗口查询", "任务清单", "用户反馈", "文件管理"):
        staff.get_by_role("tab", name=tab).click()
        staff.wait_for_timeout(300)
        # the page's own words, without the documents' text shown in its tables and panels
        body = staff.evaluate("""() => {
            const shown = document.querySelector('.tabitem:not([style*="display: none"])') || document.body;
            const copy = shown.cloneNode(true);
            copy.querySelectorAll('tbody, .virtual-row, #clause-detail, #task-detail, #task-timeline svg, textarea')
                .forEach(e => e.remove());
            return document.querySelector('.tab-wrapper, [role=tablist]').innerText + '\\n' + copy.innerText;
        }""")
        assert "API" not in body and not _latin_words(body), (tab, _latin_words(body))


def test_dark_mode_keeps_answer_and_source_text_readable(browser: Any, live_app: LiveApp) -> None:
    ctx = browser.new_context(color_scheme="dark", locale="zh-CN", viewport={"width": 1280, "height": 1000})
    try:
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(live_app.url + "/")
        page.wait_for_selector("#question textarea")
        reply = ask(page, WUFEI_WHEN)
        assert page.evaluate("document.body.classList.contains('dark')")
        reply.locator(".pb-answer a.pb-ref").first.click()
        expect(page.locator("#pb-source-panel")).to_be_visible()
        page.wait_for_timeout(200)
        save_picture(page, "chat-dark.png")
        checked, low = low_contrast(page, ["#chat .pb-reply", "#chat .pb-question", "#pb-source-panel"])
        assert checked >= 20
        assert not low, low
    finally:
        ctx.close()


def test_phone_width_has_no_horizontal_scroll(browser: Any, live_app: LiveApp) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                              device_scale_factor=2, locale="zh-CN")
    try:
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(live_app.url + "/")
        page.wait_for_selector("#question textarea")
        reply = ask(page, LONG_ANSWER)
        width = page.evaluate("document.documentElement.clientWidth")
        assert width == 390
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        for sel in ("#question", "#send", "#new-conversation", "#chat"):
            box = page.locator(sel).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (sel, box)
        reply.locator(".pb-answer a.pb-ref").first.click()
        panel = page.locator("#pb-source-panel")
        expect(panel).to_be_visible()
        box = panel.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        save_picture(page, "chat-phone.png")
    finally:
        ctx.close()


def _axe_violations(page: Page) -> list[dict[str, Any]]:
    page.wait_for_timeout(1000)  # gradio fades updated components in: judge the settled page
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}})
    return [{"id": v["id"], "impact": v["impact"],
             "nodes": [(n["target"], n["html"][:160], n.get("failureSummary", "")[-200:]) for n in v["nodes"]][:5]}
            for v in results.response["violations"]]


def test_chat_page_passes_axe(chat: Page) -> None:
    reply = ask(chat, WUFEI_WHEN)
    assert not _axe_violations(chat)
    reply.locator(".pb-answer a.pb-ref").first.click()
    expect(chat.locator("#pb-source-panel")).to_be_visible()
    assert not _axe_violations(chat)


# ---- chat: feedback -------------------------------------------------------------------------------
def test_feedback_with_reason_is_stored_masked_and_listed_for_staff(chat: Page, live_app: LiveApp,
                                                                     browser: Any) -> None:
    reply = ask(chat, WUFEI_WHEN)
    cited = httpx.get(live_app.url + "/api/search", params={"q": "无废奉节 信息化平台", "k": 1}).json()[0]
    chat.locator("#chat button[aria-label='踩']").last.click()
    expect(chat.locator("#feedback-reason")).to_be_visible()
    chat.locator("#reason textarea, #reason input").first.fill("时限已过，想知道新的时间，电话13812345678")
    chat.locator("#reason-submit").click()
    expect(chat.locator("#feedback-status")).to_contain_text("已记录")
    assert reply.is_visible()

    db = sqlite3.connect(live_app.index_dir / "feedback.sqlite")
    try:
        q, answer, rating, comment, ids = db.execute(
            "SELECT question, answer, rating, comment, clause_ids FROM feedback ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        db.close()
    assert (q, rating) == (WUFEI_WHEN, "down")
    assert "县生态环境局" in answer
    assert json.loads(ids) == [cited["clause_id"]]
    assert "13812345678" not in comment and "[手机号]" in comment

    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1000})
    try:
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        login(page, live_app.staff_url)
        page.get_by_role("tab", name="用户反馈").click()
        table = page.locator("#feedback-list")
        expect(table).to_contain_text("时限已过，想知道新的时间")
        assert "13812345678" not in table.inner_text()
        assert "第4项" in table.inner_text()
        with page.expect_download() as dl:
            page.get_by_role("button", name="导出反馈 CSV").click()
            page.locator("#tab-feedback a[download]").first.click()
        raw = Path(dl.value.path()).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read Chinese
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        assert rows[0][:4] == ["编号", "时间", "评价", "问题"]
        mine = [r for r in rows[1:] if r[3] == WUFEI_WHEN and "时限已过" in r[6]]
        assert mine and mine[0][2] == "👎 没帮助" and mine[0][8] == cited["clause_id"]
        assert "13812345678" not in raw.decode("utf-8-sig")
    finally:
        ctx.close()


# ---- staff --------------------------------------------------------------------------------------
ROW = "div[role=row].virtual-row"  # gradio's table renders the rows in view as these


def _rows(page: Page, table: str) -> list[list[str]]:
    return page.evaluate(f"""[...document.querySelectorAll('{table} {ROW}')].map(
        tr => [...tr.querySelectorAll('[role=gridcell]')].map(td => td.innerText.trim()))""")


def _result_count(page: Page) -> int:
    m = re.search(r"共 (\d+) 条结果", page.locator("#search-status").inner_text())
    return int(m.group(1)) if m else 0


def _search_rows(page: Page) -> list[list[str]]:
    """The result rows once a search has finished (its status line says how many or none)."""
    expect(page.locator("#search-status")).to_contain_text(re.compile("共 \\d+ 条结果|没有找到"))
    if "没有找到" not in page.locator("#search-status").inner_text():
        expect(page.locator(f"#search-results {ROW}").first).to_be_visible()
    page.wait_for_timeout(300)
    return [r for r in _rows(page, "#search-results") if any(r)]


def _pick(page: Page, elem_id: str, label: str) -> None:
    box = page.locator(f"#{elem_id} input")
    box.click()
    box.fill(label)
    page.get_by_role("option", name=label).first.click()


def test_staff_filters_combine_and_live_in_the_url(staff: Page, live_app: LiveApp) -> None:
    staff.locator("#staff-query textarea, #staff-query input").first.fill("信息化平台")
    staff.locator("#staff-query textarea, #staff-query input").first.press("Enter")
    broad = _search_rows(staff)
    n_broad = _result_count(staff)
    assert broad and n_broad
    expect(staff).to_have_url(re.compile(r"[?&]q="))

    _pick(staff, "filter-region", "重庆市奉节县")
    expect(staff.locator("#search-status")).to_contain_text("同时满足")
    by_region = _search_rows(staff)
    n_region = _result_count(staff)
    assert 0 < n_region <= n_broad
    fengjie = {d["title"] for d in catalog(live_app) if d["region"] == "重庆市奉节县"}
    assert by_region and all(r[6] in fengjie for r in by_region)

    _pick(staff, "filter-kind", "任务分解表")
    staff.wait_for_timeout(500)
    both = _search_rows(staff)
    assert both and 0 < _result_count(staff) <= n_region  # a filter added never widens the list
    assert all(r[6] in fengjie and "任务分解表" in r[1] for r in both)

    expect(staff).to_have_url(re.compile(r"kind=task_row"))
    url = staff.url
    assert "region=" in url and "kind=task_row" in url and "q=" in url
    # the URL is a shareable search: a colleague opening it sees the same filters and rows
    other = staff.context.new_page()
    try:
        other.set_default_timeout(TIMEOUT_MS)
        other.goto(url)
        other.wait_for_selector("#search-results")
        expect(other.locator("#search-status")).to_contain_text("同时满足")
        assert _search_rows(other) == both
        assert other.locator("#filter-region input").input_value() == "重庆市奉节县"
    finally:
        other.close()


def test_staff_results_show_clause_text_with_matches_marked(staff: Page) -> None:
    staff.locator("#staff-query textarea, #staff-query input").first.fill("无废奉节 信息化平台")
    staff.locator("#staff-query textarea, #staff-query input").first.press("Enter")
    expect(staff.locator(f"#search-results {ROW}").first).to_be_visible()
    staff.wait_for_timeout(300)
    first = staff.locator(f"#search-results {ROW}").first
    assert WUFEI_QUOTE[:20] in first.inner_text()
    marked = first.locator("mark").all_inner_texts()
    assert marked and all(m in WUFEI_QUOTE for m in marked)
    assert "信息化平台" in "".join(marked) or "信息化" in "".join(marked)
    save_picture(staff, "staff-search.png")


FICTIONAL_PLAN = """青川县数字乡村建设行动方案

一、主要任务
（一）建设数字乡村服务平台。整合涉农数据资源，建设全县统一的数字乡村服务平台。（牵头单位：县农业农村委）

青川县人民政府办公室
2026年3月1日

附件

数字乡村建设任务分解表
\t序号
\t工作任务
\t牵头单位
\t配合单位
\t完成时限

\t1
\t建设青川云链农产品溯源平台，实现主要农产品一品一码。
\t县农业农村委
\t县市场监管局
\t2024年6月底

\t2
\t建成乡村数字服务站二十个。
\t县乡村振兴局
\t各乡镇人民政府
\t2027年12月底
"""


def test_staff_lists_refresh_after_upload_and_remove(staff: Page, live_app: LiveApp, tmp_path: Path) -> None:
    staff.get_by_role("tab", name="任务清单").click()
    expect(staff.locator("#task-status")).to_contain_text("项任务")
    before = staff.locator("#task-status").inner_text()
    n_before = int(re.search(r"共 (\d+) 项任务", before).group(1))
    staff.get_by_role("tab", name="窗口查询").click()
    staff.locator("#staff-query textarea, #staff-query input").first.fill("云链")
    _pick(staff, "filter-kind", "任务分解表")
    expect(staff.locator("#search-status")).to_contain_text("没有找到")

    plan = tmp_path / "青川县数字乡村建设行动方案.txt"
    plan.write_text(FICTIONAL_PLAN, encoding="utf-8")
    staff.get_by_role("tab", name="文件管理").click()
    staff.locator("#upload-file input[type=file]").set_input_files(str(plan))
    staff.locator("#upload-btn").click()
    expect(staff.locator("#upload-status")).to_contain_text("已入库", timeout=120_000)
    expect(staff.locator("#catalog")).to_contain_text("青川县数字乡村建设行动方案")

    # no reload: the task list, the search results and the filters know the new document
    staff.get_by_role("tab", name="任务清单").click()
    expect(staff.locator("#task-status")).to_contain_text(f"共 {n_before + 2} 项任务")
    assert staff.locator("#task-timeline").inner_text().count("县乡村振兴局") == 1
    staff.get_by_role("tab", name="窗口查询").click()
    rows = _search_rows(staff)
    assert len(rows) == 1 and rows[0][6].startswith("青川县数字乡村建设行动方案") and "第1项" in rows[0][1]
    assert staff.locator("#filter-kind input").input_value() == "任务分解表"  # the selection is kept

    staff.get_by_role("tab", name="文件管理").click()
    _pick(staff, "remove-doc", "青川县数字乡村建设行动方案")
    staff.locator("#remove-confirm input").check()
    staff.locator("#remove-btn").click()
    expect(staff.locator("#remove-status")).to_contain_text("已移除")
    expect(staff.locator("#catalog")).not_to_contain_text("青川县数字乡村建设行动方案")
    staff.get_by_role("tab", name="任务清单").click()
    expect(staff.locator("#task-status")).to_contain_text(f"共 {n_before} 项任务")
    staff.get_by_role("tab", name="窗口查询").click()
    expect(staff.locator("#search-status")).to_contain_text("没有找到")
    assert staff.locator("#filter-kind input").input_value() == "任务分解表"


def test_task_list_overdue_filter_timeline_and_detail_in_view(staff: Page, live_app: LiveApp) -> None:
    staff.get_by_role("tab", name="任务清单").click()
    expect(staff.locator("#task-status")).to_contain_text("项任务")
    status = staff.locator("#task-status").inner_text()
    total, late = (int(x) for x in re.search(r"共 (\d+) 项任务，其中已逾期 (\d+) 项", status).groups())
    assert 0 < late < total

    # the picture: one row per lead unit, a dot per task and unit, overdue dots red
    svg = staff.locator("#task-timeline svg")
    expect(svg).to_be_visible()
    dots = svg.locator("circle.pb-task")
    red = svg.locator("circle.pb-overdue")
    assert dots.count() >= total - 5 and red.count() >= late
    tips = red.evaluate_all("els => els.map(e => e.querySelector('title').textContent)")
    assert all("已逾期" in t for t in tips)
    fills = set(red.evaluate_all("els => els.map(e => getComputedStyle(e).fill)"))
    assert fills == {"rgb(185, 28, 28)"}
    assert "今天 2026-11-22" in (svg.text_content() or "")
    svg.scroll_into_view_if_needed()
    save_picture(staff, "screenshot-staff.png")

    staff.locator("#overdue-only input").check()  # no refresh button: the list follows at once
    expect(staff.locator("#task-status")).to_contain_text(f"共 {late} 项任务，其中已逾期 {late} 项")
    assert staff.locator("#task-timeline svg circle.pb-task:not(.pb-overdue)").count() == 0
    staff.locator("#overdue-only input").uncheck()
    expect(staff.locator("#task-status")).to_contain_text(f"共 {total} 项任务")

    row = staff.locator(f"#task-list {ROW}[data-index='12']")
    cell = row.locator("[role=gridcell]").nth(3)
    task_text = cell.inner_text().strip()
    cell.click()
    detail = staff.locator("#task-detail")
    expect(detail).to_contain_text(task_text[:15])
    staff.wait_for_timeout(500)
    box = detail.bounding_box()
    viewport = staff.viewport_size
    assert box is not None and viewport is not None
    assert box["y"] < viewport["height"] and box["y"] + min(box["height"], 100) > 0  # on screen


def test_staff_page_passes_axe(staff: Page) -> None:
    staff.locator("#staff-query textarea, #staff-query input").first.fill("无废奉节")
    staff.locator("#staff-query textarea, #staff-query input").first.press("Enter")
    expect(staff.locator(f"#search-results {ROW}").first).to_be_visible()
    assert not _axe_violations(staff)
    staff.get_by_role("tab", name="任务清单").click()
    expect(staff.locator("#task-timeline svg")).to_be_visible()
    assert not _axe_violations(staff)
