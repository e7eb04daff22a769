"""`policybot eval`: every question set through the bot's own code path, each against its own corpus,
with metrics per set, per question type and per phrasing style, a report, a chart and gates."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers or in CI
import matplotlib.pyplot as plt

from bot.chat import PolicyBot
from core.retrieval import Retriever, SearchMode
from core.settings import Settings
from eval.baseline import run_baseline
from eval.metrics import (
    GoldItem,
    Scored,
    evidence_rank,
    load_gold,
    per_style,
    per_type,
    score_answer,
    summarize,
)
from indexing.service import IngestReport

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
SETS_DIR = ROOT / "eval" / "sets"
MANIFEST = SETS_DIR / "sets.toml"
SAMPLE_CORPUS = ROOT / "data" / "policies"
MODES: tuple[SearchMode, ...] = ("hybrid", "bm25", "dense")
BotFactory = Callable[..., PolicyBot]  # (settings, index, *, search_mode) → bot
Ingest = Callable[..., IngestReport]  # (paths, *, settings) → report
GATE_LABELS = {
    "answer_accuracy": "≥", "citation_verbatim": "≥", "refusal_recall": "≥", "follow_up_accuracy": "≥",
    "false_refusal_rate": "≤",
}


@dataclass
class QuestionSet:
    name: str
    file: Path
    corpus: Path
    role: str = "test"  # "tuning" sets may be fitted to; "test" sets never are
    compare_modes: bool = False
    gates: dict[str, float] = field(default_factory=dict)


def load_sets(manifest: Path = MANIFEST) -> list[QuestionSet]:
    data = tomllib.loads(manifest.read_text("utf-8"))
    return [
        QuestionSet(
            name=s["name"], file=manifest.parent / s["file"], corpus=ROOT / s["corpus"], role=s.get("role", "test"),
            compare_modes=bool(s.get("compare_modes", False)), gates=dict(s.get("gates", {})),
        )
        for s in data["set"]
    ]


def chosen_sets(args: argparse.Namespace) -> list[QuestionSet]:
    if getattr(args, "gold", None):  # an ad-hoc file, against the sample corpus unless told otherwise
        corpus = Path(args.corpus) if getattr(args, "corpus", None) else SAMPLE_CORPUS
        return [QuestionSet(name=Path(g).stem, file=Path(g), corpus=corpus) for g in args.gold]
    sets = load_sets()
    names = getattr(args, "set", None)
    if names:
        unknown = set(names) - {s.name for s in sets}
        if unknown:
            raise SystemExit(f"unknown question set(s): {', '.join(sorted(unknown))}")
        sets = [s for s in sets if s.name in names]
    return sets


def run_mode(bot: PolicyBot, index: Retriever, items: list[GoldItem]) -> list[Scored]:
    by_id = {c.clause_id: c for c in index.clauses}
    source_files = {d.doc_id: d.source_file for d in index.docs.values()}
    rows = []
    for it in items:
        t = time.perf_counter()
        ans = bot.ask(it.question, history=it.history)
        ms = (time.perf_counter() - t) * 1000
        rank = None
        if it.answerable and it.evidences:
            hits = bot.retrieve(it.question, history=it.history, k=10)
            rank = evidence_rank([h.clause.clause_id for h in hits], by_id, it.evidences[0])
        rows.append(score_answer(it, ans, by_id, source_files, rank, ms))
    return rows


def corpus_settings(settings: Settings, corpus: Path) -> Settings:
    """Each corpus is indexed in its own folder under the evaluation index directory."""
    return settings.model_copy(update={"index_dir": Path(settings.index_dir) / corpus.name})


def failures_md(rows: list[Scored], limit: int = 60) -> list[str]:
    out = []
    for r in rows:
        if r.correct:
            continue
        it = r.item
        got = r.answer.answer.replace("\n", " ").replace("|", "｜")[:160]
        if it.answerable:
            why = "refused" if r.answer.refused else (
                f"missing {['/'.join(g) for g in r.missing]}" if r.missing else "evidence not cited")
        else:
            why = "answered an unanswerable question"
        q = it.question.replace("|", "｜")
        out.append(f"| {it.id} | {it.type} | {q} | {why} | {got} |")
        if len(out) >= limit:
            break
    return out


def evaluate_set(qs: QuestionSet, settings: Settings, *, make_bot: BotFactory, ingest: Ingest,
                 baseline: bool) -> dict[str, Any]:
    items = load_gold([qs.file])
    s = corpus_settings(settings, qs.corpus)
    report = ingest([qs.corpus], settings=s)
    if report.failed:
        raise SystemExit(f"corpus {qs.corpus} failed to ingest: {report.failed}")
    bot = make_bot(s)
    bot.warm_up()
    index = bot.index
    result: dict[str, Any] = {"name": qs.name, "role": qs.role, "corpus": qs.corpus.name, "questions": len(items),
                              "clauses": len(index.clauses), "documents": len(index.docs), "gates": qs.gates,
                              "modes": {}}
    for mode in MODES if qs.compare_modes else MODES[:1]:
        rows = run_mode(bot if mode == "hybrid" else make_bot(s, index, search_mode=mode), index, items)
        result["modes"][mode] = {"summary": summarize(rows), "per_type": per_type(rows)}
        if mode == "hybrid":
            result["per_style"] = per_style(rows)
            result["failures"] = failures_md(rows)
    if qs.compare_modes and baseline:
        result["modes"]["naive_rag"] = run_baseline(items, s, index.embeddings, corpus=qs.corpus)
    return result


METRIC_KEYS = ["answer_accuracy", "false_refusal_rate", "refusal_recall", "refusal_precision", "follow_up_accuracy",
               "citation_verbatim", "citation_correct", "recall@1", "recall@5", "recall@10", "mrr",
               "latency_p50_ms", "latency_p95_ms"]


def _fmt(v: Any) -> str:
    return "—" if v is None else f"{v:.3f}"


def write_report(report_dir: Path, results: dict[str, Any]) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")
    sets = results["sets"]
    lines = ["# policybot evaluation", "", "## Sets (hybrid retrieval, the app's own code path)", "",
             "| metric | " + " | ".join(f"{s['name']} ({s['role']})" for s in sets) + " |",
             "|---|" + "---|" * len(sets)]
    lines.append("| questions | " + " | ".join(str(s["questions"]) for s in sets) + " |")
    lines.append("| corpus | " + " | ".join(f"{s['corpus']} ({s['documents']} docs, {s['clauses']} clauses)"
                                           for s in sets) + " |")
    for k in METRIC_KEYS:
        lines.append(f"| {k} | " + " | ".join(_fmt(s["modes"]["hybrid"]["summary"].get(k)) for s in sets) + " |")
    for s in sets:
        modes = s["modes"]
        lines += ["", f"## {s['name']}", ""]
        if len(modes) > 1:
            lines += ["### By retrieval mode", "", "| metric | " + " | ".join(modes) + " |",
                      "|---|" + "---|" * len(modes)]
            for k in METRIC_KEYS:
                lines.append(f"| {k} | " + " | ".join(_fmt(modes[m]["summary"].get(k)) for m in modes) + " |")
            lines.append("")
        lines += ["### Accuracy by question type", "", "| type | n | accuracy |", "|---|---|---|"]
        for t, row in modes["hybrid"]["per_type"].items():
            lines.append(f"| {t} | {row['n']} | {row['accuracy']:.3f} |")
        if s.get("per_style"):
            lines += ["", "### Accuracy by phrasing style", "", "| style | n | accuracy |", "|---|---|---|"]
            for t, row in s["per_style"].items():
                lines.append(f"| {t} | {row['n']} | {row['accuracy']:.3f} |")
        lines += ["", "### Failures", "", "| id | type | question | why | answer |", "|---|---|---|---|---|"]
        lines += s.get("failures") or ["| — | | | | |"]
    (report_dir / "report.md").write_text("\n".join(lines) + "\n", "utf-8")
    chart(report_dir / "accuracy_by_type.png", sets)


def chart(path: Path, sets: list[dict[str, Any]]) -> None:
    types = sorted({t for s in sets for t in s["modes"]["hybrid"]["per_type"]})
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / max(1, len(sets))
    for i, s in enumerate(sets):
        vals = [s["modes"]["hybrid"]["per_type"].get(t, {}).get("accuracy", 0.0) for t in types]
        ax.bar([x + i * width for x in range(len(types))], vals, width, label=f"{s['name']} ({s['role']})")
    ax.set_xticks([x + width * (len(sets) - 1) / 2 for x in range(len(types))])
    ax.set_xticklabels(types, rotation=20)
    ax.set_ylim(0, 1.2)
    ax.set_ylabel("answer accuracy")
    ax.set_title("Answer accuracy by question type, per question set")
    ax.legend(ncol=len(sets), loc="upper center")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def gate_failures(result: dict[str, Any], overrides: dict[str, float]) -> list[str]:
    summary = result["modes"]["hybrid"]["summary"]
    gates = {**result["gates"], **overrides}
    failed = []
    for k, v in gates.items():
        got = summary[k]
        bad = got > v if GATE_LABELS.get(k) == "≤" else got < v
        if bad:
            failed.append(f"{result['name']}: {k} {got:.3f} (gate {GATE_LABELS.get(k, '≥')} {v})")
    return failed


def main(args: argparse.Namespace, settings: Settings, *, make_bot: BotFactory, ingest: Ingest) -> int:
    sets = chosen_sets(args)
    results: dict[str, Any] = {"sets": []}
    for qs in sets:
        results["sets"].append(evaluate_set(qs, settings, make_bot=make_bot, ingest=ingest,
                                            baseline=not getattr(args, "no_baseline", False)))
    report_dir = Path(args.report) if getattr(args, "report", None) else Path(settings.index_dir) / "eval-report"
    write_report(report_dir, results)
    print(f"{'metric':<22}" + "".join(f"{s['name']:>14}" for s in results["sets"]))
    for k in METRIC_KEYS:
        print(f"{k:<22}" + "".join(f"{s['modes']['hybrid']['summary'][k]:>14.3f}" for s in results["sets"]))
    print(f"report: {report_dir / 'report.md'}")
    overrides = {k: v for k, v in (("answer_accuracy", getattr(args, "min_accuracy", None)),
                                   ("citation_verbatim", getattr(args, "min_citation_verbatim", None)),
                                   ("refusal_recall", getattr(args, "min_refusal_recall", None))) if v is not None}
    failed = [f for r in results["sets"] for f in gate_failures(r, overrides)]
    if failed:
        print("BELOW THRESHOLD: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0
