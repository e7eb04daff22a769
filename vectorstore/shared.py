"""Generations shared by every app server of one deployment, held in the Chroma server itself.

In server mode the engine, not an index folder, is the source of truth. The collections of deployment D:

  policybot-D-catalog    one record per document: the document and its clauses as JSON (everything the
                         catalog and the lexical side need), one record naming the live generation (its
                         documents in catalog order), and a marker while a writer has unfinished work
  policybot-D-vectors-…  the clause vectors with their filter metadata (vectorstore.dense.ChromaStore),
                         one collection per embedding model
  policybot-D-writer     exists while one server writes: the lock, with its holder and expiry

Each app server keeps the live generation in its own index folder as a cache (catalog, clauses and the
BM25 index built from them) and rebuilds that cache when the generation record names another one.
Records are keyed by content hashes, so two generations share what they have in common; the generation
record is replaced in one upsert, which is the swap.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chromadb.errors import ChromaError, NotFoundError

from core.errors import IndexLocked
from core.records import Clause, PolicyDocument
from vectorstore import catalog
from vectorstore.catalog import Generation
from vectorstore.dense import server_errors
from vectorstore.lexical import write_lexical

log = logging.getLogger(__name__)

GENERATION_ID = "generation"  # document ids are 16 hex digits: no clash
DIRTY_ID = "dirty"
# Chroma keeps a vector for every record; catalog records need none, so they share one constant
_NO_VECTOR = [1.0]
_BATCH = 200  # document records per read
# Characters of JSON per write: a Chroma server refuses requests of some tens of MB, and ~1 MB takes ~1.5 s
_WRITE_CHARS = 2_000_000


def collection_prefix(deployment: str) -> str:
    return f"policybot-{deployment}"


@dataclass
class Pointer:
    """What the generation record says: which documents are live, in catalog order, and who added them."""

    name: str
    doc_ids: list[str] = field(default_factory=list)
    embedding_model: str = ""
    parser_version: str = ""
    origins: dict[str, str] = field(default_factory=dict)


class SharedCatalog:
    """The catalog side of a deployment on a Chroma server: document records and the generation record."""

    def __init__(self, client: Any, deployment: str, *, address: str) -> None:
        self.deployment = deployment
        self.address = address
        with server_errors(address):
            self.collection = client.get_or_create_collection(
                f"{collection_prefix(deployment)}-catalog", embedding_function=None
            )

    # ---- reading -------------------------------------------------------------------------------
    def current_name(self) -> str | None:
        """The live generation's name: one small read, cheap enough to ask every second."""
        with server_errors(self.address):
            got = self.collection.get(ids=[GENERATION_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0]["name"]) if metas and metas[0] else None

    def pointer(self) -> Pointer | None:
        with server_errors(self.address):
            got = self.collection.get(ids=[GENERATION_ID], include=["documents"])
        docs = got.get("documents") or []
        if not docs or not docs[0]:
            return None
        return Pointer(**json.loads(docs[0]))

    def load(self, pointer: Pointer) -> Generation:
        """The generation the pointer names, documents in catalog order, clauses in reading order."""
        records: dict[str, dict[str, Any]] = {}
        for i in range(0, len(pointer.doc_ids), _BATCH):
            chunk = pointer.doc_ids[i : i + _BATCH]
            with server_errors(self.address):
                got = self.collection.get(ids=chunk, include=["documents"])
            for rid, text in zip(got["ids"], got["documents"] or [], strict=True):
                records[rid] = json.loads(text)
        missing = [d for d in pointer.doc_ids if d not in records]
        if missing:
            raise LookupError(
                f"generation {pointer.name} on {self.address} names {len(missing)} documents without a record "
                f"(first: {missing[0]}); ingest again to rewrite them"
            )
        docs: dict[str, PolicyDocument] = {}
        clauses: list[Clause] = []
        for doc_id in pointer.doc_ids:
            rec = records[doc_id]
            docs[doc_id] = PolicyDocument.from_dict(rec["document"])
            clauses.extend(Clause.from_dict(c) for c in rec["clauses"])
        return Generation(
            name=pointer.name,
            docs=docs,
            clauses=clauses,
            embedding_model=pointer.embedding_model,
            parser_version=pointer.parser_version,
            origins={d: o for d, o in pointer.origins.items() if d in docs},
            deployment=self.deployment,
        )

    def document_ids(self) -> set[str]:
        with server_errors(self.address):
            got = self.collection.get(include=[])
        return {i for i in got["ids"] if i not in (GENERATION_ID, DIRTY_ID)}

    # ---- writing (under the writer lock) -------------------------------------------------------
    def put_documents(self, docs: dict[str, PolicyDocument], clauses: list[Clause]) -> None:
        """Write the records of these documents (invisible to readers until a generation names them)."""
        by_doc: dict[str, list[Clause]] = {d: [] for d in docs}
        for c in clauses:
            by_doc[c.doc_id].append(c)
        batch: list[tuple[str, str]] = []
        size = 0
        for d in docs:
            text = json.dumps(
                {"document": docs[d].to_dict(), "clauses": [c.to_dict() for c in by_doc[d]]}, ensure_ascii=False
            )
            if batch and size + len(text) > _WRITE_CHARS:
                self._upsert_records(batch, by_doc)
                batch, size = [], 0
            batch.append((d, text))
            size += len(text)
        if batch:
            self._upsert_records(batch, by_doc)

    def _upsert_records(self, batch: list[tuple[str, str]], by_doc: dict[str, list[Clause]]) -> None:
        with server_errors(self.address):
            self.collection.upsert(
                ids=[d for d, _ in batch],
                embeddings=[_NO_VECTOR] * len(batch),
                documents=[t for _, t in batch],
                metadatas=[{"record": "document", "clauses": len(by_doc[d])} for d, _ in batch],
            )

    def publish(self, gen: Generation) -> None:
        """Make the generation live for every app server of the deployment: one upsert is the swap."""
        pointer = Pointer(
            name=gen.name,
            doc_ids=list(gen.docs),
            embedding_model=gen.embedding_model,
            parser_version=gen.parser_version,
            origins=dict(gen.origins),
        )
        with server_errors(self.address):
            self.collection.upsert(
                ids=[GENERATION_ID],
                embeddings=[_NO_VECTOR],
                documents=[json.dumps(pointer.__dict__, ensure_ascii=False)],
                metadatas=[{"record": "generation", "name": gen.name}],
            )

    def delete_documents(self, doc_ids: list[str]) -> None:
        for i in range(0, len(doc_ids), _BATCH):
            with server_errors(self.address):
                self.collection.delete(ids=doc_ids[i : i + _BATCH])

    def mark_dirty(self, holder: str) -> None:
        with server_errors(self.address):
            self.collection.upsert(
                ids=[DIRTY_ID], embeddings=[_NO_VECTOR], documents=[holder], metadatas=[{"record": "dirty"}]
            )

    def is_dirty(self) -> bool:
        with server_errors(self.address):
            return bool(self.collection.get(ids=[DIRTY_ID], include=[])["ids"])

    def clear_dirty(self) -> None:
        with server_errors(self.address):
            self.collection.delete(ids=[DIRTY_ID])


# ---- one writer at a time across servers ----------------------------------------------------------


def cache_generation(index_dir: Path, gen: Generation) -> None:
    """Keep a shared generation in this server's index folder, with the BM25 index built from it: the
    next start loads it from disk, and it still serves BM25 answers while the Chroma server is down."""
    with catalog.folder_lock(index_dir):
        if not catalog.has_generation(index_dir, gen.name):
            catalog.write_generation_atomically(
                index_dir, gen, [lambda d: write_lexical(d, gen.docs, gen.clauses)]
            )
        previous = catalog.current_name(index_dir)
        catalog.swap_current(index_dir, gen.name)
        # the one this process may still be serving stays until the next refresh
        catalog.prune_generations(index_dir, keep={gen.name, previous or gen.name})


def holder_name() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


class SharedWriterLock:
    """One writer at a time across every server of a deployment.

    The lock is a collection that exists while it is held: Chroma creates a collection name at most
    once, so of two servers creating it at the same moment exactly one succeeds. Its metadata names the
    holder and an expiry that a thread renews while the holder lives. A lock past its expiry (its holder
    died mid-ingest) is first renamed out of the way, by id, so that a racing server can never move a
    fresh lock, and then the create decides again.
    """

    def __init__(self, client: Any, deployment: str, *, address: str, ttl_s: float, wait_s: float) -> None:
        self.client = client
        self.name = f"{collection_prefix(deployment)}-writer"
        self.deployment = deployment
        self.address = address
        self.ttl_s = ttl_s
        self.wait_s = wait_s
        self.holder = f"{holder_name()} #{secrets.token_hex(3)}"
        self._collection: Any = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False

    def _meta(self) -> dict[str, Any]:
        return {"holder": self.holder, "expires": time.time() + self.ttl_s}

    def acquire(self) -> None:
        deadline = time.monotonic() + self.wait_s
        while True:
            with server_errors(self.address):
                try:
                    self._collection = self.client.create_collection(
                        self.name, metadata=self._meta(), embedding_function=None
                    )
                    break
                except ChromaError as e:  # a plain ChromaError over HTTP, an InternalError embedded
                    if "already exists" not in str(e):
                        raise
                held = self._holder_or_take_over()
            if held is None:
                continue  # a stale lock was moved away: try the create again at once
            if time.monotonic() > deadline:
                raise IndexLocked(
                    f"another server is writing to deployment {self.deployment!r} on {self.address} ({held}); "
                    "try again when it finishes"
                )
            time.sleep(0.5)
        self._renewer = threading.Thread(target=self._renew, name="shared-lock-renewer", daemon=True)
        self._renewer.start()

    def _holder_or_take_over(self) -> str | None:
        """The current holder's name, or None after moving an expired lock out of the way."""
        try:
            current = self.client.get_collection(self.name, embedding_function=None)
        except NotFoundError:  # released between our create and this read
            return None
        meta = current.metadata or {}
        if float(meta.get("expires", 0)) > time.time():
            return str(meta.get("holder", "?"))
        log.warning("taking over the writer lock of %s on %s: its holder %s stopped renewing it",
                    self.deployment, self.address, meta.get("holder", "?"))
        stale = f"{self.name}-stale-{secrets.token_hex(4)}"
        try:
            current.modify(name=stale)  # by id: a fresh lock under the same name is never touched
            self.client.delete_collection(stale)
        except ChromaError as e:  # another server moved or removed it first; the create decides
            log.info("stale writer lock already moved: %s", e)
        return None

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                if not self.still_held():
                    self.lost = True
                    log.error("lost the writer lock of %s on %s", self.deployment, self.address)
                    return
                self._collection.modify(metadata=self._meta())
            except Exception as e:  # noqa: BLE001 - a renewal that fails is retried; expiry is the backstop
                log.warning("could not renew the writer lock on %s: %s", self.address, str(e).splitlines()[0])

    def still_held(self) -> bool:
        try:
            with server_errors(self.address):
                current = self.client.get_collection(self.name, embedding_function=None)
        except Exception:  # noqa: BLE001 - not found, or the server is gone: either way not provably ours
            return False
        return bool(self._collection is not None and current.id == self._collection.id)

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        try:
            if self.still_held():
                self.client.delete_collection(self.name)
        except Exception as e:  # noqa: BLE001 - the expiry frees it if the server is unreachable now
            log.warning("could not release the writer lock on %s (it expires by itself): %s",
                        self.address, str(e).splitlines()[0])
        self._collection = None


@contextmanager
def shared_writer_lock(
    client: Any, deployment: str, *, address: str, ttl_s: float, wait_s: float
) -> Iterator[SharedWriterLock]:
    lock = SharedWriterLock(client, deployment, address=address, ttl_s=ttl_s, wait_s=wait_s)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
