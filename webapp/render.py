"""HTML for chat answers: the answer text, ⚠ warnings, an AI生成 label and citation cards.

Everything that came from a document or a user is escaped here: policy files are uploaded by staff
and questions are typed by anyone, and both end up inside the page.
The output has no newlines, so the chatbot's Markdown renderer keeps it as one HTML block.
"""

from __future__ import annotations

import re
from html import escape

from core.records import KIND_LABELS, STATUS_LABELS, Answer, Citation, Clause, PolicyDocument

_FOOTNOTE = re.compile(r"^\s*\[\d+\]\s*《")  # the bot's own "[1] 《title》 path" lines; the cards replace them


def text_html(text: str) -> str:
    """Plain text → escaped HTML with line breaks kept (tabs separate table cells in clause text)."""
    return "<br>".join(escape(line).replace("\t", " ｜ ") for line in text.strip("\n").split("\n"))


def answer_body(answer_text: str) -> str:
    lines = [ln for ln in answer_text.split("\n") if not _FOOTNOTE.match(ln)]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def question_html(question: str) -> str:
    return f'<div class="pb-question">{text_html(question)}</div>'


def streaming_html(partial: str) -> str:
    return f'<div class="pb-answer pb-streaming">{text_html(answer_body(partial))}▍</div>'


def notice_html(message: str) -> str:
    return f'<div class="pb-answer pb-notice">⚠ {escape(message)}</div>'


def _meta(doc: PolicyDocument) -> list[tuple[str, str]]:
    return [
        ("文号", doc.doc_number or "—"),
        ("发文机关", doc.issuer or "—"),
        ("印发日期", doc.issued_on or "—"),
        ("地区", doc.region or "—"),
        ("期限", doc.period or "—"),
        ("状态", STATUS_LABELS.get(doc.status, doc.status)),
    ]


def _meta_rows(doc: PolicyDocument | None) -> str:
    if doc is None:
        return ""
    return "".join(f"<tr><th>{k}</th><td>{escape(v)}</td></tr>" for k, v in _meta(doc))


def _meta_line(doc: PolicyDocument | None, source_file: str) -> str:
    """One compact line of the document's data (a table is too tall inside a chat bubble)."""
    items = _meta(doc) if doc is not None else []
    items.append(("来源文件", source_file))
    return " · ".join(f"<span>{k}：{escape(v)}</span>" for k, v in items)


def citation_card(n: int, cite: Citation, clause: Clause | None, doc: PolicyDocument | None) -> str:
    status = ""
    if doc is not None and doc.status != "effective":
        status = f' <span class="cc-status cc-{doc.status}">{escape(STATUS_LABELS.get(doc.status, doc.status))}</span>'
    full = text_html(clause.text) if clause else escape(cite.quote)
    fields = clause.field_summary() if clause is not None else []
    field_html = f'<div class="cc-fields">{escape("；".join(fields))}</div>' if fields else ""
    return (
        '<div class="citation-card">'
        f'<div class="cc-title">[{n}] 《{escape(cite.doc_title)}》{status}</div>'
        f'<div class="cc-path">{escape(cite.clause)}</div>'
        f'<blockquote class="cc-quote">{escape(cite.quote)}</blockquote>'
        "<details><summary>条款全文与文件信息</summary>"
        f'<div class="cc-full">{full}</div>{field_html}'
        f'<div class="cc-docmeta">{_meta_line(doc, cite.source_file)}</div>'
        "</details></div>"
    )


def answer_html(ans: Answer, sources: list[tuple[Clause | None, PolicyDocument | None]]) -> str:
    """The final bot message; `sources` gives each citation's clause and document (same order)."""
    parts = []
    if ans.mode == "llm":
        parts.append('<span class="pb-ai-label" title="由生成式模型根据所引条款撰写，请以原文为准">AI生成</span>')
    parts.append(f'<div class="pb-answer">{text_html(answer_body(ans.answer))}</div>')
    parts.extend(f'<div class="pb-warning">⚠ {escape(w)}</div>' for w in ans.warnings)
    if ans.citations:
        cards = "".join(
            citation_card(i, c, *sources[i - 1]) for i, c in enumerate(ans.citations, start=1)
        )
        parts.append(f'<div class="pb-citations">{cards}</div>')
    return "".join(parts)


def clause_detail_html(clause: Clause, doc: PolicyDocument, *, overdue: bool) -> str:
    """The staff view of one clause: the full text, its extracted fields and the document's data."""
    fields = [("条款位置", clause.label), ("类型", KIND_LABELS.get(clause.kind, clause.kind))]
    if clause.lead_units:
        fields.append(("牵头单位", "、".join(clause.lead_units)))
    if clause.responsible_units:
        fields.append(("责任/配合单位", "、".join(clause.responsible_units)))
    if clause.deadline:
        fields.append(("完成时限", clause.deadline.text + ("（已逾期）" if overdue else "")))
    if clause.amounts:
        fields.append(("金额", "；".join(a.text for a in clause.amounts)))
    rows = "".join(f"<tr><th>{k}</th><td>{escape(v)}</td></tr>" for k, v in fields)
    return (
        f'<div class="pb-detail"><div class="cc-title">《{escape(doc.title)}》</div>'
        f'<div class="cc-full">{text_html(clause.text)}</div>'
        f'<table class="cc-meta">{rows}{_meta_rows(doc)}</table></div>'
    )


CSS = """
.pb-ai-label { display:inline-block; background:#7c3aed; color:#fff; border-radius:4px; padding:0 6px;
  font-size:12px; margin-bottom:4px; }
.pb-warning { color:#92400e; background:#fef3c7; border-radius:4px; padding:4px 8px; margin-top:6px; }
.pb-notice { color:#92400e; }
.pb-citations { margin-top:8px; }
.citation-card { border:1px solid #d1d5db; border-left:4px solid #2563eb; border-radius:6px;
  padding:6px 10px; margin:6px 0; background:#f8fafc; color:#111827; font-size:14px; }
.citation-card .cc-title, .pb-detail .cc-title { font-weight:600; }
.citation-card .cc-path { color:#4b5563; font-size:13px; }
.citation-card .cc-quote { margin:4px 0; padding-left:8px; border-left:2px solid #93c5fd; color:#1f2937; }
.citation-card .cc-status { color:#b45309; font-weight:400; font-size:12px; border:1px solid #f59e0b;
  border-radius:3px; padding:0 3px; }
.citation-card summary { cursor:pointer; color:#2563eb; font-size:13px; }
.cc-full { white-space:normal; margin:4px 0; }
.cc-fields { color:#374151; font-size:13px; }
.cc-docmeta { color:#4b5563; font-size:12px; margin-top:4px; line-height:1.6; }
.cc-meta th { text-align:left; padding-right:10px; color:#4b5563; font-weight:400; white-space:nowrap; }
.cc-meta { font-size:13px; margin-top:4px; }
"""
