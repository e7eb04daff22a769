"""Incremental ingest into the index under a single-writer lock, finished by a generation swap."""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.loaders import SUPPORTED_SUFFIXES, LoadError
from ingest.pipeline import PARSER_VERSION, file_sha256, parse_document
from policybot.records import Clause, PolicyDocument
from vectorstore import catalog
from vectorstore.dense import VECTOR_CACHE, ChromaStore, VectorCache, collection_name, open_chroma, text_key
from vectorstore.embeddings import NamedEmbeddings
from vectorstore.lexical import LexicalIndex

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]  # (stage, done, total)
# Present from a writer's first Chroma write until its cleanup is done. A killed writer leaves it behind,
# with orphan vectors or an unreferenced generation, and the next ingest cleans up even when no file changed.
DIRTY = "ingest.dirty"


class IndexLocked(RuntimeError):
    pass


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    documents: int = 0
    clauses: int = 0
    embedded: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / "ingest.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                raise IndexLocked(
                    f"another ingest is writing to {index_dir} (pid {holder}); try again when it finishes"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def expand_paths(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(x for x in p.rglob("*") if x.is_file() and x.suffix.lower() in SUPPORTED_SUFFIXES)
        else:
            files.append(p)
    return files


def _under(path: str, roots: list[Path]) -> bool:
    rp = Path(path).resolve()
    for r in roots:
        rr = r.resolve()
        if rp == rr or rr in rp.parents:
            return True
    return False


def _chroma_meta(c: Clause, doc: PolicyDocument) -> dict[str, str | int]:
    return {
        "doc_id": c.doc_id,
        "region": doc.region or "",
        "kind": c.kind,
        "status": doc.status,
        "deadline_year": int(c.deadline.date[:4]) if c.deadline and c.deadline.date else 0,
    }


def embed_text(c: Clause, doc: PolicyDocument) -> str:
    """What the dense model sees: title and path give a bare row like '县林业局' its context."""
    return f"{doc.title} {' '.join(c.path)} {c.text}"


def lexical_text(c: Clause, doc: PolicyDocument) -> str:
    units = " ".join(c.lead_units + c.responsible_units)
    return f"{doc.region or ''} {doc.title} {' '.join(c.path)} {c.text} {units}"


def user_words(docs: dict[str, PolicyDocument], clauses: list[Clause]) -> set[str]:
    words: set[str] = set()
    for c in clauses:
        words.update(c.lead_units)
        words.update(c.responsible_units)
    for d in docs.values():
        words.update(d.aliases)
        if d.region:
            words.add(d.region)
            words.add(d.region.rstrip("区县市"))
    return words


def write_lexical(gen_dir: Path, docs: dict[str, PolicyDocument], clauses: list[Clause]) -> None:
    texts = [lexical_text(c, docs[c.doc_id]) for c in clauses]
    LexicalIndex.build(texts, user_words(docs, clauses)).save(gen_dir / "lexical")


def vectors_for(
    clauses: list[Clause],
    docs: dict[str, PolicyDocument],
    embeddings: NamedEmbeddings,
    cache: VectorCache,
    progress: Progress | None = None,
) -> tuple[np.ndarray, int]:
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


def _clean_after_interrupted_ingest(
    index_dir: Path,
    current: catalog.Generation,
    embeddings_factory: Callable[[], NamedEmbeddings],
    chroma_host: str | None,
    chroma_port: int,
) -> None:
    embeddings = embeddings_factory()
    store = ChromaStore(
        open_chroma(index_dir, host=chroma_host, port=chroma_port),
        model=embeddings.name,
        dim=embeddings.dim,
        collection=collection_name(index_dir, chroma_host),
    )
    live = {c.clause_id for c in current.clauses}
    orphans = [i for i in store.ids() if i not in live]
    if orphans:
        store.delete(orphans)
    catalog.prune_generations(index_dir, keep=current.name)  # with no current generation, keeps none
    log.info("cleaned up after an interrupted ingest: %d orphan vectors removed", len(orphans))
    (index_dir / DIRTY).unlink(missing_ok=True)


def ingest(
    paths: list[Path],
    *,
    index_dir: Path,
    embeddings_factory: Callable[[], NamedEmbeddings],
    today: dt.date,
    max_bytes: int,
    max_clause_chars: int = 600,
    chroma_host: str | None = None,
    chroma_port: int = 8000,
    progress: Progress | None = None,
    remove_doc_ids: list[str] | None = None,
) -> IngestReport:
    t0 = time.perf_counter()
    report = IngestReport()
    with writer_lock(index_dir):
        old = catalog.load_generation(index_dir)
        by_path = {d.source_path: d for d in old.docs.values()}
        keep: dict[str, PolicyDocument] = dict(old.docs)
        new_docs: dict[str, PolicyDocument] = {}
        new_clauses: dict[str, list[Clause]] = {}
        files = expand_paths(paths)
        for i, f in enumerate(files):
            if progress:
                progress("parse", i + 1, len(files))
            key = str(f)
            try:
                if not f.exists():
                    raise LoadError("file not found")
                sha = file_sha256(f)
                prev = by_path.get(key)
                if prev and prev.sha256 == sha and old.parser_version == PARSER_VERSION:
                    report.skipped.append(key)
                    continue
                doc, cls = parse_document(
                    f, today=today, max_bytes=max_bytes, max_clause_chars=max_clause_chars, sha256=sha
                )
            except LoadError as e:
                report.failed.append((key, str(e)))
                log.warning("ingest failed for %s: %s", key, e)
                continue
            if prev:
                keep.pop(prev.doc_id, None)
                report.updated.append(key)
            else:
                report.added.append(key)
            if doc.doc_id in keep:  # the same content under another path: keep one copy
                keep.pop(doc.doc_id)
            new_docs[doc.doc_id] = doc
            new_clauses[doc.doc_id] = cls
        roots = [p for p in paths if p.is_dir()] + [p for p in paths if not p.exists()]
        for d in list(keep.values()):
            gone = not Path(d.source_path).exists() and _under(d.source_path, roots)
            if gone or d.doc_id in (remove_doc_ids or []):
                keep.pop(d.doc_id)
                report.removed.append(d.source_path)
        docs = {**keep, **new_docs}
        report.documents = len(docs)
        if not report.changed:
            if (index_dir / DIRTY).exists():
                _clean_after_interrupted_ingest(index_dir, old, embeddings_factory, chroma_host, chroma_port)
            report.clauses = len(old.clauses)
            report.seconds = time.perf_counter() - t0
            return report
        clauses = [c for c in old.clauses if c.doc_id in keep] + [c for cl in new_clauses.values() for c in cl]
        embeddings = embeddings_factory()
        cache = VectorCache(index_dir / VECTOR_CACHE)
        try:
            added = [c for cl in new_clauses.values() for c in cl]
            vecs, report.embedded = vectors_for(added, docs, embeddings, cache, progress)
        finally:
            cache.close()
        store = ChromaStore(
            open_chroma(index_dir, host=chroma_host, port=chroma_port),
            model=embeddings.name,
            dim=embeddings.dim,
            collection=collection_name(index_dir, chroma_host),
        )
        # new vectors go in before the swap, stale ones leave after it: readers of either
        # generation find every vector they need (they ignore ids outside their generation)
        (index_dir / DIRTY).touch()
        store.upsert([c.clause_id for c in added], vecs, [_chroma_meta(c, docs[c.doc_id]) for c in added])
        # the random part keeps two ingests of one process within one second apart: a reused name
        # would rewrite the live generation in place and leave readers' is_current() wrongly true
        gen = catalog.Generation(
            name=f"gen-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{secrets.token_hex(4)}",
            docs=docs,
            clauses=clauses,
            embedding_model=embeddings.name,
            parser_version=PARSER_VERSION,
        )
        gen_dir = catalog.write_generation(index_dir, gen)
        write_lexical(gen_dir, docs, clauses)
        catalog.swap_current(index_dir, gen.name)
        live = {c.clause_id for c in clauses}
        stale = [i for i in store.ids() if i not in live]
        if stale:
            store.delete(stale)
        catalog.prune_generations(index_dir, keep=gen.name)
        (index_dir / DIRTY).unlink(missing_ok=True)
        report.clauses = len(clauses)
        report.seconds = time.perf_counter() - t0
        return report
