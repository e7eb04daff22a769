"""The contract every core.retrieval.Retriever implementation keeps, as a reusable test class.

A test module subclasses `RetrieverContract` and provides a `retriever` fixture holding the sample
corpus; the same assertions then run against that implementation (see test_retriever_contract.py).
"""

from __future__ import annotations

import pytest

from core.retrieval import Filters, Retriever, SearchResult

# A phrase stated by exactly one clause of the sample corpus, and the region of its document.
KNOWN_PHRASE = "首次纳入统计部门联网直报的规模以上软件和信息服务业企业入统每户给予20万元奖励"


class RetrieverContract:
    @pytest.fixture
    def retriever(self) -> Retriever:
        raise NotImplementedError("a test module provides the retriever under test")

    def test_catalog_and_clauses_agree(self, retriever: Retriever) -> None:
        assert retriever.generation
        assert retriever.docs and retriever.clauses
        assert {c.doc_id for c in retriever.clauses} == set(retriever.docs)
        for c in retriever.clauses[:50]:
            assert retriever.clause(c.clause_id) == c
        assert retriever.clause("no-such-clause") is None

    @pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
    def test_search_finds_the_clause_stating_a_phrase(self, retriever: Retriever, mode: str) -> None:
        result = retriever.search(KNOWN_PHRASE, k=5, mode=mode)  # type: ignore[arg-type]
        assert isinstance(result, SearchResult)
        assert 0 < len(result.hits) <= 5
        assert any(KNOWN_PHRASE in h.clause.text for h in result.hits[:3])
        scores = [h.score for h in result.hits]
        assert scores == sorted(scores, reverse=True)
        assert all(h.document is not None and h.document.doc_id == h.clause.doc_id for h in result.hits)
        t = result.timings
        assert t.total_ms > 0 and min(t.embed_ms, t.bm25_ms, t.dense_ms) >= 0
        if mode != "bm25":
            assert t.embed_ms > 0 and t.dense_ms > 0

    def test_filters_apply_together(self, retriever: Retriever) -> None:
        region = retriever.docs[next(c.doc_id for c in retriever.clauses if KNOWN_PHRASE in c.text)].region
        both = Filters(regions=[region], kinds=["body"])
        hits = retriever.search("奖励 企业", k=20, filters=both).hits
        assert hits
        for h in hits:
            assert h.document is not None and h.document.region == region and h.clause.kind == "body"
        # a filter that no clause meets gives nothing, never the unfiltered list
        assert retriever.search("奖励 企业", k=20, filters=Filters(regions=[region], kinds=["no-kind"])).hits == []

    def test_matching_lists_every_clause_in_reading_order(self, retriever: Retriever) -> None:
        doc_id = next(iter(retriever.docs))
        listed = retriever.matching(Filters(doc_ids=[doc_id]))
        assert listed == [c for c in retriever.clauses if c.doc_id == doc_id]
        assert [c.seq for c in listed] == sorted(c.seq for c in listed)
        tasks = retriever.matching(Filters(doc_ids=[doc_id], kinds=["task_row"]))
        assert all(c.kind == "task_row" and c.doc_id == doc_id for c in tasks)

    def test_rare_words_weigh_more(self, retriever: Retriever) -> None:
        tokens = retriever.tokenize("规模以上软件企业入统奖励")
        assert tokens and all(isinstance(t, str) and t for t in tokens)
        w = retriever.term_weights(["企业", "入统", "从未出现的词"])
        assert w["从未出现的词"] > w["入统"] > w["企业"] > 0
