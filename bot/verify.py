"""Verify: an answer may show only what its cited clauses state. The extractive answer is checked before
it is shown (quotes verbatim, every number in a cited clause); the LLM answer reuses the same checks."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot import facts as facts_mod
from core.records import Citation, Clause, PolicyDocument
from core.text import norm

_NUM_RE = re.compile(r"\d+(?:\.\d+)?")
_MARK = re.compile(r"\[\d+\]")
# Lines of the answer that only point at sources, and list numbering: they state no fact.
_FOOTNOTE = re.compile(r"^\s*\[\d+\]\s*《.*$", re.M)
_NUMBERING = re.compile(r"(?m)^\s*\d+\.\s")


def numbers_in(text: str) -> list[str]:
    return _NUM_RE.findall(unicodedata.normalize("NFKC", text))


def unsupported_numbers(answer_body: str, sources: list[str]) -> list[str]:
    """Numbers in the answer that none of the sources state (citation markers excluded)."""
    body = _MARK.sub("", answer_body)
    src = norm(" ".join(sources))
    have = set(numbers_in(src))
    return [n for n in numbers_in(body) if n not in have and n not in src]


def extractive(text: str, cites: list[Citation], clauses: dict[str, Clause]) -> list[str]:
    """Problems with a composed answer: a quote that is not verbatim, a number no cited clause states."""
    problems = []
    for c in cites:
        clause = clauses.get(c.clause_id)
        if clause is None or c.quote not in clause.text:
            problems.append(f"quote not verbatim in {c.clause_id}")
    body = _NUMBERING.sub("", _FOOTNOTE.sub("", text))
    sources = [clauses[c.clause_id].text + " " + " ".join(clauses[c.clause_id].path)
               for c in cites if c.clause_id in clauses]
    sources += [c.doc_title for c in cites]
    bad = unsupported_numbers(body, sources)
    if bad:
        problems.append(f"numbers not in the cited clauses: {bad}")
    return problems


# ---- generated answers: every sentence checked against the clauses it cites -------------------------
# A generated answer is trusted sentence by sentence. Each sentence must cite a supplied clause, and every
# meaning-bearing token it states (figure with its unit, date, 文号, unit name, negation) must be stated by
# a clause its citation names; the words around them must come mostly from that clause too.

CITATION = re.compile(r"\[(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\]")
CITATION_RUN = re.compile(r"(?:\[\d{1,2}(?:\s*[,，、]\s*\d{1,2})*\])+")
_ALT_BRACKETS = re.compile(r"[【〔［](\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)[】〕］]")
_SENTENCE_END = "。！？!?；;\n"
_MARKUP = re.compile(r"\*\*|__|`|^\s{0,3}#{1,6}\s*|^\s*[-*•·]\s+", re.M)
_LIST_NUMBER = re.compile(r"^\s*(?:\d{1,2}[.、．)）]|[（(]\d{1,2}[）)]|[①-⑳]|[一二三四五六七八九十]{1,2}、)\s*")
_LEAD_IN = re.compile(r"[：:]\s*$")
_ROLE_LEAD = re.compile(r"牵头")
_ROLE_OTHER = re.compile(r"责任单位|责任部门|配合|协同|参与")
_PUNCT = " \t\n。，,；;：:！？!?、“”\"'（）()"
_PHRASE = re.compile(r"[，,；;。！？!?\n]")


@dataclass(frozen=True)
class Source:
    """What one numbered clause can support: its text with its path, its document's title and 文号, and
    the units the parser read from it."""

    text: str  # matching form (NFKC, no whitespace)
    facts: facts_mod.Facts
    lead_units: tuple[str, ...] = ()
    units: tuple[str, ...] = ()  # lead and responsible units


def source_of(clause: Clause, doc: PolicyDocument | None = None) -> Source:
    parts = [clause.text, " ".join(clause.path)]
    if doc is not None:
        parts += [doc.title, doc.doc_number or "", doc.issuer or ""]
    text = "\n".join(parts)
    units = tuple(dict.fromkeys(clause.lead_units + clause.responsible_units + (doc.issuers if doc else [])))
    return Source(text=norm(text), facts=facts_mod.facts_in(text, known_units=units),
                  lead_units=tuple(clause.lead_units), units=units)


def plain_reply(text: str) -> str:
    """A model's reply without markdown, with 【n】-style citations written [n]."""
    return _MARKUP.sub("", _ALT_BRACKETS.sub(r"[\1]", text))


def cited_numbers(text: str) -> list[int]:
    """Source numbers the text cites, in order of first citation."""
    out: list[int] = []
    for m in CITATION.finditer(text):
        for n in re.split(r"\s*[,，、]\s*", m.group(1)):
            if int(n) not in out:
                out.append(int(n))
    return out


def split_sentences(text: str, *, final: bool = True) -> tuple[list[str], str]:
    """Complete sentences, each with the citations that follow its end mark ("…奖励。[1]"), and the rest
    that may still grow (all of it is complete when `final`)."""
    out: list[str] = []
    start = i = 0
    while i < len(text):
        if text[i] not in _SENTENCE_END:
            i += 1
            continue
        j = i + 1
        while True:  # citations and spaces after the end mark belong to this sentence
            k = j
            while k < len(text) and text[k] in " \t":
                k += 1
            m = CITATION_RUN.match(text, k)
            if m is None:
                break
            j = m.end()
        if j >= len(text) and not final:
            break  # a citation may still follow
        while j < len(text) and text[j] in " \t\n":
            j += 1
        out.append(text[start:j])
        start = i = j
    rest = text[start:]
    if final and rest.strip():
        out.append(rest)
        rest = ""
    return out, rest


def _claims(sentence: str) -> list[tuple[str, list[int]]]:
    """The stretches of a sentence with the citation that closes each; text after the last citation is
    closed by it ("根据[1]，每户给予20万元。")."""
    out: list[tuple[str, list[int]]] = []
    pos = 0
    for m in CITATION_RUN.finditer(sentence):
        out.append((sentence[pos : m.start()], cited_numbers(m.group(0))))
        pos = m.end()
    tail = sentence[pos:]
    if not out:
        return [(tail, [])]
    if tail.strip(_PUNCT):
        out.append((tail, out[-1][1]))
    return out


def _bigrams(text: str) -> set[str]:
    runs = re.findall(r"[\u4e00-\u9fff]+", text)
    return {r[i : i + 2] for r in runs for i in range(len(r) - 1)}


def support(claim: str, sources: list[Source]) -> float:
    """Share of the claim's two-character pieces that its cited clauses state."""
    grams = _bigrams(norm(claim))
    if not grams:
        return 1.0
    have = "\n".join(s.text for s in sources)
    return sum(1 for g in grams if g in have) / len(grams)


def claim_problems(claim: str, sources: list[Source], *, known_units: tuple[str, ...] = (),
                   min_support: float = 0.0, min_grams: int = 4) -> list[str]:
    """What a stretch of answer states that none of its cited clauses does."""
    facts = facts_mod.facts_in(claim, known_units=known_units)
    problems = []
    for f in facts.figures:
        if not any(f.same(g) for s in sources for g in s.facts.figures):
            problems.append(f"figure {f.text} is not in the cited clause")
    for d in facts.dates:
        if not any(d.within(e) for s in sources for e in s.facts.dates):
            problems.append(f"date {d.text} is not in the cited clause")
    for n in facts.doc_numbers:
        if not any(n.same(o) for s in sources for o in s.facts.doc_numbers):
            problems.append(f"文号 {n.text} is not in the cited clause")
    for u in facts.units:
        if not any(u in s.units or norm(u) in s.text for s in sources):
            problems.append(f"unit {u} is not in the cited clause")
    for cue, denied in facts.negations:
        scope = _bigrams(denied)
        if not any(scope & _bigrams(other) or (not scope and other_cue == cue)
                   for s in sources for other_cue, other in s.facts.negations):
            problems.append(f"negation “{cue}{denied}” is not stated by the cited clause")
    problems += _role_problems(claim, facts.units, sources)
    if min_support > 0 and len(_bigrams(norm(claim))) >= min_grams and support(claim, sources) < min_support:
        problems.append(f"the cited clause does not state “{claim.strip()[:40]}”")
    return problems


def _role_problems(claim: str, units: list[str], sources: list[Source]) -> list[str]:
    """A unit named as the lead (牵头) must be a lead unit of a cited clause that names its lead units."""
    leads = [s for s in sources if s.lead_units]
    if not leads or not units:
        return []
    out = []
    for phrase in _PHRASE.split(claim):
        if not _ROLE_LEAD.search(phrase) or _ROLE_OTHER.search(phrase):
            continue
        for u in units:
            if u in phrase and not any(u in s.lead_units or any(u in lead for lead in s.lead_units) for s in leads):
                out.append(f"unit {u} is not a lead unit of the cited clause")
    return out


def sentence_problems(sentence: str, sources: list[Source], *, min_support: float = 0.0,
                      min_grams: int = 4) -> list[str]:
    """Problems of one sentence of a generated answer against the numbered sources it may cite (1-based)."""
    text = plain_reply(sentence)
    text = _LIST_NUMBER.sub("", text)
    known = tuple(dict.fromkeys(u for s in sources for u in s.units))
    problems: list[str] = []
    for claim, cited in _claims(text):
        if not claim.strip(_PUNCT):
            continue
        if not cited:
            if _LEAD_IN.search(claim) and not _has_facts(claim, known):
                continue  # "具体如下：" introduces what follows and states nothing itself
            problems.append(f"sentence without a citation: “{claim.strip()[:40]}”")
            continue
        unknown = [n for n in cited if not 1 <= n <= len(sources)]
        if unknown:
            problems.append(f"cites unknown sources {unknown}")
            continue
        problems += [f"{p} [{','.join(map(str, cited))}]" for p in
                     claim_problems(claim, [sources[n - 1] for n in cited], known_units=known,
                                    min_support=min_support, min_grams=min_grams)]
    return problems


def _has_facts(text: str, known: tuple[str, ...]) -> bool:
    f = facts_mod.facts_in(text, known_units=known)
    return bool(f.figures or f.dates or f.doc_numbers or f.units or f.negations)


def is_source_line(line: str) -> bool:
    """A line of the model's own source list ("[1] 《…》 …"): the answer's list is written from the clauses."""
    return bool(_FOOTNOTE.fullmatch(plain_reply(line).strip()))


def reply_problems(reply: str, sources: list[Source], *, min_support: float = 0.0, min_grams: int = 4) -> list[str]:
    """Every problem of a whole generated answer (source-list lines the model wrote itself are ignored)."""
    body = _FOOTNOTE.sub("", plain_reply(reply))
    if not body.strip():
        return ["empty reply"]
    if not cited_numbers(body):
        return ["no [n] citation"]
    sentences, _ = split_sentences(body)
    return [p for s in sentences for p in sentence_problems(s, sources, min_support=min_support, min_grams=min_grams)]
