"""A naive LangChain RAG baseline on the same gold set: 500-character chunks, same embeddings, Chroma,
answer = the best chunk. It shows what structure-aware parsing and grounded answering buy."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from core.settings import Settings
from eval.metrics import GoldItem, facts_present, flat, percentile
from ingest.discover import expand_paths
from ingest.loaders import load_file
from vectorstore.dense import VECTOR_CACHE, ChromaStore, VectorCache, open_chroma, text_key
from vectorstore.embeddings import NamedEmbeddings

log = logging.getLogger(__name__)


def run_baseline(
    items: list[GoldItem], settings: Settings, emb: NamedEmbeddings, *, corpus: Path, k: int = 10
) -> dict[str, Any]:
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=500, chunk_overlap=50, separators=["\n\n", "\n", "。", "；", "，", ""]
    )
    chunks: list[tuple[str, str]] = []  # (file name, chunk text)
    for f in expand_paths([corpus]):
        for piece in splitter.split_text(load_file(f).text):
            chunks.append((f.name, piece))
    # chunk vectors are cached beside the index so repeated evaluations do not re-embed
    cache = VectorCache(settings.index_dir / VECTOR_CACHE) if settings.index_dir.exists() else None
    keys = [text_key(emb.name, t) for _, t in chunks]
    have = cache.get_many(keys) if cache else {}
    missing = [i for i, key in enumerate(keys) if key not in have]
    if missing:
        vecs = emb.embed_passages([chunks[i][1] for i in missing])
        new = {keys[i]: v for i, v in zip(missing, vecs, strict=True)}
        have.update(new)
        if cache:
            cache.put_many(new)
    mat = np.vstack([have[key] for key in keys])
    with tempfile.TemporaryDirectory() as tmp:
        store = ChromaStore(open_chroma(Path(tmp)), model=emb.name, dim=emb.dim, collection="naive_chunks")
        ids = [f"c{i}" for i in range(len(chunks))]
        store.upsert(ids, mat, [{"file": f} for f, _ in chunks])
        rows = []
        for it in items:
            t = time.perf_counter()
            q = " ".join([*it.history, it.question])
            hits = store.query(emb.embed_query_vec(q), n=k, where=None)
            ms = (time.perf_counter() - t) * 1000
            texts = [chunks[int(cid[1:])] for cid, _ in hits]
            rank = next((i + 1 for i, (f, t2) in enumerate(texts)
                         if it.evidences and f == it.doc_for(0) and flat(it.evidences[0]) in flat(t2)), None)
            best = texts[0] if texts else ("", "")
            correct = bool(it.answerable and not facts_present(best[1], it.facts) and rank == 1)
            rows.append((it, correct, rank, ms))
    answerable = [r for r in rows if r[0].answerable]
    ranked = [r for r in answerable if r[0].type not in ("metadata", "validity")]
    per_type: dict[str, dict[str, float]] = {}
    for t in sorted({r[0].type for r in rows}):
        sub = [r for r in rows if r[0].type == t]
        per_type[t] = {"n": len(sub), "accuracy": sum(r[1] for r in sub) / len(sub)}
    lat = [r[3] for r in rows]
    summary = {
        "answer_accuracy": sum(r[1] for r in answerable) / max(1, len(answerable)),
        "citation_verbatim": None,
        "citation_correct": None,
        "refusal_precision": None,
        "refusal_recall": 0.0,  # it always answers with its best chunk
        "recall@1": sum(1 for r in ranked if r[2] and r[2] <= 1) / max(1, len(ranked)),
        "recall@5": sum(1 for r in ranked if r[2] and r[2] <= 5) / max(1, len(ranked)),
        "recall@10": sum(1 for r in ranked if r[2] and r[2] <= 10) / max(1, len(ranked)),
        "mrr": sum(1 / r[2] for r in ranked if r[2]) / max(1, len(ranked)),
        "latency_p50_ms": percentile(lat, 50),
        "latency_p95_ms": percentile(lat, 95),
    }
    if cache:
        cache.close()
    return {"summary": summary, "per_type": per_type}
