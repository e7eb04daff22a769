"""The default answerer: every line is built from extracted fields or quoted verbatim from a clause."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.analysis import Analysis
from bot.grounding import best_sentences, sentences
from core.records import STATUS_PHRASES, TABLE_HEADER_PREFIX, Citation, Clause, PolicyDocument
from core.text import norm

REFUSAL = "抱歉，现有政策文件中没有找到能回答这个问题的依据。"

_PREFER = {
    "amount": re.compile(r"万元|亿元|元|奖励|补贴|补助"),
    "deadline": re.compile(r"\d{4}\s*年|底前|之前|完成时限"),
    "target": re.compile(r"\d+(?:\.\d+)?\s*(?:%|万|亿|个|家|人|户|件|所|座|台|千米|公里|平方|亩|次|项|场|名)"),
    "eligibility": re.compile(r"对|符合|条件|达到|以上|且|满足|的，"),
    "procedure": re.compile(r"提交|申请|受理|流程|审批|办理|通过|首先|经"),
    "contact": re.compile(r"牵头|责任|配合|负责|会同|设在"),
}


@dataclass
class Evidence:
    clause: Clause
    doc: PolicyDocument
    quote: str  # verbatim substring of clause.text
    coverage: float


def cn_date(iso: str | None) -> str | None:
    if not iso:
        return None
    d = dt.date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def choose_quote(c: Clause, a: Analysis, terms: list[str], weights: dict[str, float]) -> str:
    if c.kind == "task_row" and "\t" in c.text:
        return c.text.split("\t")[0]  # the task cell; units and deadline are in the fields line
    if "\t" in c.text:
        return c.text  # an indicator row: its cells only make sense together
    prefer = next((_PREFER[f] for f in a.facets if f in _PREFER), None)
    if prefer is None and re.search(r"多少|几|比例|比重|百分", a.question):
        prefer = _PREFER["target"]
    unit = asked_unit(a.effective_question)
    if unit and "target" in a.facets:
        prefer = re.compile(rf"\d+(?:\.\d+)?\s*{unit}")
    limit = 3 if a.intent in ("eligibility", "procedure") else 2
    label = c.path[-1] if c.path else ""
    picked = best_sentences(c.text, terms, weights, prefer=prefer, limit=limit, skip=label)
    in_order = sorted(picked, key=c.text.find)
    # several sentences are quoted together only when they stand together in the clause
    quote = "".join(in_order) if "".join(in_order) in c.text else picked[0]
    return quote.strip()


def states_quantity(text: str) -> bool:
    return bool(_PREFER["target"].search(text))


def asked_unit(question: str) -> str | None:
    """'多少家' → 家: the unit the asker expects, used to pick the sentence that states it."""
    m = re.search(r"(?:多少|几)(万元|亿元|万人|平方米|家|个|人|户|件|所|部|名|场|次|项|座|台|亩)", question)
    if m:
        return m.group(1)
    # "新增多少软信从业人员": the counted noun implies the unit
    m = re.search(r"(?:多少|几)[^，。？?]{0,8}?(人员|人才|人|企业|机构|团队|平台|基站|园区|学校|景区)", question)
    if m:
        return {"人员": "人", "人才": "人", "人": "人", "企业": "家", "机构": "家", "团队": "家"}.get(m.group(1), "个")
    return None


def unit_line(c: Clause) -> str:
    parts = []
    if c.lead_units:
        parts.append("牵头单位：" + "、".join(c.lead_units))
    if c.responsible_units:
        label = "配合单位" if c.kind == "task_row" or "配合单位" in c.text else (
            "责任部门" if "责任部门" in c.text and "责任单位" not in c.text else "责任单位")
        parts.append(f"{label}：" + "、".join(c.responsible_units))
    return "；".join(parts)


def fields_line(c: Clause, a: Analysis, quote: str) -> str:
    """The direct answer line, from fields the parser extracted from this clause."""
    parts: list[str] = []
    wants_units = "contact" in a.facets or c.kind == "task_row"
    if wants_units and (c.lead_units or c.responsible_units):
        parts.append(unit_line(c))
    if c.deadline and ("deadline" in a.facets or c.kind == "task_row"):
        parts.append(f"完成时限：{c.deadline.text}")
    if "amount" in a.facets:
        amounts = key_phrases(amount_phrases(quote), a, quote)
        if amounts:
            parts.append("金额：" + "；".join(amounts))
    if "target" in a.facets and "\t" not in c.text:
        parts += key_phrases(_target_phrases(quote), a, quote)
    header = c.path[-1][len(TABLE_HEADER_PREFIX):].split("｜") if c.path and c.path[-1].startswith(
        TABLE_HEADER_PREFIX) else []
    if header and "\t" in c.text:
        cells = c.text.split("\t")
        parts.append("；".join(f"{h}：{v}" for h, v in zip(header, cells, strict=False) if v.strip()))
    return "；".join(p for p in parts if p)


def amount_phrases(quote: str) -> list[str]:
    """Comma-delimited pieces of the quote that carry a sum of money, verbatim."""
    out = []
    for piece in re.split(r"[，,；;。]", quote):
        if re.search(r"\d\s*(万元|亿元|元)", piece) and re.search(r"奖励|补贴|补助|资助|给予|不超过|最高", piece):
            out.append(piece.strip())
    return out


def key_phrases(phrases: list[str], a: Analysis, quote: str = "", limit: int = 3) -> list[str]:
    """The phrases that speak to the question's own words ("2025年…覆盖率"), in their order.
    Words elsewhere in the phrase's sentence count half: "2027年，…营收3000万元"."""
    if not phrases or not a.terms:
        return phrases[:limit]
    sents = [norm(x).lower() for x in sentences(quote)] if quote else []
    asked_years = set(re.findall(r"20\d{2}", a.question))
    scored = []
    for i, p in enumerate(phrases):
        pn = norm(p).lower()
        sent = next((x for x in sents if pn in x), pn)
        score = sum(a.weights.get(t, 1.0) for t in a.terms if norm(t).lower() in pn)
        score += 0.5 * sum(a.weights.get(t, 1.0) for t in a.terms if norm(t).lower() in sent)
        sent_years = set(re.findall(r"20\d{2}", sent))
        if asked_years and sent_years and not asked_years & sent_years:
            score *= 0.3  # the question names 2026; this phrase is about 2027
        scored.append((score, -i, p))
    best = max(s for s, _, _ in scored)
    if best <= 0:
        return phrases[:limit]
    keep = sorted((x for x in scored if x[0] >= best * 0.8), reverse=True)[:limit]
    return [p for _, _, p in sorted(keep, key=lambda x: -x[1])]


def _target_phrases(quote: str) -> list[str]:
    return [p.strip() for p in re.split(r"[，,；;。：:]", quote) if _PREFER["target"].search(p)]


def citation_for(ev: Evidence) -> Citation:
    return Citation(
        doc_id=ev.doc.doc_id,
        doc_title=ev.doc.title,
        clause=ev.clause.label,
        quote=ev.quote,
        source_file=ev.doc.source_file,
        clause_id=ev.clause.clause_id,
    )


def region_label(doc: PolicyDocument) -> str:
    return doc.region or doc.title[:8]


def compose(evidence: list[Evidence], a: Analysis, *, multi_region: bool) -> tuple[str, list[Citation]]:
    """Answer text with [n] markers and a citation list."""
    lines: list[str] = []
    cites: list[Citation] = []
    for n, ev in enumerate(evidence, start=1):
        head = fields_line(ev.clause, a, ev.quote)
        prefix = f"【{region_label(ev.doc)}】" if multi_region else (f"{n}. " if len(evidence) > 1 else "")
        if head:
            lines.append(f"{prefix}{head}")
            lines.append(f"    原文：“{ev.quote}”[{n}]")
        else:
            lines.append(f"{prefix}“{ev.quote}”[{n}]")
        cites.append(citation_for(ev))
    lines.append("")
    for n, c in enumerate(cites, start=1):
        lines.append(f"[{n}] 《{c.doc_title}》 {c.clause}")
    return "\n".join(lines), cites


def metadata_answer(
    doc: PolicyDocument, notice: Clause | None, signature: Clause | None
) -> tuple[str, list[Citation]]:
    """文号 / issuer / date / validity questions are answered from the catalog, citing the header."""
    facts = [f"文件：《{doc.title}》"]
    facts.append(f"文号：{doc.doc_number}" if doc.doc_number else "文号：文件中未载明")
    facts.append(f"发文单位：{doc.issuer}" if doc.issuer else "发文单位：文件中未载明")
    date = cn_date(doc.issued_on)
    cite_clause = signature or notice
    if date and cite_clause and norm(date) in norm(cite_clause.text):
        facts.append(f"印发日期：{date}")
    if doc.period:
        facts.append(f"期限：{doc.period}年")
    facts.append(f"状态：{STATUS_PHRASES[doc.status]}")
    cites = []
    for cl in (notice, signature):
        if cl is not None:
            quote = next((s for s in cl.text.split("\n") if s.strip()), cl.text).strip()
            if cl is signature:
                quote = cl.text.strip()
            elif doc.doc_number:
                quote = next((s for s in cl.text.split("\n") if norm(doc.doc_number) in norm(s)), quote).strip()
            cites.append(Citation(doc.doc_id, doc.title, cl.label, quote, doc.source_file, cl.clause_id))
    text = "；".join(facts) + "。"
    if cites:
        text += "".join(f"[{i}]" for i in range(1, len(cites) + 1))
        text += "\n\n" + "\n".join(f"[{i}] 《{c.doc_title}》 {c.clause}" for i, c in enumerate(cites, start=1))
    return text, cites
