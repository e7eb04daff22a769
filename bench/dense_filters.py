"""Filtered dense search: Chroma's metadata filter (before) against the post-filter (an unfiltered search for
more hits kept by the filter's mask), each compared with the exact answer of a brute-force scan of the
allowed clauses' vectors.

The filters are those the bot sends while answering the tuning set's questions (follow-ups with their
earlier turns), plus --broad random filters the questions do not make: sets of 9 or more regions, a
document's copies in every region, random sets of documents. Reported per kind of filter: latency of each
way, how many of the searches return the exact top 10 / top 50, the top-50 overlap with the exact answer,
how many post-filtered searches return the same hits as the filtered query, and how many asked again.

    .venv/bin/python bench/dense_filters.py --index DIR/synthetic-index [--broad 60] [--margins 1,1.5,2,3]

Run it on a copy of an index: opening an index checks its vector store and may repair it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from core.retrieval import Filters  # noqa: E402
from core.settings import Settings  # noqa: E402
from vectorstore.search import PolicyIndex  # noqa: E402

GOLD = ROOT / "eval" / "sets" / "tuning.jsonl"


@dataclass
class Case:
    kind: str
    filters: Filters
    vector: np.ndarray
    mask: np.ndarray
    exact: list[int] = field(default_factory=list)
    before: list[int] = field(default_factory=list)
    before_ms: float = 0.0
    searched: int = 0  # clauses in the collections searched: the whole one, or the partitions'


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.asarray(xs), p)) if xs else float("nan")


def bot_filters(settings: Settings) -> tuple[PolicyIndex, list[tuple[Filters, np.ndarray]]]:
    """The index, and (filters, query vector) of every filtered search the bot makes answering the tuning set."""
    from bot import chat
    from eval.metrics import load_gold
    from policybot.wiring import make_bot

    chat.TURN_CACHE = 0  # earlier turns are answered again, as bench/ask.py times them
    bot = make_bot(settings)
    index = bot.index
    seen: list[tuple[Filters, np.ndarray]] = []
    search = index.search

    def spy(query: str, **kw):  # type: ignore[no-untyped-def]
        f = kw.get("filters")
        if f is not None and not f.is_empty():
            qv = kw.get("query_vector")
            seen.append((f, qv if qv is not None else index.embed_query(query)))
        return search(query, **kw)

    index.search = spy  # type: ignore[method-assign]
    for it in load_gold([GOLD]):
        bot.ask(it.question, history=it.history)
    index.search = search  # type: ignore[method-assign]
    return index, seen


def broad_filters(index: PolicyIndex, vectors: list[np.ndarray], n: int, seed: int) -> list[tuple[Filters, np.ndarray]]:
    rng = random.Random(seed)
    docs = list(index.docs.values())
    regions = sorted({d.region or "" for d in docs})
    out: list[tuple[Filters, np.ndarray]] = []
    for i in range(n):
        qv = vectors[rng.randrange(len(vectors))]
        if i % 3 == 0 and len(regions) > 9:
            f = Filters(regions=rng.sample(regions, rng.randint(9, len(regions) - 1)))
        elif i % 3 == 1:  # one document's copies: the same title after its region
            tail = rng.choice(docs).title[-8:]
            f = Filters(doc_ids=[d.doc_id for d in docs if d.title.endswith(tail)])
        else:
            lo = min(10, max(1, len(docs) // 2))
            f = Filters(doc_ids=[d.doc_id for d in rng.sample(docs, rng.randint(lo, max(lo, min(200, len(docs) - 1))))])
        out.append((f, qv))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="filtered dense search: Chroma's filter vs the post-filter")
    p.add_argument("--index", type=Path, required=True)
    p.add_argument("--broad", type=int, default=60)
    p.add_argument("--margins", default="", help="post-filter margins to compare (default: the setting)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)

    settings = Settings(index_dir=args.index, today=dt.date(2026, 11, 22))
    index, searches = bot_filters(settings)
    store, n = index.store, index.tuning.pool
    searches += broad_filters(index, [v for _, v in searches], args.broad, args.seed)

    ids = [c.clause_id for c in index.clauses]
    got = store.vectors(ids)
    matrix = np.vstack([got[i] for i in ids])
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)

    cases: list[Case] = []
    for f, qv in searches:
        mask = index.mask(f)
        assert mask is not None
        parts = index._partitions(f)
        kind = ("documents" if f.doc_ids else "regions") + (" → partitions" if parts is not None else " → whole")
        c = Case(kind, f, qv, mask)
        c.searched = len(ids) if parts is None else int(index._region_arr.isin(parts).sum())
        sims = np.where(mask, matrix @ (qv / np.linalg.norm(qv)), -np.inf)
        c.exact = [int(i) for i in np.argsort(-sims, kind="stable")[: min(n, int(mask.sum()))]]
        # before: Chroma's filtered query (the whole collection's `where`, or the partitions' with the rest)
        t = time.perf_counter()
        hits = store.query(qv, n=n, where=index._where(f, region=parts is None), partitions=parts)
        c.before_ms = (time.perf_counter() - t) * 1000
        c.before = [index.by_id[cid] for cid, _ in hits if cid in index.by_id and mask[index.by_id[cid]]]
        cases.append(c)

    asked = [0]
    query = store.query

    def counting(*a, **kw):  # type: ignore[no-untyped-def]
        asked[0] += 1
        return query(*a, **kw)

    store.query = counting  # type: ignore[method-assign]
    margins = [float(m) for m in args.margins.split(",") if m] or [index.tuning.postfilter_margin]
    load = os.getloadavg()
    print(f"index: {args.index}  clauses: {len(index.clauses)}  searches: {len(cases)} "
          f"({len(cases) - args.broad} from the tuning set, {args.broad} broad)  n = {n}  "
          f"load average {load[0]:.2f} {load[1]:.2f}")
    kinds = sorted({c.kind for c in cases})
    totals = {m: [0, 0, 0, 0] for m in margins}  # same as before, exact 50 after, exact 50 before, asked again
    for kind in kinds:
        cs = [c for c in cases if c.kind == kind]
        kept = statistics.median(int(c.mask.sum()) for c in cs)
        share = statistics.median(c.mask.sum() / c.searched for c in cs)
        before_ms = [c.before_ms for c in cs]
        print(f"\n{kind}: {len(cs)} searches; the filter keeps {kept:.0f} clauses, {share:.1%} of those searched "
              "(medians)")
        print(f"  {'way':<24}{'ms p50 / p95':>16}{'exact 10':>10}{'exact 50':>10}{'overlap':>9}"
              f"{'same as before':>16}{'asked again':>13}")
        print(f"  {'Chroma filter (before)':<24}{pct(before_ms, 50):>7.1f} / {pct(before_ms, 95):<6.1f}"
              f"{sum(c.before[:10] == c.exact[:10] for c in cs):>10}{sum(c.before == c.exact for c in cs):>10}"
              f"{statistics.mean(len(set(c.before) & set(c.exact)) / max(1, len(c.exact)) for c in cs):>9.4f}")
        for m in margins:
            index.tuning.postfilter_margin = m
            ms, same, exact10, exact50, again, overlap = [], 0, 0, 0, 0, []
            for c in cs:
                asked[0] = 0
                t = time.perf_counter()
                after = [i for i, _ in index._nearest(c.vector, filters=c.filters, mask=c.mask, n=n)]
                ms.append((time.perf_counter() - t) * 1000)
                same += after == c.before
                exact10 += after[:10] == c.exact[:10]
                exact50 += after == c.exact
                again += asked[0] > 1
                overlap.append(len(set(after) & set(c.exact)) / max(1, len(c.exact)))
            t = totals[m]
            t[0] += same
            t[1] += exact50
            t[2] += sum(c.before == c.exact for c in cs)
            t[3] += again
            print(f"  {f'post-filter, margin {m:g}':<24}{pct(ms, 50):>7.1f} / {pct(ms, 95):<6.1f}{exact10:>10}"
                  f"{exact50:>10}{statistics.mean(overlap):>9.4f}{same:>16}{again:>13}")
    print()
    for m, (same, ex_after, ex_before, again) in totals.items():
        print(f"margin {m:g}: same hits as Chroma's filter {same}/{len(cases)}; exact top 50 {ex_after} "
              f"(Chroma's filter {ex_before}); asked again {again}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
