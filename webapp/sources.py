"""A cited clause in its place: the document, the clause and its neighbours in reading order.

The chat's source panel shows the cited clause highlighted among the clauses around it, so that a
reader sees the heading it sits under and what comes before and after. Neighbours come through the
Retriever contract (`matching` with a document filter returns that document's clauses in order).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.records import Citation, Clause, PolicyDocument
from core.retrieval import Filters, Retriever

# Clauses shown before and after a cited one: enough to see its heading and context, short enough
# to read on a phone without scrolling far.
NEIGHBOURS = 2


@dataclass(frozen=True)
class Source:
    """One numbered source of an answer, as the chat shows it."""

    n: int
    citation: Citation
    doc: PolicyDocument | None
    clause: Clause | None  # None when the clause left the index since the answer was given
    before: list[Clause] = field(default_factory=list)
    after: list[Clause] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.doc.title if self.doc is not None else self.citation.doc_title

    @property
    def path(self) -> str:
        return self.clause.label if self.clause is not None else self.citation.clause


def sources_for(index: Retriever, citations: list[Citation], *, neighbours: int = NEIGHBOURS) -> list[Source]:
    """Each citation with its document, its clause and up to `neighbours` clauses either side."""
    in_doc: dict[str, list[Clause]] = {}
    out: list[Source] = []
    for n, cite in enumerate(citations, start=1):
        doc = index.docs.get(cite.doc_id)
        clause = index.clause(cite.clause_id) if cite.clause_id else None
        if clause is None or doc is None:
            out.append(Source(n, cite, doc, clause))
            continue
        if doc.doc_id not in in_doc:
            in_doc[doc.doc_id] = index.matching(Filters(doc_ids=[doc.doc_id]))
        ordered = in_doc[doc.doc_id]
        pos = next((i for i, c in enumerate(ordered) if c.clause_id == clause.clause_id), None)
        if pos is None:
            out.append(Source(n, cite, doc, clause))
            continue
        out.append(Source(n, cite, doc, clause, before=ordered[max(0, pos - neighbours) : pos],
                          after=ordered[pos + 1 : pos + 1 + neighbours]))
    return out
