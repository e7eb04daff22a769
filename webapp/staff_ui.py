"""The staff page: 窗口查询 (search, clause detail, copyable answer, CSV), 任务清单 (table and timeline),
用户反馈 (list, CSV) and 文件管理 (catalog, upload, remove)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr

from core.records import KIND_LABELS, STATUS_LABELS, Clause, PolicyDocument
from core.retrieval import Filters
from webapp import render
from webapp.state import UPLOAD_SUFFIXES, AppState, UploadError, UploadResult
from webapp.timeline import timeline_svg

log = logging.getLogger(__name__)

ALL = "全部"
SEARCH_HEADERS = ["序号", "条款位置", "牵头单位", "责任/配合单位", "完成时限", "金额", "文件", "条款原文（命中词标出）"]
TASK_HEADERS = ["文件", "地区", "条款位置", "任务", "牵头单位", "责任/配合单位", "完成时限", "状态"]
CATALOG_HEADERS = ["标题", "文号", "地区", "期限", "状态", "条款数", "发文机关", "印发日期"]
EXPORT_HEADERS = ["序号", "文件", "文号", "条款位置", "类型", "条款原文", "牵头单位", "责任/配合单位",
                  "完成时限", "金额", "条款ID"]
OVERDUE = "已逾期"
SEARCH_ROWS = 50  # result rows listed for a search word (a filter alone lists up to the state's LIST_LIMIT)
FEEDBACK_HEADERS = ["时间", "评价", "问题", "回答", "原因", "引用条款"]
FEEDBACK_EXPORT_HEADERS = ["编号", "时间", "评价", "问题", "此前的问题", "回答", "原因", "引用条款", "条款ID",
                           "回答方式", "是否拒答"]
FEEDBACK_LIMIT = 500  # rows listed and exported; older feedback stays in the database
RATINGS = {"up": "👍 有帮助", "down": "👎 没帮助"}
# The filters go into the page URL (replaceState: no new history entry), so a search can be shared;
# the inputs are passed on unchanged to the search.
URL_WRITE_JS = """(...args) => {
  const [q, region, doc, kind, lead, year] = args;
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries({q, region, doc, kind, lead, year})) {
    const t = v === null || v === undefined ? "" : String(v).trim();
    if (t && t !== "全部") p.set(k, t);
  }
  const qs = p.toString();
  history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
  return args;
}"""
# A filter the URL does not name comes back as null: the page keeps whatever is already in that box.
URL_READ_JS = """(q, region, doc, kind, lead, year) => {
  const p = new URLSearchParams(location.search);
  return ["q", "region", "doc", "kind", "lead", "year"].map((k) => (p.has(k) ? p.get(k) : null));
}"""
SCROLL_TO_TASK_DETAIL_JS = """() => {
  const el = document.getElementById("task-detail");
  if (el) el.scrollIntoView({block: "nearest"});
}"""


@dataclass(frozen=True)
class StaffView:
    """What the staff page keeps per browser session: the clause id behind each listed row, in row
    order, so that a click on a row opens that clause."""

    results: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)


def _units(units: list[str]) -> str:
    return "、".join(units)


def _deadline(c: Clause) -> str:
    return c.deadline.text if c.deadline else ""


def _flagged(c: Clause) -> str:
    """Staff see at a glance which clauses never serve as evidence: their text speaks to an assistant."""
    return f"{render.INSTRUCTION_MARK} · " if c.addresses_assistant else ""


def _amounts(c: Clause) -> str:
    return "；".join(a.text for a in c.amounts)


def copy_text(c: Clause, d: PolicyDocument) -> str:
    """A ready answer for the window: the clause verbatim, then where it comes from."""
    # a task row's other cells (units, deadline) are restated below from the extracted fields
    body = c.text.split("\t")[0] if c.kind == "task_row" else c.text.replace("\t", "；")
    extra = []
    if c.lead_units:
        extra.append("牵头单位：" + _units(c.lead_units))
    if c.responsible_units:
        extra.append("责任/配合单位：" + _units(c.responsible_units))
    if c.deadline:
        extra.append("完成时限：" + c.deadline.text)
    lines = [body]
    if extra and c.kind == "task_row":
        lines.append("（" + "；".join(extra) + "）")
    number = f"（{d.doc_number}）" if d.doc_number else ""
    lines.append(f"——出处：《{d.title}》{number} {c.label}")
    return "\n".join(lines)


def _choice(value: str | None, choices: list[str] | list[tuple[str, str]]) -> str:
    """The value if it is still one of the choices, else 全部 (a removed document, a vanished region)."""
    keys = [c[1] if isinstance(c, tuple) else c for c in choices]
    return value if value in keys else ALL


class StaffHandlers:
    def __init__(self, state: AppState) -> None:
        self.state = state

    # ---- choices -----------------------------------------------------------------------------
    def region_choices(self) -> list[str]:
        return [ALL, *self.state.regions()]

    def doc_choices(self) -> list[tuple[str, str]]:
        return [(ALL, ALL)] + [(f"{d.title}（{d.region or '—'}）", d.doc_id) for d in self.state.documents()]

    def year_choices(self) -> list[str]:
        return [ALL, *(str(y) for y in self.state.deadline_years())]

    def refresh_choices(self, region: str = ALL, doc: str = ALL, year: str = ALL, task_region: str = ALL
                        ) -> tuple[Any, ...]:
        """Dropdown choices after the catalog changed; a selection that still exists is kept."""
        regions, docs, years = self.region_choices(), self.doc_choices(), self.year_choices()
        return (
            gr.update(choices=regions, value=_choice(region, regions)),
            gr.update(choices=docs, value=_choice(doc, docs)),
            gr.update(choices=years, value=_choice(year, years)),
            gr.update(choices=regions, value=_choice(task_region, regions)),
            gr.update(choices=docs[1:], value=None),
            self.catalog_table(),
        )

    # ---- search ------------------------------------------------------------------------------
    def _filters(self, region: str, doc_id: str, kind: str, lead_unit: str, year: str | int | None) -> Filters:
        return Filters(
            regions=self.state.resolve_regions(region) if region and region != ALL else None,  # short names too
            doc_ids=[doc_id] if doc_id and doc_id != ALL else None,
            kinds=[kind] if kind and kind != ALL else None,
            lead_unit=(lead_unit or "").strip() or None,
            deadline_year=int(year) if year and str(year).isdigit() else None,
        )

    def _terms(self, query: str) -> list[str]:
        """The search words as the index splits them: these are marked in the listed clause text."""
        q = (query or "").strip()[: self.state.settings.max_question_chars]
        if not q:
            return []
        with self.state.reading() as idx:
            tokens = idx.tokenize(q)
        return [t for t in tokens if len(t.strip()) >= 2 or (t.strip() and not t.isascii())]

    def search(self, query: str, region: str, doc_id: str, kind: str, lead_unit: str, year: str | None,
               view: StaffView | None = None) -> tuple[list[list[str]], StaffView, str]:
        filters = self._filters(region, doc_id, kind, lead_unit, year)
        terms = self._terms(query)
        if terms:
            hits, total = self.state.lookup(query, terms, filters=filters, k=SEARCH_ROWS)
        else:  # no search word: every clause the filters let through, in reading order
            hits = self.state.search("", filters=filters, k=SEARCH_ROWS)
            total = len(hits)
        rows = [
            [str(i), _flagged(h.clause) + h.clause.label, _units(h.clause.lead_units),
             _units(h.clause.responsible_units),
             _deadline(h.clause), _amounts(h.clause), h.document.title if h.document else "",
             render.marked_html(h.clause.text, render.term_spans(h.clause.text, terms))]
            for i, h in enumerate(hits, start=1)
        ]
        if not (query or "").strip() and filters.is_empty():
            status = "请输入检索词，或选择筛选条件。"
        else:
            shown = f"，列出前 {len(rows)} 条" if total > len(rows) else ""
            status = (f"共 {total} 条结果（同时满足所选的全部条件）{shown}。点击一行查看条款全文。" if rows
                      else "没有找到同时满足这些条件的条款。")
        return rows, replace(view or StaffView(), results=[h.clause.clause_id for h in hits]), status

    def search_from_url(self, query: str | None, region: str | None, doc_id: str | None, kind: str | None,
                        lead_unit: str | None, year: str | None) -> tuple[Any, ...]:
        """The page was opened with filters in its URL (a shared search): fill them in and search.

        Without any, nothing is touched: a visitor may already be typing into the boxes."""
        if all(v is None for v in (query, region, doc_id, kind, lead_unit, year)):
            return (*(gr.skip() for _ in range(6)), gr.skip(), gr.skip(), gr.skip())
        region = _choice(region, self.region_choices())
        doc_id = _choice(doc_id, self.doc_choices())
        kind = kind if kind in KIND_LABELS else ALL
        year = _choice(year, self.year_choices())
        rows, view, status = self.search(query, region, doc_id, kind, lead_unit, year, StaffView())
        if not (query or "").strip() and self._filters(region, doc_id, kind, lead_unit, year).is_empty():
            status = ""
        return query or "", region, doc_id, kind, lead_unit or "", year, rows, view, status

    def select_result(self, view: StaffView, evt: gr.SelectData) -> tuple[str, str]:
        return self._select(view.results, evt)

    def select_task(self, view: StaffView, evt: gr.SelectData) -> tuple[str, str]:
        return self._select(view.tasks, evt)

    def _select(self, ids: list[str], evt: gr.SelectData) -> tuple[str, str]:
        row = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        if not ids or row is None or row >= len(ids):
            return "", ""
        return self.detail(ids[row])

    def detail(self, clause_id: str) -> tuple[str, str]:
        found = self.state.clause_with_doc(clause_id)
        if found is None:
            return render.notice_html("该条款已不在索引中（文件可能已更新或移除），请重新检索。"), ""
        c, d = found
        return render.clause_detail_html(c, d, overdue=self.state.is_overdue(c)), copy_text(c, d)

    def export_search(self, view: StaffView | None) -> str | None:
        ids = view.results if view else []
        if not ids:
            gr.Warning("没有可导出的结果，请先检索。")
            return None
        rows = []
        for i, cid in enumerate(ids, start=1):
            found = self.state.clause_with_doc(cid)
            if found is None:
                continue
            c, d = found
            rows.append([i, d.title, d.doc_number or "", c.label, KIND_LABELS.get(c.kind, c.kind), c.text,
                         _units(c.lead_units), _units(c.responsible_units), _deadline(c), _amounts(c), cid])
        return str(self.state.export_csv(EXPORT_HEADERS, rows, stem="search"))

    # ---- 任务清单 ------------------------------------------------------------------------------
    def tasks(self, region: str, overdue_only: bool, view: StaffView | None = None
              ) -> tuple[list[list[str]], StaffView, str]:
        items = self.state.tasks(region=None if region in ("", ALL) else region, overdue_only=overdue_only)
        rows = [
            [d.title, d.region or "", c.label, c.text.split("\t")[0], _units(c.lead_units),
             _units(c.responsible_units), _deadline(c), OVERDUE if late else ""]
            for c, d, late in items
        ]
        n_late = sum(1 for *_, late in items if late)
        today = self.state.settings.today_date()
        status = f"共 {len(rows)} 项任务，其中已逾期 {n_late} 项（按 {today} 计）。"
        return rows, replace(view or StaffView(), tasks=[c.clause_id for c, _, _ in items]), status

    def task_view(self, region: str, overdue_only: bool, view: StaffView | None = None
                  ) -> tuple[list[list[str]], StaffView, str, str]:
        """The task table and its timeline picture, for the same region and overdue choice."""
        rows, view, status = self.tasks(region, overdue_only, view)
        items = self.state.tasks(region=None if region in ("", ALL) else region, overdue_only=overdue_only)
        return rows, view, status, timeline_svg(items, today=self.state.settings.today_date())

    def export_tasks(self, region: str, overdue_only: bool) -> str:
        items = self.state.tasks(region=None if region in ("", ALL) else region, overdue_only=overdue_only)
        rows = [[d.title, d.region or "", c.label, c.text.split("\t")[0], _units(c.lead_units),
                 _units(c.responsible_units), _deadline(c), OVERDUE if late else "", c.clause_id]
                for c, d, late in items]
        return str(self.state.export_csv([*TASK_HEADERS, "条款ID"], rows, stem="tasks"))

    # ---- 用户反馈 ------------------------------------------------------------------------------
    def _cited(self, ids: list[str]) -> str:
        out = []
        for cid in ids:
            found = self.state.clause_with_doc(cid)
            out.append(f"《{found[1].title}》{found[0].label}" if found else f"（已移除的条款 {cid}）")
        return "；".join(out)

    def feedback_table(self) -> tuple[list[list[str]], str]:
        rows = self.state.feedback.rows(limit=FEEDBACK_LIMIT)
        table = [[r["time"].replace("T", " ")[:19], RATINGS.get(r["rating"], r["rating"]), r["question"], r["answer"],
                  r["comment"], self._cited(r["clause_ids"])] for r in rows]
        n_down = sum(1 for r in rows if r["rating"] == "down")
        return table, f"共 {len(rows)} 条反馈，其中 👎 {n_down} 条（最新的在前）。"

    def export_feedback(self) -> str:
        rows = [[r["id"], r["time"], RATINGS.get(r["rating"], r["rating"]), r["question"], "\n".join(r["history"]),
                 r["answer"], r["comment"], self._cited(r["clause_ids"]), " ".join(r["clause_ids"]), r["mode"],
                 "是" if r["refused"] else "否"] for r in self.state.feedback.rows(limit=FEEDBACK_LIMIT)]
        return str(self.state.export_csv(FEEDBACK_EXPORT_HEADERS, rows, stem="feedback"))

    # ---- 文件管理 ------------------------------------------------------------------------------
    def catalog_table(self) -> list[list[Any]]:
        return [
            [d["title"], d["doc_number"] or "", d["region"] or "", d["period"] or "",
             STATUS_LABELS.get(d["status"], d["status"]), d["clause_count"], d["issuer"] or "", d["issued_on"] or ""]
            for d in self.state.catalog()
        ]

    def upload(self, file_path: str | None, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        # (gradio finds the progress tracker by this default value)
        if not file_path:
            return "请先选择要上传的文件。"
        stage_cn = {"parse": "解析文件", "embed": "计算向量"}
        progress(0, desc="保存文件")

        def report(stage: str, done: int, total: int) -> None:
            progress((done, max(total, 1)), desc=stage_cn.get(stage, stage))

        try:
            result: UploadResult = self.state.add_upload(Path(file_path), Path(file_path).name, progress=report)
        except UploadError as e:
            return f"⚠ {e}"
        return result.message if result.ok else f"⚠ {result.message}"

    def remove(self, doc_id: str | None, confirm: bool) -> str:
        if not doc_id:
            return "请先选择要移除的文件。"
        if not confirm:
            return "请勾选“确认移除”后再点击。"
        try:
            return self.state.remove_document(doc_id)
        except UploadError as e:
            return f"⚠ {e}"

    def refresh_all(self, query: str, region: str, doc_id: str, kind: str, lead_unit: str, year: str | None,
                    task_region: str, overdue_only: bool, view: StaffView | None) -> tuple[Any, ...]:
        """After an upload or a removal: choices, search results, task list and catalog, all current."""
        choices = self.refresh_choices(region, doc_id, year, task_region)
        region, doc_id, year, task_region = (choices[0]["value"], choices[1]["value"], choices[2]["value"],
                                             choices[3]["value"])
        has_search = bool((query or "").strip()) or not self._filters(region, doc_id, kind, lead_unit, year).is_empty()
        if has_search:
            rows, view, status = self.search(query, region, doc_id, kind, lead_unit, year, view)
        else:
            rows, status = [], ""
        t_rows, view, t_status, picture = self.task_view(task_region, overdue_only, view)
        return (*choices, rows, status, t_rows, t_status, picture, view)


def build_staff_blocks(state: AppState) -> gr.Blocks:
    h = StaffHandlers(state)
    kinds = [(ALL, ALL)] + [(v, k) for k, v in KIND_LABELS.items()]
    # delete_cache: uploads and CSV copies in gradio's cache are dropped after an hour
    with gr.Blocks(title="政策问答 · 工作人员", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown("## 政策问答 · 工作人员")
        view = gr.State(StaffView())
        with gr.Tab("窗口查询"):
            with gr.Row():
                query = gr.Textbox(label="检索词", placeholder="输入要查的事项、单位或关键词", scale=3,
                                   elem_id="staff-query")
                search_btn = gr.Button("检索", variant="primary", scale=1, elem_id="staff-search")
            with gr.Row():
                # custom values: the choices change with uploads after the page (or an API client) loaded them
                region = gr.Dropdown(h.region_choices(), value=ALL, label="地区", allow_custom_value=True,
                                     elem_id="filter-region")
                doc = gr.Dropdown(h.doc_choices(), value=ALL, label="文件", allow_custom_value=True,
                                  elem_id="filter-doc")
                kind = gr.Dropdown(kinds, value=ALL, label="条款类型", elem_id="filter-kind")
                lead = gr.Textbox(label="牵头单位包含", elem_id="filter-lead")
                year = gr.Dropdown(h.year_choices(), value=ALL, label="完成时限年份", allow_custom_value=True,
                                   elem_id="filter-year")
            search_status = gr.Markdown(elem_id="search-status")
            results = gr.Dataframe(headers=SEARCH_HEADERS, datatype=["str"] * 7 + ["html"], interactive=False,
                                   wrap=True, label="检索结果", max_height=520, elem_id="search-results",
                                   column_widths=["5%", "16%", "10%", "10%", "8%", "8%", "13%", "30%"])
            with gr.Row():
                with gr.Column(scale=3):
                    detail = gr.HTML(label="条款详情", elem_id="clause-detail")
                with gr.Column(scale=2):
                    copy_box = gr.Textbox(label="可复制的答复（含出处）", lines=8, buttons=["copy"],
                                          interactive=False, elem_id="copy-answer")
            with gr.Row():
                export_btn = gr.Button("导出当前结果为 CSV", size="sm")
                export_file = gr.File(label="CSV 下载", interactive=False, height=80)
        with gr.Tab("任务清单", elem_id="tab-tasks"):
            with gr.Row():
                task_region = gr.Dropdown(h.region_choices(), value=ALL, label="地区", allow_custom_value=True,
                                          elem_id="task-region")
                overdue_only = gr.Checkbox(label="只看已逾期", value=False, elem_id="overdue-only")
                task_export = gr.Button("导出任务清单 CSV", size="sm")
            task_status = gr.Markdown(elem_id="task-status")
            timeline = gr.HTML(elem_id="task-timeline", label="完成时限时间线")
            task_table = gr.Dataframe(headers=TASK_HEADERS, datatype="str", interactive=False, wrap=True,
                                      max_height=480, elem_id="task-list", label="任务清单",
                                      column_widths=["14%", "7%", "14%", "27%", "10%", "12%", "9%", "7%"])
            with gr.Row():
                with gr.Column(scale=3):
                    task_detail = gr.HTML(label="任务详情", elem_id="task-detail")
                with gr.Column(scale=2):
                    task_copy = gr.Textbox(label="可复制的答复（含出处）", lines=6, buttons=["copy"],
                                           interactive=False, elem_id="task-copy")
            task_file = gr.File(label="任务清单 CSV", interactive=False, height=80)
        with gr.Tab("用户反馈", elem_id="tab-feedback"):
            with gr.Row():
                fb_refresh = gr.Button("刷新", size="sm")
                fb_export = gr.Button("导出反馈 CSV", size="sm")
            fb_status = gr.Markdown()
            fb_table = gr.Dataframe(headers=FEEDBACK_HEADERS, datatype="str", interactive=False, wrap=True,
                                    max_height=520, elem_id="feedback-list", label="用户反馈",
                                    column_widths=["12%", "9%", "20%", "28%", "14%", "17%"])
            fb_file = gr.File(label="反馈 CSV", interactive=False, height=80)
        with gr.Tab("文件管理"):
            catalog = gr.Dataframe(headers=CATALOG_HEADERS, interactive=False, wrap=True, label="已入库文件",
                                   value=h.catalog_table, elem_id="catalog",
                                   column_widths=["30%", "14%", "8%", "10%", "8%", "6%", "14%", "10%"])
            with gr.Row():
                with gr.Column():
                    cap = f"{state.settings.max_upload_mb:g} MB"
                    upload_file = gr.File(label=f"上传政策文件（{' '.join(UPLOAD_SUFFIXES)}，≤{cap}）",
                                          file_types=list(UPLOAD_SUFFIXES), type="filepath", elem_id="upload-file")
                    upload_btn = gr.Button("上传并入库", variant="primary", elem_id="upload-btn")
                    upload_status = gr.Markdown(elem_id="upload-status")
                with gr.Column():
                    remove_doc = gr.Dropdown(h.doc_choices()[1:], value=None, label="要移除的文件",
                                             allow_custom_value=True, elem_id="remove-doc")
                    confirm = gr.Checkbox(label="确认移除（上传目录中的源文件将一并删除）", elem_id="remove-confirm")
                    remove_btn = gr.Button("移除文件", variant="stop", elem_id="remove-btn")
                    remove_status = gr.Markdown(elem_id="remove-status")

        filters = [query, region, doc, kind, lead, year]
        # every search also writes its filters into the page URL (js runs in the browser first)
        search_io: dict[str, Any] = {"fn": h.search, "inputs": [*filters, view],
                                     "outputs": [results, view, search_status], "js": URL_WRITE_JS}
        search_btn.click(**search_io, api_name="search")
        query.submit(**search_io, api_visibility="private")
        lead.submit(**search_io, api_visibility="private")
        # a filter chosen applies at once, together with every other filter set
        for f in (region, doc, kind, year):
            f.input(**search_io, api_visibility="private")
        results.select(h.select_result, [view], [detail, copy_box], api_visibility="private")
        gr.api(h.detail, api_name="clause_detail")  # the select event needs a click; clients ask by id
        export_btn.click(h.export_search, [view], export_file, api_name="export_csv")

        task_io: dict[str, Any] = {"fn": h.task_view, "inputs": [task_region, overdue_only, view],
                                   "outputs": [task_table, view, task_status, timeline]}
        api_tasks = gr.Button(visible=False)
        api_tasks.click(h.tasks, [task_region, overdue_only, view], [task_table, view, task_status],
                        api_name="tasks")
        task_region.input(**task_io, api_visibility="private")
        overdue_only.input(**task_io, api_visibility="private")
        task_export.click(h.export_tasks, [task_region, overdue_only], task_file, api_name="export_tasks")
        task_table.select(h.select_task, [view], [task_detail, task_copy], api_visibility="private").then(
            None, None, None, js=SCROLL_TO_TASK_DETAIL_JS, api_visibility="private")

        fb_refresh.click(h.feedback_table, None, [fb_table, fb_status], api_name="feedback")
        fb_export.click(h.export_feedback, None, fb_file, api_name="export_feedback")

        choice_outputs = [region, doc, year, task_region, remove_doc, catalog]
        refresh_io: dict[str, Any] = {
            "fn": h.refresh_all, "inputs": [*filters, task_region, overdue_only, view],
            "outputs": [*choice_outputs, results, search_status, task_table, task_status, timeline, view],
            "api_visibility": "private",
        }
        # one ingest at a time: the index has a single writer
        upload_btn.click(h.upload, [upload_file], [upload_status], api_name="upload", concurrency_limit=1,
                         concurrency_id="ingest").then(**refresh_io)
        remove_btn.click(h.remove, [remove_doc, confirm], [remove_status], api_name="remove_document",
                         concurrency_limit=1, concurrency_id="ingest").then(**refresh_io)
        demo.load(h.refresh_choices, None, choice_outputs, api_visibility="private")
        # one after the other: the search and the task list both record their rows in `view`
        demo.load(h.search_from_url, filters, [*filters, results, view, search_status], js=URL_READ_JS,
                  api_visibility="private").then(**task_io, api_visibility="private").then(
            h.feedback_table, None, [fb_table, fb_status], api_visibility="private")
    demo.queue(max_size=state.settings.queue_max_size,
               default_concurrency_limit=state.settings.concurrency_limit)
    return demo
