"""Verify: an answer may show only what its cited clauses state. The extractive answer is checked before
it is shown (quotes verbatim, every number in a cited clause); the LLM answer reuses the same checks."""

from __future__ import annotations

import re
import unicodedata

from core.records import Citation, Clause
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
