"""The reader side of the index: catalog, clauses, BM25 and Chroma behind one hybrid search.

`PolicyIndex` is the local implementation of core.retrieval.Retriever (vectors in embedded Chroma or
on a Chroma server); the bot, the web app and the evaluation see it only through that protocol.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from core.records import Clause, PolicyDocument, ScoredClause, document_status
from core.retrieval import Filters, SearchMode, SearchResult, SearchTimings
from core.settings import RetrievalTuning
from vectorstore import catalog
from vectorstore.dense import ChromaStore, collection_name, forget_chroma, open_chroma
from vectorstore.embeddings import NamedEmbeddings
from vectorstore.lexical import LexicalIndex

log = logging.getLogger(__name__)


class PolicyIndex:
    """Opened once per process; `search` is safe to call from several threads."""

    def __init__(
        self,
        index_dir: Path,
        *,
        embeddings: NamedEmbeddings | None = None,
        chroma_host: str | None = None,
        chroma_port: int = 8000,
        today: dt.date | None = None,
        tuning: RetrievalTuning | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.today = today
        self.tuning = tuning or RetrievalTuning()
        self._embeddings = embeddings
        self._chroma_host = chroma_host
        self._chroma_port = chroma_port
        self._store: ChromaStore | None = None
        self._store_lock = threading.Lock()
        self.generation = ""
        self.reload()

    # ---- loading -------------------------------------------------------------------------
    def reload(self) -> None:
        gen = catalog.load_generation(self.index_dir)
        if gen.name != self.generation:
            self._store = None  # reopened on next use, so it sees the vectors of the new generation
        self.generation = gen.name
        if self.today is not None:
            for d in gen.docs.values():
                # a period that ended since the last ingest makes the document expired today
                d.status = document_status(
                    draft=d.status == "draft", period_end=d.period_end, valid_until=d.valid_until, today=self.today
                )
        self.docs: dict[str, PolicyDocument] = gen.docs
        self.clauses: list[Clause] = gen.clauses
        self.by_id: dict[str, int] = {c.clause_id: i for i, c in enumerate(self.clauses)}
        lex_dir = catalog.generation_dir(self.index_dir, gen.name) / "lexical" if gen.name else None
        self.lexical = LexicalIndex.load(lex_dir) if lex_dir and lex_dir.exists() else LexicalIndex.build([], [])
        self._region_arr = np.array([self.docs[c.doc_id].region or "" for c in self.clauses], dtype=object)
        self._doc_arr = np.array([c.doc_id for c in self.clauses], dtype=object)
        self._kind_arr = np.array([c.kind for c in self.clauses], dtype=object)
        self._status_arr = np.array([self.docs[c.doc_id].status for c in self.clauses], dtype=object)

    def is_current(self) -> bool:
        return catalog.current_name(self.index_dir) == self.generation

    @property
    def embeddings(self) -> NamedEmbeddings:
        if self._embeddings is None:
            raise RuntimeError("PolicyIndex opened without embeddings: dense search unavailable")
        return self._embeddings

    @property
    def store(self) -> ChromaStore:
        store = self._store
        if store is None:
            with self._store_lock:
                store = self._store
                if store is None:
                    if not self._chroma_host:
                        forget_chroma(self.index_dir)
                    client = open_chroma(self.index_dir, host=self._chroma_host, port=self._chroma_port)
                    store = self._store = ChromaStore(
                        client,
                        model=self.embeddings.name,
                        dim=self.embeddings.dim,
                        collection=collection_name(self.index_dir, self._chroma_host),
                    )
        return store

    def warm_up(self) -> None:
        """Load models and the vector index now, so the first user does not wait."""
        self.embeddings.warm_up()
        if self.clauses:
            self.search("预热", k=1)

    # ---- filters -------------------------------------------------------------------------
    def mask(self, f: Filters | None) -> np.ndarray | None:
        if f is None or f.is_empty():
            return None
        m = np.ones(len(self.clauses), dtype=bool)
        if f.regions:
            m &= np.isin(self._region_arr, f.regions)
        if f.doc_ids:
            m &= np.isin(self._doc_arr, f.doc_ids)
        if f.kinds:
            m &= np.isin(self._kind_arr, f.kinds)
        if f.statuses:
            m &= np.isin(self._status_arr, f.statuses)
        if f.lead_unit:
            m &= np.array([any(f.lead_unit in u for u in c.lead_units) for c in self.clauses], dtype=bool)
        if f.deadline_year:
            y = str(f.deadline_year)
            m &= np.array([bool(c.deadline and (c.deadline.date or "").startswith(y)) for c in self.clauses])
        return m

    @staticmethod
    def _where(f: Filters | None) -> dict[str, Any] | None:
        if f is None:
            return None
        conds: list[dict[str, Any]] = []
        if f.regions:
            conds.append({"region": {"$in": list(f.regions)}})
        if f.doc_ids:
            conds.append({"doc_id": {"$in": list(f.doc_ids)}})
        if f.kinds:
            conds.append({"kind": {"$in": list(f.kinds)}})
        # status is not pushed down: it depends on today, so it is applied from the catalog (the mask)
        if f.deadline_year:
            conds.append({"deadline_year": f.deadline_year})
        if not conds:
            return None
        return conds[0] if len(conds) == 1 else {"$and": conds}

    # ---- ranking -------------------------------------------------------------------------
    def bm25_ranking(self, query: str, *, mask: np.ndarray | None, n: int) -> list[tuple[int, float]]:
        scores = self.lexical.scores(query)
        if len(scores) != len(self.clauses):
            return []
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n] if n else np.array([], dtype=int)
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def embed_query(self, text: str) -> np.ndarray:
        return self.embeddings.embed_query_vec(text)

    def dense_ranking(
        self,
        query: str,
        *,
        filters: Filters | None,
        mask: np.ndarray | None,
        n: int,
        timings: SearchTimings,
        query_vector: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        qv = query_vector
        if qv is None:
            t = time.perf_counter()
            qv = self.embed_query(query)
            timings.embed_ms += (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        hits = self.store.query(qv, n=n, where=self._where(filters))
        timings.dense_ms += (time.perf_counter() - t) * 1000
        out = []
        for cid, sim in hits:
            i = self.by_id.get(cid)  # vectors of other generations are ignored
            if i is not None and (mask is None or mask[i]):
                out.append((i, sim))
        return out

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        filters: Filters | None = None,
        mode: SearchMode = "hybrid",
        query_vector: np.ndarray | None = None,
    ) -> SearchResult:
        t0 = time.perf_counter()
        result = SearchResult()
        timings = result.timings
        if not self.clauses or not query.strip():
            return result
        mask = self.mask(filters)
        if mask is not None and not mask.any():
            return result
        tune = self.tuning
        fused: dict[int, float] = {}
        similarity: dict[int, float] = {}
        if mode in ("bm25", "hybrid"):
            t = time.perf_counter()
            bm = self.bm25_ranking(query, mask=mask, n=tune.pool)
            timings.bm25_ms += (time.perf_counter() - t) * 1000
            if mode == "bm25":
                fused = {i: s for i, s in bm}
            else:
                for rank, (i, _) in enumerate(bm):
                    fused[i] = fused.get(i, 0.0) + tune.bm25_weight / (tune.rrf_k + rank + 1)
        if mode in ("dense", "hybrid"):
            dn = self.dense_ranking(
                query, filters=filters, mask=mask, n=tune.pool, timings=timings, query_vector=query_vector
            )
            similarity = dict(dn)
            if mode == "dense":
                fused = {i: s for i, s in dn}
            else:
                for rank, (i, _) in enumerate(dn):
                    fused[i] = fused.get(i, 0.0) + tune.dense_weight / (tune.rrf_k + rank + 1)
        ranked = sorted(fused.items(), key=lambda x: -x[1])[:k]
        result.hits = [
            ScoredClause(self.clauses[i], s, self.docs.get(self.clauses[i].doc_id), dense=similarity.get(i))
            for i, s in ranked
        ]
        timings.total_ms = (time.perf_counter() - t0) * 1000
        return result

    def matching(self, filters: Filters) -> list[Clause]:
        m = self.mask(filters)
        return list(self.clauses) if m is None else [c for i, c in enumerate(self.clauses) if m[i]]

    def clause(self, clause_id: str) -> Clause | None:
        i = self.by_id.get(clause_id)
        return self.clauses[i] if i is not None else None

    def tokenize(self, text: str) -> list[str]:
        return self.lexical.tokenizer(text)

    def term_weights(self, terms: list[str]) -> dict[str, float]:
        n = len(self.clauses)
        return {t: math.log(1 + (n + 1) / (self.lexical.doc_freq(t) + 0.5)) for t in terms}

    def doc_freq(self, term: str) -> int:
        return self.lexical.doc_freq(term)


class HybridRetriever(BaseRetriever):
    """The index as a langchain retriever (for chains that expect one)."""

    index: Any
    k: int = 5
    filters: Any = None
    mode: str = "hybrid"

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.index.search(query, k=self.k, filters=self.filters, mode=self.mode).hits
        return [
            Document(
                page_content=h.clause.text,
                metadata={"clause_id": h.clause.clause_id, "doc_id": h.clause.doc_id, "path": h.clause.label,
                          "score": h.score, "region": h.document.region if h.document else None},
            )
            for h in hits
        ]
