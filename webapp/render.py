"""HTML and plain text for chat answers and staff listings.

Everything that came from a document or a user is escaped here: policy files are uploaded by staff
and questions are typed by anyone, and both end up inside the page.
Chat HTML has no newlines, so the chatbot's Markdown renderer keeps each message as one HTML block;
the chatbot's sanitizer drops data-* and aria-* attributes, so the page script finds its way by
class names and ids (see assets/chat.js).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape

from core.injection import injection_reason
from core.records import GENERATED_LABEL, KIND_LABELS, Answer, Clause, PolicyDocument
from core.text import norm
from webapp.sources import Source

# Status badges as a reader of a policy help desk names them.
BADGES: dict[str, str] = {"effective": "现行", "expired": "已过期", "draft": "草案", "not_yet": "未施行"}

_FOOTNOTE = re.compile(r"^\s*\[\d+\]\s*《")  # the bot's own "[1] 《title》 path" lines; the source list replaces them
_QUOTE_LINE = re.compile(r"^\s*原文：“(?P<quote>.*)”(?P<refs>(?:\[\d+\])+)\s*$")
_VALUE = re.compile(r"^\s*(?:【[^】]*】|[^：]{1,12}：)?(?P<value>.*)$")  # "金额：…", "【区】…" → the value
_REF = re.compile(r"\[(\d+)\]")
_TRAILING_PUNCT = "。；，、.;, "
# A 原文 line repeats the line above it when the line above is this much of the quote or more.
SAME_SENTENCE_SHARE = 0.8


def text_html(text: str) -> str:
    """Plain text → escaped HTML with line breaks kept (tabs separate table cells in clause text)."""
    return "<br>".join(escape(line).replace("\t", " ｜ ") for line in text.strip("\n").split("\n"))


def answer_body(answer_text: str) -> str:
    lines = [ln for ln in answer_text.split("\n") if not _FOOTNOTE.match(ln)]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _repeats(line: str, quote: str) -> bool:
    m = _VALUE.match(line)
    value = norm(m.group("value") if m else line).rstrip(_TRAILING_PUNCT)
    q = norm(quote).rstrip(_TRAILING_PUNCT)
    return bool(value) and value in q and len(value) >= SAME_SENTENCE_SHARE * len(q)


def answer_lines(answer_text: str) -> list[str]:
    """The answer's lines as shown: the bot's footnotes dropped, and a 原文 line that only repeats the
    line above folded into it (its [n] markers move up), so no sentence is shown twice."""
    out: list[str] = []
    for line in answer_body(answer_text).split("\n"):
        m = _QUOTE_LINE.match(line)
        if m and out and _repeats(out[-1], m.group("quote")):
            out[-1] = out[-1].rstrip() + m.group("refs")
            continue
        out.append(line.strip() if m else line.rstrip())
    return out


def marked_html(text: str, spans: Iterable[tuple[int, int]], *, css: str = "") -> str:
    """Escaped text with the given character spans wrapped in <mark> (overlaps merged)."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    cls = f' class="{css}"' if css else ""
    parts, pos = [], 0
    for s, e in merged:
        parts += [text_html(text[pos:s]) if pos < s else "", f"<mark{cls}>{text_html(text[s:e])}</mark>"]
        pos = e
    parts.append(text_html(text[pos:]) if pos < len(text) else "")
    return "".join(parts)


def term_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Where each term occurs in the text (case-insensitive), for marking matched words."""
    low = text.lower()
    spans = []
    for t in {t.lower() for t in terms if t.strip()}:
        start = low.find(t)
        while start >= 0:
            spans.append((start, start + len(t)))
            start = low.find(t, start + len(t))
    return spans


# ---- chat -------------------------------------------------------------------------------------
def question_html(question: str) -> str:
    return f'<div class="pb-question">{text_html(question)}</div>'


def streaming_html(partial: str, *, checking: bool = False) -> str:
    """An answer while it arrives. With a generative model on, a visible 核对中 state: what shows has passed
    verification sentence by sentence, and the final answer (the model's or the extractive one) replaces it."""
    state = ('<div class="pb-checking" role="status">AI生成 · 逐句核对中…</div>' if checking else "")
    return f'<div class="pb-answer pb-streaming">{state}{text_html(answer_body(partial))}▍</div>'


def notice_html(message: str) -> str:
    return f'<div class="pb-answer pb-notice">⚠ {escape(message)}</div>'


def source_id(turn: int, n: int) -> str:
    return f"pb-src-{turn}-{n}"


def _ref_links(line_html: str, turn: int, count: int) -> str:
    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if not 1 <= n <= count:
            return m.group(0)
        return f'<a class="pb-ref" href="#{source_id(turn, n)}" title="查看来源 {n} 的条款原文">[{n}]</a>'

    return _REF.sub(link, line_html)


def badge_html(status: str) -> str:
    return f'<span class="pb-badge pb-badge-{escape(status)}">{escape(BADGES.get(status, status))}</span>'


def _context_html(c: Clause, *, cited: Source | None = None) -> str:
    if cited is not None:
        quote = cited.citation.quote
        at = c.text.find(quote) if quote else -1
        body = marked_html(c.text, [(at, at + len(quote))] if at >= 0 else [(0, len(c.text))], css="pb-cited-text")
        cls = "pb-ctx pb-ctx-cited"
    else:
        body, cls = text_html(c.text), "pb-ctx"
    return (f'<div class="{cls}"><div class="pb-ctx-path">{escape(c.label)}</div>'
            f'<div class="pb-ctx-text">{body}</div></div>')


def source_panel_html(src: Source, turn: int) -> str:
    """The hidden content of one source, shown in the page's source panel when its [n] is clicked."""
    doc = src.doc
    meta = [("发文机关", doc.issuer if doc else None), ("文号", doc.doc_number if doc else None),
            ("印发日期", doc.issued_on if doc else None), ("地区", doc.region if doc else None),
            ("期限", doc.period if doc else None), ("条款位置", src.path)]
    rows = "".join(f"<dt>{k}</dt><dd>{escape(v or '—')}</dd>" for k, v in meta)
    badge = " " + badge_html(doc.status) if doc else ""
    if src.clause is None:
        context = ('<div class="pb-ctx pb-ctx-cited"><div class="pb-ctx-text">'
                   f'<mark class="pb-cited-text">{escape(src.citation.quote)}</mark></div>'
                   '<div class="pb-ctx-path">该条款已不在现有文件中（文件可能已更新或移除）。</div></div>')
    else:
        context = "".join(
            [_context_html(c) for c in src.before] + [_context_html(src.clause, cited=src)]
            + [_context_html(c) for c in src.after]
        )
    return (
        f'<div class="pb-src" id="{source_id(turn, src.n)}" hidden>'
        f'<div class="pb-src-title">[{src.n}] 《{escape(src.title)}》{badge}</div>'
        f'<dl class="pb-src-meta">{rows}</dl><div class="pb-context">{context}</div></div>'
    )


def sources_list_html(sources: list[Source], turn: int) -> str:
    items = []
    for s in sources:
        badge = " " + badge_html(s.doc.status) if s.doc is not None and s.doc.status != "effective" else ""
        items.append(
            f'<li><a class="pb-ref pb-source-link" href="#{source_id(turn, s.n)}">[{s.n}] 《{escape(s.title)}》</a>'
            f'{badge}<div class="pb-path">{escape(s.path)}</div></li>'
        )
    return f'<div class="pb-sources"><div class="pb-sources-title">来源</div><ol>{"".join(items)}</ol></div>'


def plain_text(ans: Answer, sources: list[Source]) -> str:
    """What the copy button copies: the answer, its warnings, then a 来源 list with titles, paths, quotes."""
    lines = answer_lines(ans.answer)
    if ans.label:  # the label travels with a generated answer wherever it is pasted
        lines.insert(0, f"【{ans.label}】")
    lines += [f"⚠ {w}" for w in ans.warnings]
    if sources:
        lines.append("")
        lines.append("来源：")
        for s in sources:
            lines.append(f"[{s.n}] 《{s.title}》 {s.path}")
            if s.citation.quote:
                lines.append(f"    “{s.citation.quote}”")
    return "\n".join(lines)


def answer_html(ans: Answer, sources: list[Source], *, turn: int, coverage: str = "") -> str:
    """The final bot message: the answer with clickable [n], warnings, numbered sources, a copy
    button, and (hidden) each source's panel and the plain text to copy."""
    parts = [f'<div class="pb-reply pb-turn-{turn}">']
    if ans.mode == "llm":
        parts.append('<span class="pb-ai-label" title="由生成式模型根据所引条款撰写，已逐句核对，请以原文为准">'
                     f'{GENERATED_LABEL}</span>')
    body = "<br>".join(_ref_links(escape(ln).replace("\t", " ｜ "), turn, len(sources))
                       for ln in answer_lines(ans.answer))
    parts.append(f'<div class="pb-answer">{body}</div>')
    parts.extend(f'<div class="pb-warning">⚠ {escape(w)}</div>' for w in ans.warnings)
    if ans.refused and coverage:
        parts.append(f'<div class="pb-coverage">{escape(coverage)}</div>')
    if sources:
        parts.append(sources_list_html(sources, turn))
    parts.append('<div class="pb-tools"><button type="button" class="pb-copy">复制回答</button>'
                 '<span class="pb-copy-status"></span></div>')
    parts.extend(source_panel_html(s, turn) for s in sources)
    plain = escape(plain_text(ans, sources)).replace("\n", "&#10;")
    parts.append(f'<div class="pb-plain" hidden>{plain}</div></div>')
    return "".join(parts)


# ---- staff ------------------------------------------------------------------------------------
def _meta_rows(doc: PolicyDocument) -> str:
    meta = [("文号", doc.doc_number), ("发文机关", doc.issuer), ("印发日期", doc.issued_on), ("地区", doc.region),
            ("期限", doc.period)]
    rows = "".join(f"<tr><th>{k}</th><td>{escape(v or '—')}</td></tr>" for k, v in meta)
    return rows + f"<tr><th>状态</th><td>{badge_html(doc.status)}</td></tr>"


INSTRUCTION_MARK = "⚠ 疑似指令"


def instruction_warning_html(clause: Clause) -> str:
    """Staff see why a clause is never used in answers: its text speaks to an assistant."""
    if not clause.addresses_assistant:
        return ""
    why = injection_reason(clause.text) or "文字像是写给问答程序的指令"
    return (f'<div class="pb-notice pb-instruction" role="alert">{INSTRUCTION_MARK}：此条款{escape(why)}，'
            "不会用作回答依据，也不会交给模型。请核对原文件是否被改动。</div>")


def clause_detail_html(clause: Clause, doc: PolicyDocument, *, overdue: bool) -> str:
    """The staff view of one clause: the full text, its extracted fields and the document's data."""
    fields = [("条款位置", clause.label), ("类型", KIND_LABELS.get(clause.kind, clause.kind))]
    if clause.ocr:  # text read from a scan: where on the page it stands, to check against the original
        fields.append(("来源", clause.source_note() or ""))
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
        f'<div class="pb-detail"><div class="pb-src-title">《{escape(doc.title)}》</div>'
        f"{instruction_warning_html(clause)}"
        f'<div class="pb-ctx-text">{text_html(clause.text)}</div>'
        f'<table class="pb-meta">{rows}{_meta_rows(doc)}</table></div>'
    )
