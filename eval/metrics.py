"""Scoring one answer against one question of a set, and summarising a set. Pure functions, no I/O
except reading the set files."""

from __future__ import annotations

import json
import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.records import Answer, Clause

EXEMPT_EVIDENCE = ("metadata", "validity")  # answered from the catalog: the right document is enough


def flat(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s or ""))


def _as_list(x: str | list[str] | None) -> list[str]:
    if x is None:
        return []
    return [x] if isinstance(x, str) else [v for v in x if v]


@dataclass
class GoldItem:
    id: str
    question: str
    history: list[str]
    type: str
    answerable: bool
    facts: list[list[str]]
    doc: str | list[str] | None
    evidence: str | list[str] | None
    region: str | None = None
    cross_region_trap: bool = False
    notes: str = ""
    style: list[str] = field(default_factory=list)

    @property
    def multi_region(self) -> bool:
        return (self.notes or "").startswith("multi-region")

    @property
    def evidences(self) -> list[str]:
        return _as_list(self.evidence)

    def doc_for(self, i: int) -> str | None:
        """The document the i-th evidence comes from (one document for all, or one per evidence)."""
        docs = _as_list(self.doc)
        if not docs:
            return None
        return docs[i] if len(docs) > 1 and i < len(docs) else docs[0]

    @property
    def docs(self) -> set[str]:
        return set(_as_list(self.doc))

    @property
    def follow_up(self) -> bool:
        return bool(self.history)


def load_gold(paths: list[Path]) -> list[GoldItem]:
    items = []
    for p in paths:
        for line in p.read_text("utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                items.append(GoldItem(**{k: d[k] for k in GoldItem.__dataclass_fields__ if k in d}))
    return items


def facts_present(answer_text: str, facts: list[list[str]]) -> list[list[str]]:
    """The fact groups of which no variant occurs in the answer."""
    text = flat(answer_text)
    return [g for g in facts if not any(flat(v) in text for v in g)]


def holds_evidence(clause: Clause | None, evidence: str | None) -> bool:
    return bool(clause and evidence and flat(evidence) in flat(clause.text))


def evidence_rank(clause_ids: list[str], by_id: dict[str, Clause], evidence: str | None) -> int | None:
    for i, cid in enumerate(clause_ids):
        if holds_evidence(by_id.get(cid), evidence):
            return i + 1
    return None


@dataclass
class Scored:
    item: GoldItem
    answer: Answer
    correct: bool
    missing: list[list[str]]
    evidence_cited: bool
    rank: int | None
    verbatim: list[bool] = field(default_factory=list)
    latency_ms: float = 0.0


def score_answer(item: GoldItem, ans: Answer, by_id: dict[str, Clause], source_files: dict[str, str],
                 rank: int | None, latency_ms: float) -> Scored:
    """Correct = not refused, every fact group stated, and every evidence held by a cited clause of its
    document (for metadata/validity questions: a citation of the right document)."""
    verbatim = []
    for c in ans.citations:
        clause = by_id.get(c.clause_id)
        verbatim.append(bool(clause and c.quote and (c.quote in clause.text or flat(c.quote) in flat(clause.text))))
    if not item.answerable:
        return Scored(item, ans, ans.refused, [], False, rank, verbatim, latency_ms)
    missing = facts_present(ans.answer, item.facts)
    cited_docs = [(source_files.get(c.doc_id), by_id.get(c.clause_id)) for c in ans.citations]

    def cited(i: int, ev: str | None) -> bool:
        want = item.doc_for(i)
        mine = [clause for doc, clause in cited_docs if doc == want or item.multi_region]
        if mine and item.type in EXEMPT_EVIDENCE:
            return True
        if any(holds_evidence(clause, ev) for clause in mine):
            return True
        # an evidence that runs across a lead-in and its items, each cited as a clause of its own
        together = sorted({c.clause_id: c for c in mine if c is not None}.values(), key=lambda c: (c.doc_id, c.seq))
        return bool(ev and together and flat(ev) in flat("".join(c.text for c in together)))

    evidences = item.evidences or [None]  # type: ignore[list-item]
    all_cited = all(cited(i, ev) for i, ev in enumerate(evidences))
    correct = not ans.refused and not missing and all_cited
    return Scored(item, ans, correct, missing, all_cited, rank, verbatim, latency_ms)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def _share(n: int, d: int) -> float:
    return n / d if d else 0.0


def summarize(rows: list[Scored]) -> dict[str, Any]:
    answerable = [r for r in rows if r.item.answerable]
    unans = [r for r in rows if not r.item.answerable]
    refused = [r for r in rows if r.answer.refused]
    ranked = [r for r in answerable if r.item.type not in EXEMPT_EVIDENCE and r.item.evidences]
    cites = [v for r in rows for v in r.verbatim]
    answered = [r for r in answerable if not r.answer.refused]
    follow = [r for r in rows if r.item.follow_up]

    def recall_at(k: int) -> float:
        return _share(sum(1 for r in ranked if r.rank and r.rank <= k), len(ranked))

    lat = [r.latency_ms for r in rows]
    return {
        "questions": len(rows),
        "answer_accuracy": _share(sum(r.correct for r in answerable), len(answerable)),
        "false_refusal_rate": _share(sum(1 for r in answerable if r.answer.refused), len(answerable)),
        "refusal_recall": _share(sum(1 for r in unans if r.answer.refused), len(unans)) if unans else 1.0,
        "refusal_precision": _share(sum(1 for r in refused if not r.item.answerable), len(refused)) if refused else 1.0,
        "follow_up_accuracy": _share(sum(r.correct for r in follow), len(follow)) if follow else 1.0,
        "citation_verbatim": _share(sum(cites), len(cites)) if cites else 1.0,
        "citation_correct": _share(sum(r.evidence_cited for r in answered), len(answered)),
        "recall@1": recall_at(1),
        "recall@5": recall_at(5),
        "recall@10": recall_at(10),
        "mrr": _share(sum(1 / r.rank for r in ranked if r.rank), len(ranked)) if ranked else 0.0,
        "latency_p50_ms": statistics.median(lat) if lat else 0.0,
        "latency_p95_ms": percentile(lat, 95),
    }


def per_type(rows: list[Scored]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for t in sorted({r.item.type for r in rows}):
        sub = [r for r in rows if r.item.type == t]
        out[t] = {"n": len(sub), "accuracy": sum(r.correct for r in sub) / len(sub)}
    return out


def per_style(rows: list[Scored]) -> dict[str, dict[str, float]]:
    """Accuracy per phrasing style (a question may carry several styles)."""
    out: dict[str, dict[str, float]] = {}
    for s in sorted({s for r in rows for s in r.item.style}):
        sub = [r for r in rows if s in r.item.style]
        out[s] = {"n": len(sub), "accuracy": sum(r.correct for r in sub) / len(sub)}
    return out
