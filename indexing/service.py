"""Incremental ingest: discover → parse → diff against the live generation → embed → write → swap.

Each step is a function of its own; `Indexer.ingest` runs them in order under the single-writer lock.
A killed ingest leaves at worst an unreferenced generation and orphan vectors, never a half-written
index: the DIRTY marker tells the next ingest to clean them up. Before the swap the new generation is
checked against the vector store, and missing vectors are restored from the vector cache (or embedded).

In server mode (POLICYBOT_CHROMA_HOST) the live generation is the deployment's, read from the Chroma
server; the lock is held there too, so one server of the deployment writes at a time, and every write
starts from what the others published: an ingest can remove only what it replaced or was told to remove.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import IndexLocked, LoadError
from core.records import Clause, PolicyDocument
from core.settings import IngestTuning, Settings
from indexing.lock import writer_lock
from ingest.archive import UnpackLimits
from ingest.batch import batch_warning
from ingest.discover import Discovery, discover
from ingest.pipeline import PARSER_VERSION, file_sha256, parse_document
from vectorstore import catalog
from vectorstore.consistency import Repair, StoreCheck, check_store, repair
from vectorstore.dense import (
    PARTITION_KEY,
    VECTOR_CACHE,
    ChromaServer,
    ChromaStore,
    VectorCache,
    open_chroma,
    text_key,
    vector_collection,
)
from vectorstore.embeddings import NamedEmbeddings
from vectorstore.lexical import write_lexical
from vectorstore.representation import chroma_metadata, embed_text
from vectorstore.shared import SharedCatalog, SharedWriterLock, cache_generation, shared_writer_lock

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]  # (stage, done, total)
# Present from a writer's first Chroma write until its cleanup is done. A killed writer leaves it behind,
# with orphan vectors or an unreferenced generation, and the next ingest cleans up even when no file changed.
DIRTY = "ingest.dirty"
_MB = 1024 * 1024


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # files in the folders not read, and why
    errors: list[tuple[str, str]] = field(default_factory=list)  # named paths nothing was read from (missing, empty)
    warnings: list[str] = field(default_factory=list)  # the batch as a whole (e.g. not policy documents)
    documents: int = 0
    clauses: int = 0
    embedded: int = 0
    seconds: float = 0.0
    store: str = ""  # the catalog-vs-store check of the live generation, after any repair
    store_ok: bool = True
    repaired: int = 0  # vectors restored (from the cache, embedded, or copied into a partition)
    generation: str = ""  # the live generation afterwards

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass
class Parsed:
    """Documents read in this run, by doc_id, and which live documents they replace."""

    docs: dict[str, PolicyDocument] = field(default_factory=dict)
    clauses: dict[str, list[Clause]] = field(default_factory=dict)
    replaced: set[str] = field(default_factory=set)


# ---- the steps ---------------------------------------------------------------------------------
def parse_changed(
    files: list[Path],
    live: catalog.Generation,
    report: IngestReport,
    *,
    today: dt.date,
    max_bytes: int,
    max_clause_chars: int,
    progress: Progress | None = None,
    tuning: IngestTuning | None = None,
    unpack: UnpackLimits | None = None,
) -> Parsed:
    """Parse the files that are new or changed since the live generation; skip the others."""
    by_path = {d.source_path: d for d in live.docs.values()}
    out = Parsed()
    for i, f in enumerate(files):
        if progress:
            progress("parse", i + 1, len(files))
        key = str(f)
        try:
            if not f.exists():
                raise LoadError("file not found")
            sha = file_sha256(f)
            prev = by_path.get(key)
            if prev and prev.sha256 == sha and live.parser_version == PARSER_VERSION:
                report.skipped.append(key)
                continue
            doc, clauses = parse_document(
                f, today=today, max_bytes=max_bytes, max_clause_chars=max_clause_chars, sha256=sha, tuning=tuning,
                unpack=unpack,
            )
        except LoadError as e:
            report.failed.append((key, str(e)))
            log.warning("ingest failed for %s: %s", key, e)
            continue
        except Exception as e:  # a parser bug on one file must not cost the batch the other files
            log.exception("ingest failed for %s", key)
            report.failed.append((key, f"内部错误 / internal error while parsing ({type(e).__name__}); see the log"))
            continue
        if prev:
            out.replaced.add(prev.doc_id)
            report.updated.append(key)
        else:
            report.added.append(key)
        out.docs[doc.doc_id] = doc
        out.clauses[doc.doc_id] = clauses
    return out


def _under(path: str, roots: list[Path]) -> bool:
    rp = Path(path).resolve()
    for r in roots:
        rr = r.resolve()
        if rp == rr or rr in rp.parents:
            return True
    return False


def diff(
    live: catalog.Generation,
    parsed: Parsed,
    paths: list[Path],
    report: IngestReport,
    *,
    remove_doc_ids: list[str] | None = None,
    origin: str = "",
) -> tuple[dict[str, PolicyDocument], list[Clause], list[Clause]]:
    """The next generation's documents and clauses, and the clauses that are new in it.

    A document whose file is gone leaves only if this server added it (its origin): on a shared
    deployment another server's file paths mean nothing here."""
    keep = {i: d for i, d in live.docs.items() if i not in parsed.replaced and i not in parsed.docs}
    # a file gone from a folder that was named again, or a document named for removal, leaves the index
    roots = [p for p in paths if p.is_dir()] + [p for p in paths if not p.exists()]
    for d in list(keep.values()):
        ours = live.origins.get(d.doc_id, "") in ("", origin)
        gone = ours and not Path(d.source_path).exists() and _under(d.source_path, roots)
        if gone or d.doc_id in (remove_doc_ids or []):
            keep.pop(d.doc_id)
            report.removed.append(d.source_path)
    docs = {**keep, **parsed.docs}
    new = [c for cl in parsed.clauses.values() for c in cl]
    clauses = [c for c in live.clauses if c.doc_id in keep] + new
    return docs, clauses, new


def embed_new(
    clauses: list[Clause],
    docs: dict[str, PolicyDocument],
    embeddings: NamedEmbeddings,
    cache: VectorCache,
    progress: Progress | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for the clauses, from the content-hash cache where it has them; (matrix, newly embedded)."""
    keys = [text_key(embeddings.name, embed_text(c, docs[c.doc_id])) for c in clauses]
    cached = cache.get_many(keys, model=embeddings.name)
    missing = [i for i, k in enumerate(keys) if k not in cached]
    batch = 32
    for start in range(0, len(missing), batch):
        idx = missing[start : start + batch]
        vecs = embeddings.embed_passages([embed_text(clauses[i], docs[clauses[i].doc_id]) for i in idx])
        new = {keys[i]: v for i, v in zip(idx, vecs, strict=True)}
        cache.put_many(new, model=embeddings.name)
        cached.update(new)
        if progress:
            progress("embed", min(start + batch, len(missing)), len(missing))
    mat = np.vstack([cached[k] for k in keys]) if keys else np.zeros((0, embeddings.dim), np.float32)
    return mat.astype(np.float32), len(missing)


def write(
    index_dir: Path,
    store: ChromaStore,
    docs: dict[str, PolicyDocument],
    clauses: list[Clause],
    new: list[Clause],
    vectors: np.ndarray,
    embedding_model: str,
    *,
    shared: SharedCatalog | None = None,
    fresh_docs: set[str] | None = None,
    origins: dict[str, str] | None = None,
    holder: str = "",
) -> catalog.Generation:
    """Upsert the new vectors, then write the generation's files beside the live one (not yet current);
    in server mode also the records of the documents the engine does not hold yet (`fresh_docs` and any
    it lacks)."""
    # new vectors go in before the swap, stale ones leave after it: readers of either
    # generation find every vector they need (they ignore ids outside their generation)
    (index_dir / DIRTY).touch()
    if shared is not None:
        shared.mark_dirty(holder)
    store.upsert([c.clause_id for c in new], vectors, [chroma_metadata(c, docs[c.doc_id]) for c in new])
    # the random part keeps two ingests of one process within one second apart: a reused name
    # would rewrite the live generation in place and leave readers' is_current() wrongly true
    gen = catalog.Generation(
        name=f"gen-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{secrets.token_hex(4)}",
        docs=docs,
        clauses=clauses,
        embedding_model=embedding_model,
        parser_version=PARSER_VERSION,
        origins=dict(origins or {}),
        deployment=shared.deployment if shared is not None else "",
    )
    if shared is None:
        gen_dir = catalog.write_generation(index_dir, gen)
        write_lexical(gen_dir, docs, clauses)
        return gen
    needed = (set(fresh_docs or ()) | (set(docs) - shared.document_ids())) & set(docs)
    shared.put_documents({d: docs[d] for d in docs if d in needed}, [c for c in clauses if c.doc_id in needed])
    with catalog.folder_lock(index_dir):
        catalog.write_generation_atomically(index_dir, gen, [lambda d: write_lexical(d, docs, clauses)])
    return gen


def reconcile(
    store: ChromaStore,
    gen: catalog.Generation,
    *,
    cache: VectorCache | None,
    embeddings: NamedEmbeddings | None,
) -> tuple[StoreCheck, Repair]:
    """Check the generation against the store; restore what is missing from the cache (or by embedding,
    when given embeddings), and say so: a store that lacks vectors must never go unnoticed."""
    check = check_store(store, gen.docs, gen.clauses)
    fixed = Repair()
    if not check.ok:
        log.warning("vector store %s does not match generation %s: %s; repairing", store.name, gen.name or "(none)",
                    check.summary())
        fixed = repair(store, gen.docs, gen.clauses, check, cache=cache, embeddings=embeddings)
        log.warning("repaired %d vectors from the vector cache, embedded %d, copied %d into region partitions%s",
                    fixed.from_cache, fixed.embedded, fixed.partitions,
                    f"; {len(fixed.unrepaired)} remain missing (run `policybot ingest` to embed them)"
                    if fixed.unrepaired else "")
        check = check_store(store, gen.docs, gen.clauses)
    return check, fixed


def swap(
    index_dir: Path,
    store: ChromaStore,
    gen: catalog.Generation,
    *,
    shared: SharedCatalog | None = None,
    lock: SharedWriterLock | None = None,
) -> None:
    """Make the generation current, then drop what no generation needs any more."""
    if shared is None:
        catalog.swap_current(index_dir, gen.name)
    else:
        if lock is not None and not lock.still_held():
            raise IndexLocked(
                f"the writer lock of deployment {shared.deployment!r} on {shared.address} expired during this "
                "ingest and another server took it: nothing was published; ingest again"
            )
        shared.publish(gen)
        with catalog.folder_lock(index_dir):
            catalog.swap_current(index_dir, gen.name)
    cleanup(index_dir, store, gen, shared=shared)


def cleanup(
    index_dir: Path, store: ChromaStore, live: catalog.Generation, *, shared: SharedCatalog | None = None
) -> None:
    """Remove vectors, records and generation folders the live generation does not use, and the DIRTY marker."""
    keep = {c.clause_id: str(chroma_metadata(c, live.docs[c.doc_id])[PARTITION_KEY]) for c in live.clauses}
    stale = store.prune(keep)
    if shared is not None:
        gone = sorted(shared.document_ids() - set(live.docs))
        shared.delete_documents(gone)
        shared.clear_dirty()
        with catalog.folder_lock(index_dir):
            catalog.prune_generations(index_dir, keep=live.name)
    else:
        catalog.prune_generations(index_dir, keep=live.name)  # with no live generation, keeps none
    (index_dir / DIRTY).unlink(missing_ok=True)
    if stale:
        log.info("removed %d vectors no generation uses", stale)


# ---- the service --------------------------------------------------------------------------------
@dataclass
class _Session:
    """What one write holds: the store's client, and in server mode the deployment's catalog and lock."""

    client: Any
    shared: SharedCatalog | None = None
    lock: SharedWriterLock | None = None


class Indexer:
    """Turns files into the next generation of the index; one per process, shared by CLI and web app."""

    def __init__(
        self,
        settings: Settings,
        embeddings_factory: Callable[[], NamedEmbeddings],
        *,
        on_check: Callable[[str, bool], None] | None = None,
    ) -> None:
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self._embeddings_factory = embeddings_factory
        self.on_check = on_check  # told each catalog-vs-store check: ("<generation>: <summary>", all vectors there)
        s = settings
        self.server = (
            ChromaServer(s.chroma_host, s.chroma_port, s.deploy.query_timeout_s, s.deploy.write_timeout_s)
            if s.chroma_host
            else None
        )
        self.deployment = s.deployment if self.server else None
        # who added a document: a host and its index folder (each app server of a deployment has its own)
        self.origin = f"{socket.gethostname()}:{self.index_dir.resolve()}"

    def _store(self, embeddings: NamedEmbeddings, client: Any) -> ChromaStore:
        return ChromaStore(
            client,
            model=embeddings.name,
            dim=embeddings.dim,
            collection=vector_collection(self.deployment),
            address=self.server.address if self.server else None,
        )

    @contextmanager
    def _writing(self, *, wait: bool = True) -> Iterator[_Session]:
        """The locks of one write: this folder's, and in server mode the deployment's on the server."""
        with writer_lock(self.index_dir):
            if self.server is None or self.deployment is None:
                yield _Session(open_chroma(self.index_dir))
                return
            client = self.server.client(write=True)
            d = self.settings.deploy
            try:
                with shared_writer_lock(
                    client, self.deployment, address=self.server.address, ttl_s=d.lock_ttl_s,
                    wait_s=d.lock_wait_s if wait else 0.0,
                ) as lock:
                    yield _Session(client, SharedCatalog(client, self.deployment, address=self.server.address), lock)
            finally:
                client.close()  # each write has a client of its own: its HTTP session ends with it

    def _live(self, session: _Session, known: catalog.Generation | None = None) -> tuple[catalog.Generation, bool]:
        """The live generation (`known`, when it is that one: no second read of a large catalog), and whether
        it still has to be published (an index of this folder's own, met by a deployment that has none yet:
        the first server adopts it)."""
        shared = session.shared
        if shared is None:
            if known is not None and known.name and known.name == catalog.current_name(self.index_dir):
                return known, False
            return catalog.load_generation(self.index_dir), False
        pointer = shared.pointer()
        if pointer is None:
            own = catalog.load_generation(self.index_dir)
            if own.name and not own.deployment:
                log.warning("publishing this folder's index (%d documents) to deployment %r on %s",
                            len(own.docs), shared.deployment, shared.address)
                own.origins = {d: own.origins.get(d) or self.origin for d in own.docs}
                return own, True
            return catalog.Generation(), False
        if known is not None and known.name == pointer.name:
            return known, False
        if not catalog.has_generation(self.index_dir, pointer.name):
            cache_generation(self.index_dir, shared.load(pointer))
        return catalog.load_generation(self.index_dir, pointer.name), False

    def ingest(
        self,
        paths: list[Path],
        *,
        progress: Progress | None = None,
        remove_doc_ids: list[str] | None = None,
        include: tuple[str, ...] | list[str] = (),
    ) -> IngestReport:
        t0 = time.perf_counter()
        found = discover(paths, include=include)  # before the lock: a large folder is walked while others write
        with self._writing() as session:
            report = self._ingest(session, found, progress=progress, remove_doc_ids=remove_doc_ids, embed=True)
        report.seconds = time.perf_counter() - t0
        return report

    def check(self, live: catalog.Generation | None = None) -> IngestReport | None:
        """At start: the live generation against the vector store, repaired from the vector cache (never
        by embedding, which may take long); in server mode also publishes an index of this folder's own
        to an empty deployment. None when an ingest holds the lock (it checks the store itself)."""
        nothing_here = catalog.current_name(self.index_dir) is None and not (self.index_dir / DIRTY).exists()
        if self.server is None and nothing_here:
            return None  # nothing indexed here: nothing to check, and no folder to create
        t0 = time.perf_counter()
        try:
            with self._writing(wait=False) as session:
                report = self._ingest(session, Discovery(), embed=False, known=live)
        except IndexLocked as e:
            log.info("store check skipped: %s", e)
            return None
        report.seconds = time.perf_counter() - t0
        return report

    def _ingest(
        self,
        session: _Session,
        found: Discovery,
        *,
        embed: bool,
        progress: Progress | None = None,
        remove_doc_ids: list[str] | None = None,
        known: catalog.Generation | None = None,
    ) -> IngestReport:
        s = self.settings
        report = IngestReport()
        shared = session.shared
        live, adopting = self._live(session, known)
        report.generation = live.name
        report.ignored = found.ignored
        report.failed.extend(found.rejected)
        report.errors = found.errors
        parsed = parse_changed(
            found.files, live, report, today=s.today_date(), max_bytes=int(s.max_file_mb * _MB),
            max_clause_chars=s.max_clause_chars, progress=progress, tuning=s.ingest,
            unpack=UnpackLimits(total_bytes=int(s.max_unpacked_mb * _MB),
                                member_bytes=int(s.max_unpacked_member_mb * _MB)),
        )
        # a file read before and skipped now (a README an older version took in) leaves the index, if this
        # server added it: another server's file paths mean nothing here
        now_ignored = {p for p, _ in found.ignored}
        dropped = [d.doc_id for d in live.docs.values()
                   if d.source_path in now_ignored and live.origins.get(d.doc_id, "") in ("", self.origin)]
        warning = batch_warning(((d, parsed.clauses[i]) for i, d in parsed.docs.items()), s.ingest)
        if warning:
            report.warnings.append(warning)
            log.warning("%s", warning)
        # only folders that exist and hold policy files lose the documents of their vanished files
        docs, clauses, new = diff(live, parsed, found.roots, report,
                                  remove_doc_ids=[*(remove_doc_ids or []), *dropped], origin=self.origin)
        for path in report.removed:
            log.warning("removed from the index: %s", path)
        report.documents = len(docs)
        if not report.changed and not adopting:
            report.clauses = len(live.clauses)
            if not live.name and shared is None and not (self.index_dir / DIRTY).exists():
                return report  # nothing indexed here yet: no store to open
            embeddings = self._embeddings_factory()
            store = self._store(embeddings, session.client)
            if (self.index_dir / DIRTY).exists() or (shared is not None and shared.is_dirty()):
                cleanup(self.index_dir, store, live, shared=shared)
            self._reconcile(store, live, embeddings, report, embed=embed)
            return report
        embeddings = self._embeddings_factory()
        cache = VectorCache(self.index_dir / VECTOR_CACHE)
        try:
            vectors, report.embedded = embed_new(new, docs, embeddings, cache, progress)
        finally:
            cache.close()
        store = self._store(embeddings, session.client)
        origins = {d: live.origins.get(d) or self.origin for d in docs}
        gen = write(self.index_dir, store, docs, clauses, new, vectors, embeddings.name, shared=shared,
                    fresh_docs=set(parsed.docs), origins=origins, holder=session.lock.holder if session.lock else "")
        self._reconcile(store, gen, embeddings, report, embed=embed)
        swap(self.index_dir, store, gen, shared=shared, lock=session.lock)
        report.clauses = len(clauses)
        report.generation = gen.name
        return report

    def _reconcile(
        self, store: ChromaStore, gen: catalog.Generation, embeddings: NamedEmbeddings, report: IngestReport,
        *, embed: bool,
    ) -> None:
        cache = VectorCache(self.index_dir / VECTOR_CACHE)
        try:
            check, fixed = reconcile(store, gen, cache=cache, embeddings=embeddings if embed else None)
        finally:
            cache.close()
        report.store = check.summary()
        report.repaired = fixed.from_cache + fixed.embedded + fixed.partitions
        report.store_ok = check.ok
        if self.on_check is not None:
            self.on_check(f"{gen.name or '(empty)'}: {report.store}", check.ok)
