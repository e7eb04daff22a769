"""Compose: evidence → answer text with [n] markers and citations. Every line is a field the parser
extracted from the cited clause or verbatim clause text; nothing is generated."""

from __future__ import annotations

from dataclasses import dataclass

from bot import quotes
from bot.evidence import Evidence
from bot.understand import Part, Understanding
from core.records import STATUS_LABELS, STATUS_PHRASES, Citation, Clause, PolicyDocument
from core.regions import Region
from core.text import norm

REFUSAL = "抱歉，现有政策文件中没有找到能回答这个问题的依据。"
NO_BASIS_FOR_PART = "现有政策文件中没有找到这一问的依据。"


@dataclass
class Section:
    """One block of an answer: a part of the question (or a region, or a list item) and its evidence."""

    part: Part
    evidence: Evidence | None
    heading: str = ""


def citation_for(ev: Evidence, clause: Clause | None = None, quote: str | None = None) -> Citation:
    """The citation of the evidence's clause, or of a clause of its family (same document)."""
    clause = clause or ev.clause
    return Citation(doc_id=ev.doc.doc_id, doc_title=ev.doc.title, clause=clause.label,
                    quote=ev.quote if quote is None else quote, source_file=ev.doc.source_file,
                    clause_id=clause.clause_id)


def compose(sections: list[Section], u: Understanding) -> tuple[str, list[Citation]]:
    lines: list[str] = []
    cites: list[Citation] = []
    numbered = len(sections) > 1
    for i, sec in enumerate(sections, start=1):
        prefix = sec.heading or (f"{i}. " if numbered else "")
        ev = sec.evidence
        if ev is None:
            lines.append(f"{prefix}{NO_BASIS_FOR_PART}")
            continue
        quoted = []
        for clause, quote in ev.pieces():
            known = next((k for k, c in enumerate(cites, start=1) if c.clause_id == clause.clause_id
                          and c.quote == quote), None)
            if known is None:
                cites.append(citation_for(ev, clause, quote))
                known = len(cites)
            quoted.append(f"“{quote}”[{known}]")
        head = quotes.fields_line(ev.clause, u, sec.part, ev.quote)
        if head:
            lines.append(f"{prefix}{head}")
            lines.append(f"    原文：{quoted[0]}")
        else:
            lines.append(f"{prefix}{quoted[0]}")
        lines += [f"    {q}" for q in quoted[1:]]
    lines.append("")
    lines += [f"[{n}] 《{c.doc_title}》 {c.clause}" for n, c in enumerate(cites, start=1)]
    return "\n".join(lines), cites


def region_label(doc: PolicyDocument) -> str:
    return doc.region or doc.title[:8]


def metadata_answer(doc: PolicyDocument, notice: Clause | None, signature: Clause | None,
                    page_block: Clause | None = None) -> tuple[str, list[Citation]]:
    """文号 / issuer / date questions are answered from the catalog, citing the lines that state them: the
    notice's header, the signature, and a web page's own metadata block."""
    facts = [f"文件：《{doc.title}》"]
    facts.append(f"文号：{doc.doc_number}" if doc.doc_number else "文号：文件中未载明")
    facts.append(f"发文单位：{doc.issuer}" if doc.issuer else "发文单位：文件中未载明")
    date = quotes.cn_date(doc.issued_on)
    sources = [c for c in (signature, notice, page_block) if c is not None]
    if date and any(norm(date) in norm(c.text) or (doc.issued_on or "") in c.text for c in sources):
        facts.append(f"印发日期：{date}")
    if doc.period:
        facts.append(f"期限：{doc.period}年")
    facts.append(f"状态：{STATUS_PHRASES[doc.status]}")
    cites = []
    for cl in (notice, signature, page_block):
        if cl is None:
            continue
        quote = next((s for s in cl.text.split("\n") if s.strip()), cl.text).strip()
        if cl is not notice:
            quote = cl.text.strip()
        elif doc.doc_number:
            quote = next((s for s in cl.text.split("\n") if norm(doc.doc_number) in norm(s)), quote).strip()
        cites.append(Citation(doc.doc_id, doc.title, cl.label, quote, doc.source_file, cl.clause_id))
    text = "；".join(facts) + "。"
    if cites:
        text += "".join(f"[{i}]" for i in range(1, len(cites) + 1))
        text += "\n" + "\n".join(f"    原文：“{c.quote}”[{i}]" for i, c in enumerate(cites, start=1))
        text += "\n\n" + "\n".join(f"[{i}] 《{c.doc_title}》 {c.clause}" for i, c in enumerate(cites, start=1))
    return text, cites


def catalog_answer(docs: list[PolicyDocument]) -> str:
    rows = []
    for n, d in enumerate(sorted(docs, key=lambda d: (d.region or "", d.title)), start=1):
        rows.append(f"{n}. 《{d.title}》（{d.region or '—'}，{d.doc_number or '无文号'}，{STATUS_LABELS[d.status]}）")
    return "现有政策文件：\n" + "\n".join(rows)


def refusal_text(*, regions: list[str], n_docs: int, uncovered: list[Region], nearest: list[tuple[str, str]]) -> str:
    """The fixed sentence, then what the collection covers and where to look instead."""
    lines = [REFUSAL]
    if uncovered:
        lines.append(f"现有文件不涉及{'、'.join(r.display for r in uncovered)}。")
    if regions:
        lines.append(f"目前收录 {n_docs} 份文件，适用地区：{'、'.join(regions)}。")
    if nearest:
        lines.append("与问题最接近的条款：" + "；".join(f"《{t}》{p}" for t, p in nearest[:3]))
    lines.append("可以换个说法，写明具体事项（如奖励名称、任务名称）和所在地区后再问。")
    return "\n".join(lines)
