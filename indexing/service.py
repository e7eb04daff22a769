"""Incremental ingest: discover → parse → diff against the live generation → embed → write → swap.

Each step is a function of its own; `Indexer.ingest` runs them in order under the single-writer lock.
A killed ingest leaves at worst an unreferenced generation and orphan vectors, never a half-written
index: the DIRTY marker tells the next ingest to clean them up.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import LoadError
from core.records import Clause, PolicyDocument
from core.settings import IngestTuning, Settings
from indexing.lock import writer_lock
from ingest.archive import UnpackLimits
from ingest.batch import batch_warning
from ingest.discover import discover
from ingest.pipeline import PARSER_VERSION, file_sha256, parse_document
from vectorstore import catalog
from vectorstore.dense import VECTOR_CACHE, ChromaStore, VectorCache, collection_name, open_chroma, text_key
from vectorstore.embeddings import NamedEmbeddings
from vectorstore.lexical import write_lexical
from vectorstore.representation import chroma_metadata, embed_text

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
) -> tuple[dict[str, PolicyDocument], list[Clause], list[Clause]]:
    """The next generation's documents and clauses, and the clauses that are new in it."""
    keep = {i: d for i, d in live.docs.items() if i not in parsed.replaced and i not in parsed.docs}
    # a file gone from a folder that was named again, or a document named for removal, leaves the index
    roots = [p for p in paths if p.is_dir()] + [p for p in paths if not p.exists()]
    for d in list(keep.values()):
        gone = not Path(d.source_path).exists() and _under(d.source_path, roots)
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
    cached = cache.get_many(keys)
    missing = [i for i, k in enumerate(keys) if k not in cached]
    batch = 32
    for start in range(0, len(missing), batch):
        idx = missing[start : start + batch]
        vecs = embeddings.embed_passages([embed_text(clauses[i], docs[clauses[i].doc_id]) for i in idx])
        new = {keys[i]: v for i, v in zip(idx, vecs, strict=True)}
        cache.put_many(new)
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
) -> catalog.Generation:
    """Upsert the new vectors, then write the generation's files beside the live one (not yet current)."""
    # new vectors go in before the swap, stale ones leave after it: readers of either
    # generation find every vector they need (they ignore ids outside their generation)
    (index_dir / DIRTY).touch()
    store.upsert([c.clause_id for c in new], vectors, [chroma_metadata(c, docs[c.doc_id]) for c in new])
    # the random part keeps two ingests of one process within one second apart: a reused name
    # would rewrite the live generation in place and leave readers' is_current() wrongly true
    gen = catalog.Generation(
        name=f"gen-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{secrets.token_hex(4)}",
        docs=docs,
        clauses=clauses,
        embedding_model=embedding_model,
        parser_version=PARSER_VERSION,
    )
    gen_dir = catalog.write_generation(index_dir, gen)
    write_lexical(gen_dir, docs, clauses)
    return gen


def swap(index_dir: Path, store: ChromaStore, gen: catalog.Generation) -> None:
    """Make the generation current, then drop what no generation needs any more."""
    catalog.swap_current(index_dir, gen.name)
    cleanup(index_dir, store, gen)


def cleanup(index_dir: Path, store: ChromaStore, live: catalog.Generation) -> None:
    """Remove vectors and generation folders the live generation does not use, and the DIRTY marker."""
    ids = {c.clause_id for c in live.clauses}
    stale = [i for i in store.ids() if i not in ids]
    if stale:
        store.delete(stale)
    catalog.prune_generations(index_dir, keep=live.name)  # with no live generation, keeps none
    (index_dir / DIRTY).unlink(missing_ok=True)
    if stale:
        log.info("removed %d vectors no generation uses", len(stale))


# ---- the service --------------------------------------------------------------------------------
class Indexer:
    """Turns files into the next generation of the index; one per process, shared by CLI and web app."""

    def __init__(self, settings: Settings, embeddings_factory: Callable[[], NamedEmbeddings]) -> None:
        self.settings = settings
        self.index_dir = Path(settings.index_dir)
        self._embeddings_factory = embeddings_factory

    def _store(self, embeddings: NamedEmbeddings) -> ChromaStore:
        s = self.settings
        return ChromaStore(
            open_chroma(self.index_dir, host=s.chroma_host, port=s.chroma_port),
            model=embeddings.name,
            dim=embeddings.dim,
            collection=collection_name(self.index_dir, s.chroma_host),
        )

    def ingest(
        self,
        paths: list[Path],
        *,
        progress: Progress | None = None,
        remove_doc_ids: list[str] | None = None,
        include: tuple[str, ...] | list[str] = (),
    ) -> IngestReport:
        t0 = time.perf_counter()
        s = self.settings
        report = IngestReport()
        found = discover(paths, include=include)
        report.ignored = found.ignored
        report.failed.extend(found.rejected)
        report.errors = found.errors
        with writer_lock(self.index_dir):
            live = catalog.load_generation(self.index_dir)
            parsed = parse_changed(
                found.files, live, report, today=s.today_date(), max_bytes=int(s.max_file_mb * 1024 * 1024),
                max_clause_chars=s.max_clause_chars, progress=progress, tuning=s.ingest,
                unpack=UnpackLimits(total_bytes=int(s.max_unpacked_mb * _MB),
                                    member_bytes=int(s.max_unpacked_member_mb * _MB)),
            )
            # a file read before and skipped now (a README an older version took in) leaves the index
            now_ignored = {p for p, _ in found.ignored}
            dropped = [d.doc_id for d in live.docs.values() if d.source_path in now_ignored]
            warning = batch_warning(((d, parsed.clauses[i]) for i, d in parsed.docs.items()), s.ingest)
            if warning:
                report.warnings.append(warning)
                log.warning("%s", warning)
            # only folders that exist and hold policy files lose the documents of their vanished files
            docs, clauses, new = diff(live, parsed, found.roots, report,
                                      remove_doc_ids=[*(remove_doc_ids or []), *dropped])
            for path in report.removed:
                log.warning("removed from the index: %s", path)
            report.documents = len(docs)
            if not report.changed:
                if (self.index_dir / DIRTY).exists():
                    cleanup(self.index_dir, self._store(self._embeddings_factory()), live)
                report.clauses = len(live.clauses)
                report.seconds = time.perf_counter() - t0
                return report
            embeddings = self._embeddings_factory()
            cache = VectorCache(self.index_dir / VECTOR_CACHE)
            try:
                vectors, report.embedded = embed_new(new, docs, embeddings, cache, progress)
            finally:
                cache.close()
            store = self._store(embeddings)
            gen = write(self.index_dir, store, docs, clauses, new, vectors, embeddings.name)
            swap(self.index_dir, store, gen)
            report.clauses = len(clauses)
            report.seconds = time.perf_counter() - t0
            return report
