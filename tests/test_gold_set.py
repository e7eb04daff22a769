"""Checks the hand-written evaluation gold set in eval/gold/*.jsonl.

Plain pytest, standard library only, no project imports.

Every record is checked for schema and field types; ids must be unique across
all gold files; the set must meet the minimum counts per question type (and
for follow-ups, cross-region traps and unanswerable questions); every evidence
excerpt must occur in its document once all whitespace (any ``\\s``, including
the full-width space U+3000) is removed from both; and every fact group of an
answerable question (other than metadata/validity, whose facts may come from
document metadata) must have at least one variant occurring, whitespace-
insensitively, in the evidence or in the document.  A question whose notes
start with "multi-region" spans several documents: its facts may occur in any
policy document.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLD_DIR = ROOT / "eval" / "gold"
POLICY_DIR = ROOT / "data" / "policies"

TYPES = {
    "amount",
    "eligibility",
    "contact",
    "deadline",
    "target",
    "procedure",
    "metadata",
    "validity",
    "unanswerable",
}
REGIONS = {"重庆市", "重庆市万州区", "重庆市奉节县", "重庆市九龙坡区", None}
REQUIRED_FIELDS = {
    "id": str,
    "question": str,
    "history": list,
    "type": str,
    "answerable": bool,
    "facts": list,
    "doc": (str, type(None)),
    "evidence": (str, type(None)),
    "region": (str, type(None)),
    "cross_region_trap": bool,
}
OPTIONAL_FIELDS = {"notes": str}

MIN_PER_TYPE = {
    "amount": 8,
    "eligibility": 8,
    "contact": 8,
    "deadline": 8,
    "target": 8,
    "procedure": 5,
    "metadata": 5,
    "validity": 5,
    "unanswerable": 18,
}
MIN_TOTAL = 120
MIN_FOLLOWUPS = 12
MIN_TRAPS = 12
FACT_EXEMPT_TYPES = {"metadata", "validity"}

_WS = re.compile(r"\s", re.UNICODE)


def norm(s: str) -> str:
    """Remove every whitespace character (\\s covers \\u3000 in Python 3)."""
    return _WS.sub("", s.replace("\u3000", ""))


def _load_records() -> list[tuple[str, int, dict]]:
    out = []
    for path in sorted(GOLD_DIR.glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                out.append((path.name, lineno, json.loads(line)))
    return out


def _load_docs() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(POLICY_DIR.glob("*.txt"))}


RECORDS = _load_records()
DOCS = _load_docs()
NORM_DOCS = {name: norm(text) for name, text in DOCS.items()}


def _rid(rec: tuple[str, int, dict]) -> str:
    fname, lineno, d = rec
    return f"{fname}:{lineno}:{d.get('id', '?')}"


def test_gold_files_exist():
    assert GOLD_DIR.is_dir(), GOLD_DIR
    assert list(GOLD_DIR.glob("*.jsonl")), "no eval/gold/*.jsonl files"
    assert RECORDS, "gold set is empty"
    assert len(DOCS) == 5, sorted(DOCS)


@pytest.mark.parametrize("rec", RECORDS, ids=_rid)
def test_schema(rec):
    _, _, d = rec
    assert isinstance(d, dict)
    missing = set(REQUIRED_FIELDS) - set(d)
    assert not missing, f"missing fields {missing}"
    extra = set(d) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    assert not extra, f"unknown fields {extra}"
    for k, t in REQUIRED_FIELDS.items():
        assert isinstance(d[k], t), f"{k} has type {type(d[k]).__name__}"
    for k, t in OPTIONAL_FIELDS.items():
        if k in d:
            assert isinstance(d[k], t), f"{k} has type {type(d[k]).__name__}"

    assert re.fullmatch(r"g\d{3,}", d["id"]), d["id"]
    assert d["question"].strip(), "empty question"
    assert all(isinstance(h, str) and h.strip() for h in d["history"]), d["history"]
    assert d["type"] in TYPES, d["type"]
    assert d["answerable"] == (d["type"] != "unanswerable"), "answerable must be False iff type is unanswerable"
    assert d["region"] in REGIONS, d["region"]

    facts = d["facts"]
    for group in facts:
        assert isinstance(group, list) and group, f"fact group must be a non-empty list: {group!r}"
        for v in group:
            assert isinstance(v, str) and v.strip(), f"fact variant must be a non-empty string: {v!r}"

    if d["answerable"]:
        assert facts, "answerable question without facts"
        assert d["doc"] in DOCS, f"unknown doc {d['doc']!r}"
        assert isinstance(d["evidence"], str)
        assert 10 <= len(d["evidence"]) <= 120, f"evidence length {len(d['evidence'])}"
    else:
        assert facts == [], "unanswerable question must have facts == []"
        assert d["doc"] is None
        assert d["evidence"] is None


def test_unique_ids():
    ids = [d["id"] for _, _, d in RECORDS]
    dups = [i for i, c in Counter(ids).items() if c > 1]
    assert not dups, f"duplicate ids: {dups}"


def test_unique_question_with_history():
    keys = [(d["question"], tuple(d["history"])) for _, _, d in RECORDS]
    dups = [k for k, c in Counter(keys).items() if c > 1]
    assert not dups, f"duplicate questions: {dups}"


def test_counts():
    ds = [d for _, _, d in RECORDS]
    assert len(ds) >= MIN_TOTAL, len(ds)
    per_type = Counter(d["type"] for d in ds if d["answerable"] or d["type"] == "unanswerable")
    for t, n in MIN_PER_TYPE.items():
        assert per_type[t] >= n, f"type {t}: {per_type[t]} < {n}"
    followups = sum(1 for d in ds if d["history"])
    assert followups >= MIN_FOLLOWUPS, followups
    traps = sum(1 for d in ds if d["cross_region_trap"])
    assert traps >= MIN_TRAPS, traps
    unanswerable = sum(1 for d in ds if not d["answerable"])
    assert unanswerable >= MIN_PER_TYPE["unanswerable"], unanswerable


def _find(question: str, history: list[str] | None = None) -> dict:
    hits = [d for _, _, d in RECORDS if d["question"] == question and (history is None or d["history"] == history)]
    assert hits, f"required question missing: {question}"
    return hits[0]


def _has_group(d: dict, variant: str) -> bool:
    return any(variant in group for group in d["facts"])


def test_required_questions():
    d = _find("奉节县“无废奉节”信息化平台由哪个单位牵头、什么时候完成？")
    assert d["answerable"] and d["doc"] == "fengjie-2022-tech-innovation-empowerment-plan.txt"
    assert _has_group(d, "县生态环境局") and _has_group(d, "2025年12月底")

    d = _find("奉节县每年技术市场成交合同额要达到多少？")
    assert d["answerable"] and _has_group(d, "1000万元")

    d = _find("奉节网剧产业归哪个单位牵头？")
    assert d["answerable"] and _has_group(d, "县融媒体中心")

    d = _find("5G基站要建多少个？", [])
    assert d["answerable"] and d["type"] == "target"
    assert d["region"] is None
    assert d["doc"] == "wanzhou-2023-mantianxing-digital-economy-plan.txt"
    assert any(("5050个" in g or "5050" in g) for g in d["facts"])
    assert any(("2525个" in g or "2525" in g) for g in d["facts"])
    assert "multi-region" in d.get("notes", "")


@pytest.mark.parametrize("rec", [r for r in RECORDS if r[2].get("answerable")], ids=_rid)
def test_evidence_in_doc(rec):
    _, _, d = rec
    ev = norm(d["evidence"])
    assert ev, "evidence is only whitespace"
    assert ev in NORM_DOCS[d["doc"]], f"evidence not found in {d['doc']}: {d['evidence']!r}"


@pytest.mark.parametrize(
    "rec",
    [r for r in RECORDS if r[2].get("answerable") and r[2].get("type") not in FACT_EXEMPT_TYPES],
    ids=_rid,
)
def test_facts_supported(rec):
    _, _, d = rec
    ev = norm(d["evidence"])
    if d.get("notes", "").startswith("multi-region"):
        haystacks = [ev, *NORM_DOCS.values()]
    else:
        haystacks = [ev, NORM_DOCS[d["doc"]]]
    for group in d["facts"]:
        assert any(norm(v) in h for v in group for h in haystacks), (
            f"no variant of fact group {group} occurs in the evidence or document"
        )
