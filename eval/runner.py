"""`policybot eval`: the gold set through the bot's own code path, with mode comparisons and a report."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers or in CI
import matplotlib.pyplot as plt

from bot.chat import PolicyBot
from core.retrieval import Retriever, SearchMode
from core.settings import Settings
from eval.baseline import run_baseline
from eval.metrics import GoldItem, Scored, evidence_rank, load_gold, per_type, score_answer, summarize
from indexing.service import IngestReport

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GOLD = ROOT / "eval" / "gold"
SAMPLE_CORPUS = ROOT / "data" / "policies"
MODES: tuple[SearchMode, ...] = ("hybrid", "bm25", "dense")
BotFactory = Callable[..., PolicyBot]  # (settings, index, *, search_mode) → bot
Ingest = Callable[..., IngestReport]  # (paths, *, settings) → report


def gold_files(args: argparse.Namespace) -> list[Path]:
    if getattr(args, "gold", None):
        return [Path(g) for g in args.gold]
    return sorted(DEFAULT_GOLD.glob("*.jsonl"))


def run_mode(bot: PolicyBot, index: Retriever, items: list[GoldItem]) -> list[Scored]:
    by_id = {c.clause_id: c for c in index.clauses}
    source_files = {d.doc_id: d.source_file for d in index.docs.values()}
    rows = []
    for it in items:
        t = time.perf_counter()
        ans = bot.ask(it.question, history=it.history)
        ms = (time.perf_counter() - t) * 1000
        rank = None
        if it.answerable and it.evidence:
            hits = bot.retrieve(it.question, history=it.history, k=10)
            rank = evidence_rank([h.clause.clause_id for h in hits], by_id, it.evidence)
        rows.append(score_answer(it, ans, by_id, source_files, rank, ms))
    return rows


def ensure_index(settings: Settings, ingest: Ingest) -> None:
    report = ingest([SAMPLE_CORPUS], settings=settings)
    if report.failed:
        raise SystemExit(f"sample corpus failed to ingest: {report.failed}")


def failures_md(rows: list[Scored], limit: int = 40) -> list[str]:
    out = []
    for r in rows:
        if r.correct:
            continue
        it = r.item
        got = r.answer.answer.replace("\n", " ")[:160]
        if it.answerable:
            why = "refused" if r.answer.refused else (
                f"missing {['/'.join(g) for g in r.missing]}" if r.missing else "evidence not cited")
        else:
            why = "answered an unanswerable question"
        out.append(f"| {it.id} | {it.type} | {it.question} | {why} | {got} |")
        if len(out) >= limit:
            break
    return out


def write_report(report_dir: Path, results: dict[str, Any]) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")
    modes = results["modes"]
    keys = ["answer_accuracy", "citation_verbatim", "citation_correct", "refusal_precision", "refusal_recall",
            "recall@1", "recall@5", "recall@10", "mrr", "latency_p50_ms", "latency_p95_ms"]
    lines = ["# policybot evaluation", "", f"Gold questions: {results['questions']}  ",
             f"Index: {results['clauses']} clauses from {results['documents']} documents", "",
             "## Pipeline by retrieval mode", "", "| metric | " + " | ".join(modes) + " |",
             "|---|" + "---|" * len(modes)]
    for k in keys:
        vals = [modes[m]["summary"].get(k) for m in modes]
        lines.append(f"| {k} | " + " | ".join("—" if v is None else f"{v:.3f}" for v in vals) + " |")
    lines += ["", "## Accuracy by question type", "", "| type | n | " + " | ".join(modes) + " |",
              "|---|---|" + "---|" * len(modes)]
    types = modes["hybrid"]["per_type"]
    for t, row in types.items():
        lines.append(f"| {t} | {row['n']} | " + " | ".join(
            f"{modes[m]['per_type'].get(t, {}).get('accuracy', 0):.3f}" for m in modes) + " |")
    lines += ["", "## Failures (hybrid)", "", "| id | type | question | why | answer |", "|---|---|---|---|---|"]
    lines += results.get("failures", []) or ["| — | | | | |"]
    (report_dir / "report.md").write_text("\n".join(lines) + "\n", "utf-8")
    chart(report_dir / "accuracy_by_type.png", modes)


def chart(path: Path, modes: dict[str, Any]) -> None:
    types = list(modes["hybrid"]["per_type"].keys())
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(1, len(modes))
    for i, (m, res) in enumerate(modes.items()):
        vals = [res["per_type"].get(t, {}).get("accuracy", 0.0) for t in types]
        ax.bar([x + i * width for x in range(len(types))], vals, width, label=m)
    ax.set_xticks([x + width * (len(modes) - 1) / 2 for x in range(len(types))])
    ax.set_xticklabels(types, rotation=20)
    ax.set_ylim(0, 1.2)
    ax.set_ylabel("answer accuracy")
    ax.set_title("Answer accuracy by question type and mode")
    ax.legend(ncol=len(modes), loc="upper center")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(args: argparse.Namespace, settings: Settings, *, make_bot: BotFactory, ingest: Ingest) -> int:
    items = load_gold(gold_files(args))
    ensure_index(settings, ingest)
    bot = make_bot(settings)
    bot.warm_up()
    index = bot.index
    results: dict[str, Any] = {"questions": len(items), "clauses": len(index.clauses),
                               "documents": len(index.docs), "modes": {}}
    for mode in MODES:
        rows = run_mode(make_bot(settings, index, search_mode=mode), index, items)
        results["modes"][mode] = {"summary": summarize(rows), "per_type": per_type(rows)}
        if mode == "hybrid":
            results["failures"] = failures_md(rows)
    if not getattr(args, "no_baseline", False):
        results["modes"]["naive_rag"] = run_baseline(items, settings, index.embeddings)
    report_dir = Path(args.report) if getattr(args, "report", None) else settings.index_dir / "eval-report"
    write_report(report_dir, results)
    s = results["modes"]["hybrid"]["summary"]
    print(f"{'metric':<20}" + "".join(f"{m:>12}" for m in results["modes"]))
    for k in s:
        vals = [results["modes"][m]["summary"].get(k) for m in results["modes"]]
        print(f"{k:<20}" + "".join(f"{'—':>12}" if v is None else f"{v:>12.3f}" for v in vals))
    print(f"report: {report_dir / 'report.md'}")
    checks = [("answer_accuracy", getattr(args, "min_accuracy", None)),
              ("citation_verbatim", getattr(args, "min_citation_verbatim", None)),
              ("refusal_recall", getattr(args, "min_refusal_recall", None))]
    failed = [f"{k} {s[k]:.3f} < {v}" for k, v in checks if v is not None and s[k] < v]
    if failed:
        print("BELOW THRESHOLD: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0
