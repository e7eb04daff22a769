"""The retriever contract: what the bot, the web app and the evaluation may ask of an index.

Any index that satisfies `Retriever` can stand behind the bot: the local index (BM25 + embedded
Chroma), the same index with vectors on a Chroma server, or a test double. The shared contract tests
(tests/retriever_contract.py) run against every implementation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from core.records import Clause, PolicyDocument, ScoredClause

SearchMode = Literal["bm25", "dense", "hybrid"]


@dataclass
class Filters:
    """Applied together (AND): a clause passes only if it meets every filter that is set."""

    regions: list[str] | None = None
    doc_ids: list[str] | None = None
    kinds: list[str] | None = None
    statuses: list[str] | None = None
    lead_unit: str | None = None
    deadline_year: int | None = None

    def is_empty(self) -> bool:
        return not any(
            (self.regions, self.doc_ids, self.kinds, self.statuses, self.lead_unit, self.deadline_year)
        )


@dataclass
class SearchTimings:
    embed_ms: float = 0.0
    bm25_ms: float = 0.0
    dense_ms: float = 0.0
    total_ms: float = 0.0


@dataclass
class SearchResult:
    hits: list[ScoredClause] = field(default_factory=list)
    timings: SearchTimings = field(default_factory=SearchTimings)
    # set when the result is weaker than usual (e.g. dense search unavailable: BM25 alone); for people
    warnings: list[str] = field(default_factory=list)


@dataclass
class Health:
    """What an operator needs to know about an index: is dense search up, and does the store agree."""

    dense: bool = True
    detail: str = ""  # one line naming the server and the reason when dense search is unavailable
    store: str = ""  # the last catalog-vs-store check, e.g. "gen-…: all 301 clauses have vectors"
    store_ok: bool = True  # False while clauses lack vectors that could not be repaired
    deployment: str | None = None  # the shared deployment, or None for an index of its own
    generation: str = ""

    @property
    def status(self) -> str:
        return "ok" if self.dense and self.store_ok else "degraded"

    def to_json(self) -> dict[str, Any]:
        return {
            "dense": "ok" if self.dense else "unavailable",
            "detail": self.detail,
            "store": self.store,
            "deployment": self.deployment,
            "generation": self.generation,
        }


# Warnings a retriever raised while one answer was being composed: the bot does not pass them on, so the
# caller that wraps `ask` collects them here (per thread / task) and adds them to the answer.
_notes: ContextVar[list[str] | None] = ContextVar("retrieval_warnings", default=None)


@contextmanager
def collecting_warnings() -> Iterator[list[str]]:
    notes: list[str] = []
    token = _notes.set(notes)
    try:
        yield notes
    finally:
        _notes.reset(token)


def note_warning(message: str) -> None:
    notes = _notes.get()
    if notes is not None and message not in notes:
        notes.append(message)


class Retriever(Protocol):
    """Read access to one generation of the index."""

    @property
    def generation(self) -> str: ...

    @property
    def docs(self) -> dict[str, PolicyDocument]: ...

    @property
    def clauses(self) -> Sequence[Clause]:
        """Every clause, documents in catalog order, each document's clauses in reading order."""
        ...

    def search(
        self,
        query: str,
        *,
        k: int = 10,
        filters: Filters | None = None,
        mode: SearchMode = "hybrid",
        query_vector: np.ndarray | None = None,
    ) -> SearchResult:
        """The k best clauses for the query among those the filters let through, best first.
        A caller that already embedded the query passes its vector instead of paying for it twice."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """The query vector the dense side searches with (for callers that reuse it). Raises
        BackendUnavailable when a remote embeddings endpoint cannot be reached; search() then answers alone."""
        ...

    def matching(self, filters: Filters) -> list[Clause]:
        """Every clause the filters let through, in reading order (staff listings without a search word)."""
        ...

    def clause(self, clause_id: str) -> Clause | None: ...

    def tokenize(self, text: str) -> list[str]:
        """The lexical side's tokens for a text (the same analyzer the index was built with)."""
        ...

    def term_weights(self, terms: list[str]) -> dict[str, float]:
        """Inverse document frequency of each term over the clauses: rare words weigh more."""
        ...

    def doc_freq(self, term: str) -> int:
        """How many clauses contain the term as a token (0: the collection never uses the word)."""
        ...

    def words(self, min_clauses: int = 1) -> list[str]:
        """Every token of the lexical side used by at least min_clauses clauses."""
        ...

    def warm_up(self) -> None: ...


class LiveRetriever(Retriever, Protocol):
    """A retriever that a long-running process keeps current as other processes ingest."""

    def is_current(self) -> bool: ...

    def reload(self) -> None: ...

    def health(self) -> Health: ...
