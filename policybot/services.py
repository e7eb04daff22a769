"""Wiring: settings → embeddings, index, bot. Heavy objects are built once per process."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from policybot.settings import Settings

if TYPE_CHECKING:
    from bot.chat import PolicyBot
    from vectorstore.embeddings import NamedEmbeddings
    from vectorstore.search import PolicyIndex
    from vectorstore.writer import IngestReport, Progress

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def embeddings_for(backend: str, model_path: str | None) -> NamedEmbeddings:
    from vectorstore.embeddings import make_embeddings

    return make_embeddings(backend, model_path)


def get_embeddings(settings: Settings) -> NamedEmbeddings:
    return embeddings_for(settings.embedding_backend, settings.embedding_model_path)


def open_index(settings: Settings, *, with_embeddings: bool = True) -> PolicyIndex:
    from vectorstore.search import PolicyIndex

    return PolicyIndex(
        settings.index_dir,
        embeddings=get_embeddings(settings) if with_embeddings else None,
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
        today=settings.today_date(),
    )


def ingest_paths(
    paths: list[Path],
    *,
    settings: Settings,
    progress: Progress | None = None,
    remove_doc_ids: list[str] | None = None,
) -> IngestReport:
    from vectorstore.writer import ingest

    return ingest(
        paths,
        index_dir=settings.index_dir,
        embeddings_factory=lambda: get_embeddings(settings),
        today=settings.today_date(),
        max_bytes=int(settings.max_file_mb * 1024 * 1024),
        max_clause_chars=settings.max_clause_chars,
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
        progress=progress,
        remove_doc_ids=remove_doc_ids,
    )


def make_bot(settings: Settings, index: PolicyIndex | None = None) -> PolicyBot:
    from bot.chat import PolicyBot

    return PolicyBot(index or open_index(settings), settings=settings)
