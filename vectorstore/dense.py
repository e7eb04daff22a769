"""Dense side: a content-hash vector cache (SQLite) and the Chroma collection."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings

log = logging.getLogger(__name__)
COLLECTION = "policy_clauses"
VECTOR_CACHE = "vectors.sqlite"


class EmbeddingModelMismatch(RuntimeError):
    pass


def text_key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\x1f{text}".encode()).hexdigest()[:32]


class VectorCache:
    """Vectors by (model, text) hash: an unchanged clause is never embedded twice."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            q = f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(chunk))})"
            for k, blob in self._db.execute(q, chunk):
                out[k] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )

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


def collection_name(index_dir: Path, host: str | None) -> str:
    """One collection per index: on a shared Chroma server two index directories must not meet,
    or one's clean-up would delete the other's vectors."""
    if not host:
        return COLLECTION
    return f"{COLLECTION}-{hashlib.sha256(str(index_dir.resolve()).encode()).hexdigest()[:10]}"


def open_chroma(index_dir: Path, *, host: str | None = None, port: int = 8000) -> Any:
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if host:
        return chromadb.HttpClient(host=host, port=port, settings=settings)
    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=settings)


def forget_chroma(index_dir: Path) -> None:
    """Make the next embedded client for index_dir read the disk instead of this process's cached copy.

    chromadb keeps one System per persist path per process and loads the HNSW segment once, so a
    long-lived reader would never see vectors that another process (`policybot ingest`) wrote later.
    The old System is dropped from the cache, not stopped: searches in flight may still be using it.
    """
    SharedSystemClient._identifier_to_system.pop(str(index_dir / "chroma"), None)


class ChromaStore:
    """Clause vectors with filterable metadata. Never given an embedding function: we embed."""

    def __init__(self, client: Any, *, model: str, dim: int, collection: str = COLLECTION) -> None:
        self.client = client
        self.collection = client.get_or_create_collection(
            collection,
            metadata={"hnsw:space": "cosine", "embedding_model": model, "dim": dim},
            embedding_function=None,
        )
        meta = self.collection.metadata or {}
        if meta.get("embedding_model") != model or int(meta.get("dim", dim)) != dim:
            raise EmbeddingModelMismatch(
                f"index was built with {meta.get('embedding_model')} ({meta.get('dim')}d), not {model} ({dim}d); "
                "re-create the index directory to switch models"
            )

    def ids(self) -> set[str]:
        got = self.collection.get(include=[])
        return set(got["ids"])

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]], batch: int = 2000) -> None:
        for i in range(0, len(ids), batch):
            self.collection.upsert(
                ids=ids[i : i + batch], embeddings=vectors[i : i + batch], metadatas=metadatas[i : i + batch]
            )

    def delete(self, ids: list[str], batch: int = 2000) -> None:
        for i in range(0, len(ids), batch):
            self.collection.delete(ids=ids[i : i + batch])

    def query(self, vector: np.ndarray, *, n: int, where: dict[str, Any] | None) -> list[tuple[str, float]]:
        count = self.collection.count()
        if count == 0:
            return []
        res = self.collection.query(
            query_embeddings=[vector], n_results=min(n, count), where=where or None, include=["distances"]
        )
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]
