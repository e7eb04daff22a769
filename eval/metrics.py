"""Scoring one answer against one gold item. Pure functions, no I/O."""

from __future__ import annotations

import json
import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.records import Answer, Clause


def flat(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s or ""))


@dataclass
class GoldItem:
    id: str
    question: str
    history: list[str]
    type: str
    answerable: bool
    facts: list[list[str]]
    doc: str | None
    evidence: str | None
    region: str | None = None
    cross_region_trap: bool = False
    notes: str = ""

    @property
    def multi_region(self) -> bool:
        return self.notes.startswith("multi-region")


def load_gold(paths: list[Path]) -> list[GoldItem]:
    items = []
    for p in paths:
        for line in p.read_text("utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                items.append(GoldItem(**{k: d.get(k) for k in GoldItem.__dataclass_fields__ if k in d}))
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
    verbatim = []
    for c in ans.citations:
        clause = by_id.get(getattr(c, "clause_id", ""))
        verbatim.append(bool(clause and c.quote and (c.quote in clause.text or flat(c.quote) in flat(clause.text))))
    if not item.answerable:
        return Scored(item, ans, ans.refused, [], False, rank, verbatim, latency_ms)
    missing = facts_present(ans.answer, item.facts)
    cited = False
    for c in ans.citations:
        clause = by_id.get(getattr(c, "clause_id", ""))
        if source_files.get(c.doc_id) != item.doc and not item.multi_region:
            continue
        if holds_evidence(clause, item.evidence) or item.type in ("metadata", "validity"):
            cited = True
    correct = not ans.refused and not missing and cited
    return Scored(item, ans, correct, missing, cited, rank, verbatim, latency_ms)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def summarize(rows: list[Scored]) -> dict[str, Any]:
    answerable = [r for r in rows if r.item.answerable]
    unans = [r for r in rows if not r.item.answerable]
    refused = [r for r in rows if r.answer.refused]
    ranked = [r for r in answerable if r.item.type not in ("metadata", "validity")]
    cites = [v for r in rows for v in r.verbatim]
    answered = [r for r in answerable if not r.answer.refused]

    def recall_at(k: int) -> float:
        return sum(1 for r in ranked if r.rank and r.rank <= k) / max(1, len(ranked))

    lat = [r.latency_ms for r in rows]
    return {
        "questions": len(rows),
        "answer_accuracy": sum(r.correct for r in answerable) / max(1, len(answerable)),
        "refusal_recall": sum(1 for r in unans if r.answer.refused) / max(1, len(unans)),
        "refusal_precision": sum(1 for r in refused if not r.item.answerable) / max(1, len(refused)),
        "citation_verbatim": sum(cites) / max(1, len(cites)) if cites else 1.0,
        "citation_correct": sum(r.evidence_cited for r in answered) / max(1, len(answered)),
        "recall@1": recall_at(1),
        "recall@5": recall_at(5),
        "recall@10": recall_at(10),
        "mrr": sum(1 / r.rank for r in ranked if r.rank) / max(1, len(ranked)),
        "latency_p50_ms": statistics.median(lat) if lat else 0.0,
        "latency_p95_ms": percentile(lat, 95),
    }


def per_type(rows: list[Scored]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for t in sorted({r.item.type for r in rows}):
        sub = [r for r in rows if r.item.type == t]
        out[t] = {"n": len(sub), "accuracy": sum(r.correct for r in sub) / len(sub)}
    return out
