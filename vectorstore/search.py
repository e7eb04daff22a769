"""The reader side of the index: catalog, clauses, BM25 and Chroma behind one hybrid search.

`PolicyIndex` is the local implementation of core.retrieval.Retriever; the bot, the web app and the
evaluation see it only through that protocol. Two ways to run it:

- an index of its own: generations as files in the index folder, vectors in embedded Chroma;
- one app server of a deployment on a Chroma server: the catalog, the clauses and the vectors live on
  the server (vectorstore.shared); the folder caches the live generation with its BM25 index, and is
  refreshed in the background when another server publishes a new one.

When the Chroma server (or an embeddings endpoint) cannot be reached, searches go on from BM25 alone,
each result says so in its warnings, and `health()` names the server, until a later try succeeds.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from core.errors import BackendUnavailable
from core.records import Clause, PolicyDocument, ScoredClause, document_status
from core.retrieval import Filters, Health, SearchMode, SearchResult, SearchTimings, note_warning
from core.settings import DeploymentTuning, RetrievalTuning
from vectorstore import catalog
from vectorstore.dense import ChromaServer, ChromaStore, forget_chroma, open_chroma, vector_collection
from vectorstore.embeddings import NamedEmbeddings
from vectorstore.lexical import LexicalIndex
from vectorstore.shared import SharedCatalog, cache_generation

log = logging.getLogger(__name__)

# shown with an answer found while dense search was unavailable (the operator's details are in /healthz)
DENSE_DOWN_WARNING = "语义检索暂时不可用，本次结果仅依据关键词检索（BM25），可能不够全面；服务恢复后自动改回混合检索。"


@dataclass
class _Outage:
    message: str
    retry_at: float  # time.monotonic() after which the server is tried again
    embeddings: bool = False  # the embeddings endpoint failed, not (only) the vector store


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
        deployment: str | None = None,
        deploy: DeploymentTuning | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.today = today
        self.tuning = tuning or RetrievalTuning()
        self.deploy = deploy or DeploymentTuning()
        self._embeddings = embeddings
        self.server = (
            ChromaServer(chroma_host, chroma_port, self.deploy.query_timeout_s, self.deploy.write_timeout_s)
            if chroma_host
            else None
        )
        self.deployment = (deployment or "default") if self.server else None
        self._store: ChromaStore | None = None
        self._store_lock = threading.Lock()
        self._shared: SharedCatalog | None = None
        self._outage: _Outage | None = None
        self._outage_lock = threading.Lock()
        self._checked_at = 0.0
        self._latest: str | None = None  # the deployment's live generation when last asked
        self._refresh: threading.Thread | None = None
        self._refresh_lock = threading.Lock()  # one refresh of the folder's cache at a time
        self._thread_lock = threading.Lock()
        self.store_summary = ""  # the last check of the store against the catalog, by whoever ran it
        self.store_ok = True
        self.generation = ""
        self.reload()

    # ---- loading -------------------------------------------------------------------------
    def reload(self) -> None:
        gen = self._load() if self.server else catalog.load_generation(self.index_dir)
        if gen is not None:
            self._install(gen)

    def _install(self, gen: catalog.Generation) -> None:
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
        # Filter columns as integer codes: np.isin over 100,000 strings took ~27 ms a search, over ints < 1 ms.
        self._region_arr = _Column([self.docs[c.doc_id].region or "" for c in self.clauses])
        self._doc_arr = _Column([c.doc_id for c in self.clauses])
        self._kind_arr = _Column([c.kind for c in self.clauses])
        self._status_arr = _Column([self.docs[c.doc_id].status for c in self.clauses])
        self._regions = {d.region or "" for d in self.docs.values()}
        self._region_size = Counter(self.docs[c.doc_id].region or "" for c in self.clauses)

    def _load(self) -> catalog.Generation | None:
        """Server mode: the deployment's live generation, from this folder's cache or fetched and cached;
        None to keep serving what is loaded when the server cannot be reached."""
        try:
            name = self._cache_live()
        except (BackendUnavailable, LookupError) as e:
            if isinstance(e, BackendUnavailable):
                self._fail(e)
            else:
                log.error("cannot read deployment %s: %s", self.deployment, e)
            if self.generation:
                return None
            cached = catalog.load_generation(self.index_dir)
            if cached.name:
                log.info("serving this folder's copy of generation %s (%d documents) until the server is back",
                            cached.name, len(cached.docs))
            return cached
        if name is None:
            own = catalog.load_generation(self.index_dir)
            if own.name and not own.deployment:
                log.info(
                    "deployment %r on %s has no documents yet, while %s holds an index of its own (%d documents): "
                    "`policybot ingest` or the app's start-up check publishes it",
                    self.deployment, self.server.address if self.server else "", self.index_dir, len(own.docs),
                )
            return catalog.Generation()
        return catalog.load_generation(self.index_dir, name)

    @property
    def shared(self) -> SharedCatalog:
        shared = self._shared
        if shared is None:
            assert self.server is not None and self.deployment is not None
            shared = self._shared = SharedCatalog(
                self.server.client(), self.deployment, address=self.server.address
            )
        return shared

    def _cache_live(self) -> str | None:
        """Make sure this folder holds the deployment's live generation; its name (None: nothing published)."""
        with self._refresh_lock:
            pointer = self.shared.pointer()
            if pointer is None:
                return None
            if not catalog.has_generation(self.index_dir, pointer.name):
                t = time.perf_counter()
                gen = self.shared.load(pointer)
                cache_generation(self.index_dir, gen)
                log.info("cached generation %s of deployment %s: %d documents, %d clauses in %.1f s", gen.name,
                         self.deployment, len(gen.docs), len(gen.clauses), time.perf_counter() - t)
            return pointer.name

    def is_current(self) -> bool:
        if self.server is None:
            return catalog.current_name(self.index_dir) == self.generation
        now = time.monotonic()
        if now - self._checked_at >= self.deploy.generation_check_s and self._may_try():
            self._checked_at = now
            try:
                self._latest = self.shared.current_name()
            except BackendUnavailable as e:
                self._fail(e)
        latest = self._latest
        if latest is None or latest == self.generation:
            return True
        if catalog.has_generation(self.index_dir, latest):
            return False
        # building the new generation's BM25 index takes a while on a large collection: the old one
        # keeps serving meanwhile, and the first check after the refresh reports the change
        with self._thread_lock:  # not the refresh's own lock: requests must not wait for the refresh
            if self._refresh is None or not self._refresh.is_alive():
                self._refresh = threading.Thread(target=self._refresh_cache, name="generation-refresh", daemon=True)
                self._refresh.start()
        return True

    def _refresh_cache(self) -> None:
        try:
            self._cache_live()
        except BackendUnavailable as e:
            self._fail(e)
        except Exception:
            log.exception("could not cache the live generation of deployment %s", self.deployment)

    # ---- the dense side and its outages --------------------------------------------------------
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
                    if self.server is None:
                        forget_chroma(self.index_dir)
                        client, address = open_chroma(self.index_dir), None
                    else:
                        client, address = self.server.client(), self.server.address
                    store = self._store = ChromaStore(
                        client,
                        model=self.embeddings.name,
                        dim=self.embeddings.dim,
                        collection=vector_collection(self.deployment),
                        address=address,
                    )
        return store

    def _may_try(self) -> bool:
        o = self._outage
        return o is None or time.monotonic() >= o.retry_at

    def _fail(self, e: BackendUnavailable, *, embeddings: bool = False) -> None:
        with self._outage_lock:
            first = self._outage is None
            self._outage = _Outage(str(e), time.monotonic() + self.deploy.retry_after_s, embeddings)
            self._store = None  # reconnect on the next try: the server may come back with new collections
            self._shared = None
        if first:
            log.warning("dense search unavailable: %s; answering from BM25 alone until it is back", e)

    def _recovered(self) -> None:
        if self._outage is not None:
            with self._outage_lock:
                was, self._outage = self._outage, None
            if was is not None:
                log.warning("dense search is back (%s)", self.server.address if self.server else "embeddings")

    def snapshot(self) -> catalog.Generation:
        """The generation this index serves, as loaded (for a check that must not read it again)."""
        return catalog.Generation(name=self.generation, docs=self.docs, clauses=self.clauses,
                                  deployment=self.deployment or "")

    def note_store_check(self, summary: str, ok: bool) -> None:
        self.store_summary, self.store_ok = summary, ok

    def health(self) -> Health:
        o = self._outage
        return Health(
            dense=o is None,
            detail=o.message if o else "",
            store=self.store_summary,
            store_ok=self.store_ok,
            deployment=self.deployment,
            generation=self.generation,
        )

    def warm_up(self) -> None:
        """Load models and the vector index now, so the first user does not wait."""
        try:
            self.embeddings.warm_up()
        except BackendUnavailable as e:
            self._fail(e)
        if self.clauses:
            self.search("预热", k=1)

    # ---- filters -------------------------------------------------------------------------
    def mask(self, f: Filters | None) -> np.ndarray | None:
        if f is None or f.is_empty():
            return None
        m = np.ones(len(self.clauses), dtype=bool)
        if f.regions:
            m &= self._region_arr.isin(f.regions)
        if f.doc_ids:
            m &= self._doc_arr.isin(f.doc_ids)
        if f.kinds:
            m &= self._kind_arr.isin(f.kinds)
        if f.statuses:
            m &= self._status_arr.isin(f.statuses)
        if f.lead_unit:
            m &= np.array([any(f.lead_unit in u for u in c.lead_units) for c in self.clauses], dtype=bool)
        if f.deadline_year:
            y = str(f.deadline_year)
            m &= np.array([bool(c.deadline and (c.deadline.date or "").startswith(y)) for c in self.clauses])
        return m

    def _partitions(self, f: Filters | None) -> list[str] | None:
        """The regions a filtered dense search can be confined to (their small collections answer), or
        None when the filter does not narrow the regions enough and the whole collection answers."""
        if f is None:
            return None
        if f.regions:
            regions = set(f.regions) & self._regions
        elif f.doc_ids:
            regions = {self.docs[d].region or "" for d in f.doc_ids if d in self.docs}
        else:
            return None
        return sorted(regions) if len(regions) <= self.tuning.max_partitions else None

    @staticmethod
    def _where(f: Filters | None, *, region: bool = True) -> dict[str, Any] | None:
        if f is None:
            return None
        conds: list[dict[str, Any]] = []
        if f.regions and region:
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
        """Raises BackendUnavailable when an embeddings endpoint cannot be reached (or failed moments ago:
        each question then goes on at once without the vector instead of waiting for a dead endpoint)."""
        o = self._outage
        if o is not None and o.embeddings and not self._may_try():
            raise BackendUnavailable(o.message)
        try:
            return self.embeddings.embed_query_vec(text)
        except BackendUnavailable as e:
            self._fail(e, embeddings=True)
            raise

    def dense_ranking(
        self,
        query: str,
        *,
        filters: Filters | None,
        mask: np.ndarray | None,
        n: int,
        timings: SearchTimings,
        query_vector: np.ndarray | None = None,
    ) -> list[tuple[int, float]] | None:
        """Dense hits as (clause index, similarity); None when dense search is unavailable."""
        if not self._may_try():
            return None
        try:
            qv = query_vector
            if qv is None:
                t = time.perf_counter()
                qv = self.embeddings.embed_query_vec(query)
                timings.embed_ms += (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            out = self._nearest(qv, filters=filters, mask=mask, n=n)
            timings.dense_ms += (time.perf_counter() - t) * 1000
        except BackendUnavailable as e:
            self._fail(e)
            return None
        self._recovered()
        return out

    def _nearest(
        self, vector: np.ndarray, *, filters: Filters | None, mask: np.ndarray | None, n: int
    ) -> list[tuple[int, float]]:
        """The n nearest clauses the filter allows, as (clause index, similarity).

        Chroma's metadata filter costs tens to hundreds of milliseconds on a large collection, so a filter
        that keeps a fair share of what is searched is applied here instead: an unfiltered search for
        more hits, kept by the mask, and searched again for more only when too few pass. A filter that
        keeps too small a share for that goes to Chroma with its `where`, as do searches past the limit.
        """
        parts = self._partitions(filters)
        searched = len(self.clauses) if parts is None else sum(self._region_size[p] for p in parts)
        kept = searched if mask is None else int(mask.sum())
        if kept == 0:
            return []
        if kept >= searched:  # nothing to filter beyond the partitions asked
            return self._allowed(self.store.query(vector, n=n, where=None, partitions=parts), mask)
        tune = self.tuning
        want = min(n, kept)
        k = math.ceil(want * searched / kept * tune.postfilter_margin)
        while k <= tune.postfilter_max_k:
            hits = self.store.query(vector, n=k, where=None, partitions=parts)
            out = self._allowed(hits, mask)
            if len(out) >= want or len(hits) < k:  # enough, or everything searched has been seen
                return out[:n]
            if k == tune.postfilter_max_k:
                break
            # fewer passed near this question than the filter's share overall: ask again, at most the limit
            k = min(tune.postfilter_max_k, math.ceil(k * want / max(len(out), 1) * tune.postfilter_margin))
        where = self._where(filters, region=parts is None)
        return self._allowed(self.store.query(vector, n=n, where=where, partitions=parts), mask)

    def _allowed(self, hits: list[tuple[str, float]], mask: np.ndarray | None) -> list[tuple[int, float]]:
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
            if dn is None:
                result.warnings.append(DENSE_DOWN_WARNING)
                note_warning(DENSE_DOWN_WARNING)
                dn = []
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
        return list(self.clauses) if m is None else [self.clauses[i] for i in np.flatnonzero(m)]

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

    def words(self, min_clauses: int = 1) -> list[str]:
        return self.lexical.words(min_clauses)


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


class _Column:
    """One string per clause, stored as integer codes for fast membership masks."""

    def __init__(self, values: list[str]) -> None:
        self._code: dict[str, int] = {}
        self.codes = np.array([self._code.setdefault(v, len(self._code)) for v in values], dtype=np.int32)

    def isin(self, wanted: list[str]) -> np.ndarray:
        return np.isin(self.codes, [self._code[v] for v in wanted if v in self._code])
