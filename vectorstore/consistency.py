"""The catalog and the vector store checked against each other, and repaired from the vector cache.

A generation names its clauses; the store must hold a vector for each, in the whole collection and in
its region's partition. They drift apart when an index folder is copied without its store, when an index
is pointed at another store (an embedded index moved to a Chroma server), or when vectors were deleted
behind the index's back. Dense search would then silently miss those clauses, so the difference is
found at start and after each ingest, and either repaired or reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from core.records import Clause, PolicyDocument
from vectorstore.dense import PARTITION_KEY, ChromaStore, VectorCache, text_key
from vectorstore.embeddings import NamedEmbeddings
from vectorstore.representation import chroma_metadata, embed_text

log = logging.getLogger(__name__)


@dataclass
class StoreCheck:
    clauses: int = 0
    missing: list[str] = field(default_factory=list)  # clause ids with no vector in the store
    missing_in_partition: list[str] = field(default_factory=list)  # in the store, not in their region's partition
    orphans: int = 0  # vectors no clause of the generation uses (an interrupted writer's, or an older generation's)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.missing_in_partition

    def summary(self) -> str:
        if self.ok:
            return f"all {self.clauses} clauses have vectors"
        return (
            f"{len(self.missing)} of {self.clauses} clauses have no vector in the store"
            + (f", {len(self.missing_in_partition)} are missing from their region's partition"
               if self.missing_in_partition else "")
        )


def _counts_match(store: ChromaStore, want: dict[str, str]) -> bool:
    if store.count() != len(want):
        return False
    per_part: dict[str, int] = {}
    for p in want.values():
        per_part[p] = per_part.get(p, 0) + 1
    counts = store.partition_counts()
    return all(counts.get(p) == n for p, n in per_part.items()) and all(
        n == 0 for p, n in counts.items() if p not in per_part
    )


@dataclass
class Repair:
    from_cache: int = 0
    embedded: int = 0
    partitions: int = 0
    unrepaired: list[str] = field(default_factory=list)


def check_store(
    store: ChromaStore, docs: dict[str, PolicyDocument], clauses: list[Clause], *, thorough: bool = False
) -> StoreCheck:
    """What the store lacks for these clauses. Unless `thorough`, counts that match exactly (the whole
    collection and every region's partition) are taken as agreement: listing 100k ids takes seconds,
    counting takes milliseconds, and a copied, switched or thinned store never matches by count."""
    want = {c.clause_id: str(chroma_metadata(c, docs[c.doc_id])[PARTITION_KEY]) for c in clauses}
    if not thorough and _counts_match(store, want):
        return StoreCheck(clauses=len(want))
    have = store.ids()
    by_part = store.partition_ids()
    missing = [cid for cid in want if cid not in have]
    in_part = [cid for cid, p in want.items() if cid in have and cid not in by_part.get(p, ())]
    return StoreCheck(clauses=len(want), missing=missing, missing_in_partition=in_part, orphans=len(have - set(want)))


def repair(
    store: ChromaStore,
    docs: dict[str, PolicyDocument],
    clauses: list[Clause],
    check: StoreCheck,
    *,
    cache: VectorCache | None,
    embeddings: NamedEmbeddings | None = None,
) -> Repair:
    """Upsert what the check found missing: vectors from the cache, or, given embeddings, newly embedded;
    partitions from the store's own collection. What can be done neither way is returned unrepaired."""
    out = Repair()
    by_id = {c.clause_id: c for c in clauses}
    if check.missing:
        missing = [by_id[i] for i in check.missing]
        texts = [embed_text(c, docs[c.doc_id]) for c in missing]
        keys = [text_key(store.model, t) for t in texts]
        cached = cache.get_many(keys, model=store.model) if cache is not None else {}
        cached = {k: v for k, v in cached.items() if v.shape == (store.dim,)}
        todo = [j for j, k in enumerate(keys) if k not in cached]
        if todo and embeddings is not None:
            fresh = embeddings.embed_passages([texts[j] for j in todo])
            new = {keys[j]: v for j, v in zip(todo, fresh, strict=True)}
            if cache is not None:
                cache.put_many(new, model=store.model)
            cached.update(new)
            out.embedded = len(todo)
        got = [j for j, k in enumerate(keys) if k in cached]
        if got:
            store.upsert(
                [missing[j].clause_id for j in got],
                np.vstack([cached[keys[j]] for j in got]),
                [chroma_metadata(missing[j], docs[missing[j].doc_id]) for j in got],
            )
        out.from_cache = len(got) - out.embedded
        out.unrepaired = [missing[j].clause_id for j, k in enumerate(keys) if k not in cached]
    if check.missing_in_partition:
        vecs = store.vectors(check.missing_in_partition)
        ids = [i for i in check.missing_in_partition if i in vecs]
        if ids:
            store.upsert_partitions(
                ids, np.vstack([vecs[i] for i in ids]), [chroma_metadata(by_id[i], docs[by_id[i].doc_id]) for i in ids]
            )
        out.partitions = len(ids)
        out.unrepaired += [i for i in check.missing_in_partition if i not in vecs]
    return out
