"""Dense side: a content-hash vector cache (SQLite) and the Chroma collection."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import httpx
import numpy as np
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError, NotFoundError

from core.errors import BackendUnavailable

log = logging.getLogger(__name__)
COLLECTION = "policy_clauses"
VECTOR_CACHE = "vectors.sqlite"


class EmbeddingModelMismatch(RuntimeError):
    pass


def text_key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x1f{text}".encode()).hexdigest()[:32]


class VectorCache:
    """Vectors by model and text: an unchanged clause is never embedded twice, and a vector is only ever
    handed back to the model that made it (the key hashes the model name with the text, and each row
    records the model)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(vectors)")}
        if "model" not in columns:  # caches written before rows named their model
            with self._db:
                self._db.execute("ALTER TABLE vectors ADD COLUMN model TEXT")

    def get_many(self, keys: list[str], *, model: str | None = None) -> dict[str, np.ndarray]:
        """Cached vectors by key; with `model`, only rows that model wrote (or rows older than the column,
        whose key alone names the model)."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            q = f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(chunk))})"
            args: list[str] = list(chunk)
            if model is not None:
                q += " AND (model = ? OR model IS NULL)"
                args.append(model)
            for k, blob in self._db.execute(q, args):
                out[k] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_many(self, items: dict[str, np.ndarray], *, model: str | None = None) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vec, model) VALUES (?, ?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes(), model) for k, v in items.items()],
            )

    def models(self) -> dict[str, int]:
        """How many vectors each model has here (None: rows written before the model column)."""
        return {m or "": n for m, n in self._db.execute("SELECT model, COUNT(*) FROM vectors GROUP BY model")}

    def close(self) -> None:
        self._db.close()


def copy_vector_cache(src_index: Path, dst_index: Path) -> None:
    """Seed one index's vector cache from another's (vectors depend only on model and text).
    SQLite's backup API is safe while the source is open, unlike a file copy."""
    dst_index.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(str(src_index / VECTOR_CACHE))
    dst = sqlite3.connect(str(dst_index / VECTOR_CACHE))
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


PARTITION_KEY = "region"  # the metadata field whose values each get a collection of their own
# HNSW search breadth inside a partition: measured on the 100k synthetic corpus (1.5k clauses per
# region), ef 200 returned the exact top 10 for 50 of 50 questions and 99.96% of the exact top 50, in
# 1 ms; Chroma's default (10) returned 95% of the top 50 (README, "Benchmarks").
PARTITION_SEARCH_EF = 200


def vector_collection(deployment: str | None) -> str:
    """The clause vectors' collection: named by the deployment on a shared server, never by a local path."""
    return f"policybot-{deployment}-vectors" if deployment else COLLECTION


@dataclass(frozen=True)
class ChromaServer:
    """A `chroma run` server shared by the app servers of a deployment."""

    host: str
    port: int = 8000
    query_timeout_s: float = 5.0
    write_timeout_s: float = 120.0

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def client(self, *, write: bool = False) -> Any:
        """A client with a request timeout (chromadb's own waits forever): short for searches, long for writes."""
        timeout = self.write_timeout_s if write else self.query_timeout_s
        with server_errors(self.address):
            try:
                client = chromadb.HttpClient(host=self.host, port=self.port, settings=_chroma_settings())
            except ValueError as e:  # chromadb's "Could not connect to a Chroma server", the cause behind it
                cause = e.__cause__ or e.__context__
                reason = _first_line(cause) if cause else _first_line(e)
                raise BackendUnavailable(f"Chroma server {self.address} is unreachable ({reason})") from None
            # chromadb builds its httpx session with timeout=None and offers no setting for it
            session = getattr(getattr(client, "_server", None), "_session", None)
            if isinstance(session, httpx.Client):
                session.timeout = httpx.Timeout(timeout, connect=min(timeout, 3.0))
        return client


@contextmanager
def server_errors(address: str) -> Iterator[None]:
    """Turn a Chroma server's transport and server-side failures into one line naming the server."""
    try:
        yield
    except (httpx.HTTPError, OSError) as e:
        raise BackendUnavailable(f"Chroma server {address} is unreachable ({_first_line(e)})") from None
    except ChromaError as e:
        raise BackendUnavailable(f"Chroma server {address} failed: {_first_line(e)}") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:200]}" if text else type(e).__name__


def _chroma_settings() -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def open_chroma(index_dir: Path, *, host: str | None = None, port: int = 8000) -> Any:
    """The embedded client of an index folder, or a client of a Chroma server."""
    if host:
        return ChromaServer(host, port).client(write=True)
    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=_chroma_settings())


def forget_chroma(index_dir: Path) -> None:
    """Make the next embedded client for index_dir read the disk instead of this process's cached copy.

    chromadb keeps one System per persist path per process and loads the HNSW segment once, so a
    long-lived reader would never see vectors that another process (`policybot ingest`) wrote later.
    The old System is dropped from the cache, not stopped: searches in flight may still be using it.
    """
    SharedSystemClient._identifier_to_system.pop(str(index_dir / "chroma"), None)


class ChromaStore:
    """Clause vectors with filterable metadata. Never given an embedding function: we embed.

    Layout, chosen by measurement at 100k clauses: one collection holds every vector, and each value of
    the partition key (the region) has a collection of its own holding the same vectors again. A search
    restricted to a few regions asks those small collections, with no metadata filter for the region,
    instead of the large one with a `where`: Chroma's metadata filter alone took ~60 ms there.
    """

    def __init__(
        self, client: Any, *, model: str, dim: int, collection: str = COLLECTION, address: str | None = None
    ) -> None:
        self.client = client
        self.name = collection
        self.address = address
        self.model = model
        self.dim = dim
        with self._errors():
            self.collection = client.get_or_create_collection(
                collection,
                metadata={"hnsw:space": "cosine", "embedding_model": model, "dim": dim},
                embedding_function=None,
            )
        meta = self.collection.metadata or {}
        if meta.get("embedding_model") != model or int(meta.get("dim", dim)) != dim:
            where = "re-create the index directory" if address is None else f"delete {collection} on {address}"
            raise EmbeddingModelMismatch(
                f"index was built with {meta.get('embedding_model')} ({meta.get('dim')}d), not {model} ({dim}d); "
                f"{where} to switch models"
            )
        self._parts: dict[str, Any] = {}
        self._parts_lock = threading.Lock()

    def _errors(self) -> AbstractContextManager[None]:
        return server_errors(self.address) if self.address else nullcontext()

    # ---- partitions ----------------------------------------------------------------------------
    def partition_name(self, value: str) -> str:
        return f"{self.name}-part-{hashlib.sha256(value.encode()).hexdigest()[:12]}"

    def partition(self, value: str, *, create: bool = False) -> Any | None:
        """The collection of one partition value; None when it does not exist and create is False."""
        col = self._parts.get(value)
        if col is not None:
            return col
        with self._parts_lock, self._errors():
            if create:
                col = self.client.get_or_create_collection(
                    self.partition_name(value),
                    metadata={"hnsw:space": "cosine", "hnsw:search_ef": PARTITION_SEARCH_EF,
                              "embedding_model": self.model, "dim": self.dim, "partition": value},
                    embedding_function=None,
                )
            else:
                try:
                    col = self.client.get_collection(self.partition_name(value), embedding_function=None)
                except NotFoundError:
                    return None
            self._parts[value] = col
        return col

    def partitions(self) -> dict[str, Any]:
        """Every partition collection of this store, by partition value."""
        prefix = f"{self.name}-part-"
        with self._errors():
            cols = [c for c in self.client.list_collections() if c.name.startswith(prefix)]
        return {str((c.metadata or {}).get("partition", "")): c for c in cols}

    # ---- reading -------------------------------------------------------------------------------
    def ids(self) -> set[str]:
        with self._errors():
            got = self.collection.get(include=[])
        return set(got["ids"])

    def count(self) -> int:
        with self._errors():
            return int(self.collection.count())

    def partition_counts(self) -> dict[str, int]:
        out = {}
        for value, col in self.partitions().items():
            with self._errors():
                out[value] = int(col.count())
        return out

    def partition_ids(self) -> dict[str, set[str]]:
        out = {}
        for value, col in self.partitions().items():
            with self._errors():
                out[value] = set(col.get(include=[])["ids"])
        return out

    def vectors(self, ids: list[str], batch: int = 2000) -> dict[str, np.ndarray]:
        """Stored vectors by id (those the collection has)."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), batch):
            with self._errors():
                got = self.collection.get(ids=ids[i : i + batch], include=["embeddings"])
            for cid, vec in zip(got["ids"], got["embeddings"], strict=True):
                out[cid] = np.asarray(vec, dtype=np.float32)
        return out

    def query(
        self, vector: np.ndarray, *, n: int, where: dict[str, Any] | None, partitions: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """The n nearest vectors (id, cosine similarity) that meet `where`; with `partitions`, only those
        of the named partition values (one small query each, merged), else from the whole collection."""
        if partitions is not None:
            cols = [self.partition(p) for p in partitions]
            if all(c is not None for c in cols):
                hits: list[tuple[str, float]] = []
                for col in cols:
                    hits += self._query(col, vector, n, where)
                hits.sort(key=lambda h: -h[1])
                return hits[:n]
            # a partition that was never written: the whole collection answers, filtered as before
            region = {PARTITION_KEY: {"$in": list(partitions)}}
            where = {"$and": [region, where]} if where else region
        return self._query(self.collection, vector, n, where)

    def _query(self, col: Any, vector: np.ndarray, n: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        with self._errors():
            res = col.query(query_embeddings=[vector], n_results=n, where=where or None, include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]

    # ---- writing -------------------------------------------------------------------------------
    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]], batch: int = 2000) -> None:
        for i in range(0, len(ids), batch):
            with self._errors():
                self.collection.upsert(
                    ids=ids[i : i + batch], embeddings=vectors[i : i + batch], metadatas=metadatas[i : i + batch]
                )
        self.upsert_partitions(ids, vectors, metadatas, batch=batch)

    def upsert_partitions(
        self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]], batch: int = 2000
    ) -> None:
        rows: dict[str, list[int]] = {}
        for i, m in enumerate(metadatas):
            rows.setdefault(str(m.get(PARTITION_KEY, "")), []).append(i)
        for value, idx in rows.items():
            col = self.partition(value, create=True)
            for s in range(0, len(idx), batch):
                part = idx[s : s + batch]
                with self._errors():
                    col.upsert(
                        ids=[ids[j] for j in part], embeddings=vectors[part], metadatas=[metadatas[j] for j in part]
                    )

    def prune(self, keep: dict[str, str]) -> int:
        """Delete every vector whose id is not a key of `keep` (id → partition value), and every partition
        entry that is not in its id's partition. Returns how many vectors left the whole collection."""
        stale = [i for i in self.ids() if i not in keep]
        for i in range(0, len(stale), 2000):
            with self._errors():
                self.collection.delete(ids=stale[i : i + 2000])
        for value, col in self.partitions().items():
            with self._errors():
                extra = [i for i in col.get(include=[])["ids"] if keep.get(i) != value]
            for i in range(0, len(extra), 2000):
                with self._errors():
                    col.delete(ids=extra[i : i + 2000])
        return len(stale)

    def delete(self, ids: list[str], batch: int = 2000) -> None:
        """Remove the ids from the whole collection and from every partition."""
        targets = [self.collection, *self.partitions().values()]
        for col in targets:
            for i in range(0, len(ids), batch):
                with self._errors():
                    col.delete(ids=ids[i : i + batch])
