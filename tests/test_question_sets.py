"""Checks the question sets of eval/sets/ (listed in eval/sets/sets.toml) before they score anything.

Every record: schema and field types; ids unique across all sets; every evidence excerpt occurs in its
document once all whitespace is removed from both (for saved web pages: in the page's visible text);
every fact group of an answerable question (other than metadata/validity, whose facts may come from
document metadata) has a variant in the evidence or the document. Each set meets the size and mix its
role asks for: the test sets were written before tuning, by someone who had not read the code.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
SETS_DIR = ROOT / "eval" / "sets"
MANIFEST = tomllib.loads((SETS_DIR / "sets.toml").read_text("utf-8"))["set"]

TYPES = {"amount", "eligibility", "contact", "deadline", "target", "procedure", "metadata", "validity", "list",
         "unanswerable"}
STYLES = {"situational", "colloquial", "own_figures", "multi_part", "follow_up", "typo", "plain", "trap"}
REQUIRED_FIELDS = {
    "id": str, "question": str, "history": list, "type": str, "answerable": bool, "facts": list,
    "doc": (str, list, type(None)), "evidence": (str, list, type(None)), "region": (str, type(None)),
    "cross_region_trap": bool,
}
OPTIONAL_FIELDS = {"notes": str, "style": list}
FACT_EXEMPT_TYPES = {"metadata", "validity"}
# what each set must hold: (questions, follow-ups, unanswerable)
MINIMUM = {"tuning": (120, 12, 18), "tuning-other": (60, 8, 8), "test-sample": (150, 20, 20), "test-other": (60, 8, 8)}
_WS = re.compile(r"\s", re.UNICODE)


def norm(s: str) -> str:
    return _WS.sub("", s)


def _visible_text(path: Path) -> str:
    if path.suffix.lower() in (".html", ".htm"):
        soup = BeautifulSoup(path.read_bytes(), "html.parser")
        for tag in soup(["script", "style", "noscript", "template", "head"]):
            tag.decompose()
        return soup.get_text("\n")
    return path.read_text(encoding="utf-8")


def _records() -> list[tuple[str, dict]]:
    out = []
    for s in MANIFEST:
        for line in (SETS_DIR / s["file"]).read_text("utf-8").splitlines():
            if line.strip():
                out.append((s["name"], json.loads(line)))
    return out


RECORDS = _records()
CORPUS = {s["name"]: ROOT / s["corpus"] for s in MANIFEST}
DOCS: dict[Path, str] = {}


def doc_text(set_name: str, doc: str) -> str:
    path = CORPUS[set_name] / doc
    if path not in DOCS:
        assert path.is_file(), f"unknown document {doc!r} for set {set_name}"
        DOCS[path] = norm(_visible_text(path))
    return DOCS[path]


def _as_list(x: str | list | None) -> list[str]:
    return [] if x is None else [x] if isinstance(x, str) else list(x)


def _rid(rec: tuple[str, dict]) -> str:
    return f"{rec[0]}:{rec[1].get('id', '?')}"


def test_every_set_file_exists_and_is_not_empty() -> None:
    for s in MANIFEST:
        assert (SETS_DIR / s["file"]).is_file(), s["file"]
        assert (ROOT / s["corpus"]).is_dir(), s["corpus"]
    assert {s["name"] for s in MANIFEST} >= set(MINIMUM)


@pytest.mark.parametrize("rec", RECORDS, ids=_rid)
def test_schema(rec: tuple[str, dict]) -> None:
    _, d = rec
    missing = set(REQUIRED_FIELDS) - set(d)
    assert not missing, f"missing fields {missing}"
    extra = set(d) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    assert not extra, f"unknown fields {extra}"
    for k, t in {**REQUIRED_FIELDS, **OPTIONAL_FIELDS}.items():
        if k in d:
            assert isinstance(d[k], t), f"{k} has type {type(d[k]).__name__}"
    assert d["question"].strip()
    assert all(isinstance(h, str) and h.strip() for h in d["history"])
    assert d["type"] in TYPES, d["type"]
    assert set(d.get("style", [])) <= STYLES, d.get("style")
    assert d["answerable"] == (d["type"] != "unanswerable")
    for group in d["facts"]:
        assert isinstance(group, list) and group and all(isinstance(v, str) and v.strip() for v in group)
    if d["answerable"]:
        assert d["facts"] and _as_list(d["doc"]) and _as_list(d["evidence"])
        docs, evs = _as_list(d["doc"]), _as_list(d["evidence"])
        assert len(docs) in (1, len(evs)), "one document, or one per evidence"
    else:
        assert d["facts"] == [] and d["doc"] is None and d["evidence"] is None


def test_unique_ids() -> None:
    ids = [d["id"] for _, d in RECORDS]
    assert not [i for i, c in Counter(ids).items() if c > 1]


@pytest.mark.parametrize("name", sorted(MINIMUM))
def test_each_set_is_big_and_varied_enough(name: str) -> None:
    ds = [d for n, d in RECORDS if n == name]
    total, follow, unans = MINIMUM[name]
    assert len(ds) >= total
    assert sum(1 for d in ds if d["history"]) >= follow
    assert sum(1 for d in ds if not d["answerable"]) >= unans
    assert sum(1 for d in ds if d["cross_region_trap"]) >= 5


@pytest.mark.parametrize("rec", [r for r in RECORDS if r[1]["answerable"]], ids=_rid)
def test_evidence_in_doc(rec: tuple[str, dict]) -> None:
    name, d = rec
    docs = _as_list(d["doc"])
    for i, ev in enumerate(_as_list(d["evidence"])):
        doc = docs[i] if len(docs) > 1 else docs[0]
        assert norm(ev) and norm(ev) in doc_text(name, doc), f"evidence not found in {doc}: {ev!r}"


@pytest.mark.parametrize(
    "rec", [r for r in RECORDS if r[1]["answerable"] and r[1]["type"] not in FACT_EXEMPT_TYPES], ids=_rid
)
def test_facts_supported(rec: tuple[str, dict]) -> None:
    name, d = rec
    haystacks = [norm(e) for e in _as_list(d["evidence"])]
    if (d.get("notes") or "").startswith("multi-region"):
        haystacks += [doc_text(name, p.name) for p in CORPUS[name].glob("*.txt")]
    else:
        haystacks += [doc_text(name, doc) for doc in _as_list(d["doc"])]
    for group in d["facts"]:
        assert any(norm(v) in h for v in group for h in haystacks), f"no variant of {group} in evidence or document"
