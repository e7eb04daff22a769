"""The retriever contract: what the bot, the web app and the evaluation may ask of an index.

Any index that satisfies `Retriever` can stand behind the bot: the local index (BM25 + embedded
Chroma), the same index with vectors on a Chroma server, or a test double. The shared contract tests
(tests/retriever_contract.py) run against every implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

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
        """The query vector the dense side searches with (for callers that reuse it)."""
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

    def warm_up(self) -> None: ...


class LiveRetriever(Retriever, Protocol):
    """A retriever that a long-running process keeps current as other processes ingest."""

    def is_current(self) -> bool: ...

    def reload(self) -> None: ...
