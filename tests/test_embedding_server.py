"""Embeddings from an OpenAI-compatible /v1/embeddings endpoint (POLICYBOT_EMBEDDING_BACKEND=openai),
against a small deterministic server started in the test: batched, retried, cached per model name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import BackendUnavailable
from core.retrieval import Filters
from tests.fake_embedding_server import DIM, fake_embedding_server, fake_vector
from vectorstore.dense import VECTOR_CACHE, VectorCache, copy_vector_cache, text_key
from vectorstore.embeddings import OpenAICompatibleEmbeddings, make_embeddings
from vectorstore.search import DENSE_DOWN_WARNING

PLAN = """青禾县数字乡村建设行动方案

一、主要任务
（一）建设益农信息站。到2027年建成村级益农信息站120个。（牵头单位：县农业农村局；责任单位：各乡镇人民政府）
（二）培育电商主体。对年网络零售额首次突破500万元的电商企业，一次性奖励3万元。（牵头单位：县商务局）
（三）发展智慧农业。建设数字农业示范基地5个，推广水肥一体化技术。（牵头单位：县农业技术推广中心）
"""
NOTICE = """青禾县人才驿站服务公告

一、服务对象
来青禾县创业的高校毕业生，可申请入住人才驿站，免费入住期限最长不超过3个月。
二、申请方式
申请人向县人力资源和社会保障局提交申请表和毕业证书复印件。
"""


def test_batches_retries_and_unit_vectors() -> None:
    with fake_embedding_server() as srv:
        emb = OpenAICompatibleEmbeddings(base_url=srv.url, model="fake-a", batch_size=4, max_retries=2)
        texts = [f"第{i}条 政策文本" for i in range(10)]
        vecs = emb.embed_passages(texts)
        assert srv.batch_sizes() == [4, 4, 2]
        assert vecs.shape == (10, DIM) and emb.dim == DIM and vecs.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(vecs[3], fake_vector("fake-a", texts[3]), atol=1e-6)
        assert all(r["model"] == "fake-a" and r["encoding_format"] == "float" for r in srv.requests)

        srv.fail_next = 1  # one 503: the batch is sent again and succeeds
        again = emb.embed_passages(texts[:2])
        assert srv.batch_sizes()[-2:] == [2, 2]
        np.testing.assert_allclose(again, vecs[:2], atol=1e-6)
        assert emb.name == "openai-compatible/fake-a"


def test_prefixes_change_the_model_name_and_the_text_sent() -> None:
    with fake_embedding_server() as srv:
        plain = OpenAICompatibleEmbeddings(base_url=srv.url, model="e5")
        e5 = OpenAICompatibleEmbeddings(
            base_url=srv.url, model="e5", query_prefix="query: ", passage_prefix="passage: "
        )
        e5.embed_query_vec("补贴")
        e5.embed_passages(["补贴标准"])
        assert [r["input"] for r in srv.requests] == [["query: 补贴"], ["passage: 补贴标准"]]
        assert e5.name != plain.name and e5.name.startswith("openai-compatible/e5+")


def test_an_unreachable_or_failing_endpoint_is_one_clear_line() -> None:
    with fake_embedding_server() as srv:
        url = srv.url
        wrong = OpenAICompatibleEmbeddings(base_url=url.removesuffix("/v1") + "/nothing-here", model="m", max_retries=0)
        with pytest.raises(BackendUnavailable, match="404") as e:
            wrong.embed_query_vec("问题")
        assert "/nothing-here" in str(e.value) and "\n" not in str(e.value)
        srv.fail_next = 5
        busy = OpenAICompatibleEmbeddings(base_url=url, model="m", max_retries=1)
        with pytest.raises(BackendUnavailable, match="503"):
            busy.embed_query_vec("问题")
    gone = OpenAICompatibleEmbeddings(base_url=url, model="m", max_retries=0)  # the server has stopped
    with pytest.raises(BackendUnavailable, match="unreachable") as e:
        gone.embed_query_vec("问题")
    assert url in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ValueError, match="EMBEDDING_BASE_URL"):
        make_embeddings("openai", base_url=None, model="m")


def _docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "plan.txt").write_text(PLAN, "utf-8")
    (docs / "notice.txt").write_text(NOTICE, "utf-8")
    return docs


def test_ingest_and_search_through_the_endpoint_then_bm25_when_it_is_gone(tmp_path: Path, settings_factory) -> None:
    from policybot.wiring import ingest_paths, open_index

    docs = _docs(tmp_path)
    with fake_embedding_server() as srv:
        settings = settings_factory(tmp_path / "index", embedding_backend="openai", embedding_base_url=srv.url,
                                    embedding_model="fake-a", embedding_server={"batch_size": 3, "max_retries": 0})
        report = ingest_paths([docs], settings=settings)
        assert not report.failed and report.embedded == report.clauses > 3
        assert max(srv.batch_sizes()) == 3  # passages go in batches of the configured size
        index = open_index(settings)
        hits = index.search("益农信息站 建设", k=3, mode="dense").hits
        assert hits and "益农信息站" in hits[0].clause.text
        assert index.health().dense
        sent = len(srv.requests)
        assert ingest_paths([docs], settings=settings).embedded == 0  # cached: nothing sent again
        assert len(srv.requests) == sent
    # the endpoint is gone: the query cannot be embedded, so BM25 answers alone, and says so
    result = index.search("益农信息站 建设", k=3)
    assert result.hits and "益农信息站" in result.hits[0].clause.text
    assert result.warnings == [DENSE_DOWN_WARNING]
    health = index.health()
    assert not health.dense and srv.url in health.detail
    assert index.search("人才驿站", k=3, filters=Filters(kinds=["body"])).warnings == [DENSE_DOWN_WARNING]


def test_the_vector_cache_never_mixes_two_models(tmp_path: Path, settings_factory) -> None:
    from policybot.wiring import ingest_paths, open_index

    docs = _docs(tmp_path)
    with fake_embedding_server() as srv:
        a = settings_factory(tmp_path / "index-a", embedding_backend="openai", embedding_base_url=srv.url,
                             embedding_model="fake-a")
        first = ingest_paths([docs], settings=a)
        # another index seeded with model a's cache, built with model b: every text is embedded anew
        copy_vector_cache(tmp_path / "index-a", tmp_path / "index-b")
        b = a.model_copy(update={"index_dir": tmp_path / "index-b", "embedding_model": "fake-b"})
        second = ingest_paths([docs], settings=b)
        assert second.embedded == second.clauses == first.clauses
        assert [r["model"] for r in srv.requests][-1] == "fake-b"

        cache = VectorCache(tmp_path / "index-b" / VECTOR_CACHE)
        try:
            n = first.clauses
            assert cache.models() == {"openai-compatible/fake-a": n, "openai-compatible/fake-b": n}
            text = "同一段文字"
            cache.put_many({text_key("openai-compatible/fake-a", text): np.ones(DIM, np.float32)},
                           model="openai-compatible/fake-a")
            key_a = text_key("openai-compatible/fake-a", text)
            assert key_a in cache.get_many([key_a], model="openai-compatible/fake-a")
            assert cache.get_many([key_a], model="openai-compatible/fake-b") == {}  # asked for b: never a's vector
        finally:
            cache.close()
        index_b = open_index(b)
        hit = index_b.search("人才驿站 入住期限", k=1, mode="dense").hits[0]
        assert "人才驿站" in hit.clause.text
