"""Warm `ask` latency: p50/p95 per question, split into query embedding, BM25, dense search and the rest.

The rest is the bot's own stages (understanding, evidence, composing) and a follow-up's earlier turns; a
query vector the understanding computes (to classify the question) is counted there too, not as embedding.

    python bench/ask.py                      # builds (or reuses) an index of data/policies in a temp dir
    python bench/ask.py --index DIR          # any index, e.g. the synthetic one bench/retrieval.py keeps
    python bench/ask.py --repeat 3           # each question (tuning, test-sample) asked 3 times after a warm-up
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))] if s else 0.0


def main(argv: list[str] | None = None) -> int:
    from bot import chat
    from core.settings import Settings
    from eval.metrics import load_gold
    from policybot.wiring import ingest_paths, make_bot

    # The bot remembers resolved turns (a conversation's earlier turns are not answered again); timed here
    # is answering, so nothing is recalled: a follow-up also pays for resolving its earlier turns.
    chat.TURN_CACHE = 0

    p = argparse.ArgumentParser(description="warm ask latency")
    p.add_argument("--index", type=Path)
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args(argv)

    tmp = None
    index_dir = args.index
    if index_dir is None:
        tmp = tempfile.TemporaryDirectory()
        index_dir = Path(tmp.name) / "index"
    settings = Settings(index_dir=index_dir, today=dt.date(2026, 11, 22))
    if args.index is None:
        ingest_paths([ROOT / "data" / "policies"], settings=settings)
    bot = make_bot(settings)
    t = time.perf_counter()
    bot.warm_up()
    warm_s = time.perf_counter() - t
    items = load_gold([ROOT / "eval" / "sets" / "tuning.jsonl", ROOT / "eval" / "sets" / "test-sample.jsonl"])
    for it in items:  # one pass to warm caches (jieba, Chroma segments, numpy)
        bot.ask(it.question, history=it.history)
    total, embed, bm25, dense, rest = [], [], [], [], []
    for _ in range(args.repeat):
        for it in items:
            ans = bot.ask(it.question, history=it.history)
            tm = ans.timings
            total.append(tm.get("total_ms", 0.0))
            embed.append(tm.get("embed_ms", 0.0))
            bm25.append(tm.get("bm25_ms", 0.0))
            dense.append(tm.get("dense_ms", 0.0))
            rest.append(total[-1] - embed[-1] - bm25[-1] - dense[-1])
    print(f"index: {index_dir}  clauses: {len(bot.index.clauses)}  questions: {len(total)}  warm-up: {warm_s:.2f} s")
    print(f"{'part':<18}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
    for name, xs in (("total ask", total), ("query embedding", embed), ("bm25", bm25),
                     ("dense (chroma)", dense), ("rest of the ask", rest)):
        print(f"{name:<18}{statistics.median(xs):>10.1f}{pct(xs, 95):>10.1f}{statistics.fmean(xs):>10.1f}")
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
