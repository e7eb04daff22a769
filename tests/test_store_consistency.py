"""The catalog and the vector store checked against each other at start and at each ingest: a copied
index folder, an index pointed at another store, vectors deleted behind its back — repaired from the
vector cache, or reported, never silent. And the region partitions answer exactly what the whole
collection answers with a region filter."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.retrieval import Filters
from tests.conftest import FENGJIE_2026, JIULONGPO, POLICIES
from tests.procs import running_chroma
from vectorstore.dense import VECTOR_CACHE, copy_vector_cache


def _index(tmp_path: Path, sample_index_dir: Path, settings_factory, name: str = "index", **kw: object):
    from policybot.wiring import ingest_paths

    docs = tmp_path / "docs"
    if not docs.exists():
        docs.mkdir()
        for f in (JIULONGPO, FENGJIE_2026):
            shutil.copy(POLICIES / f, docs / f)
    index_dir = tmp_path / name
    copy_vector_cache(sample_index_dir, index_dir)  # same texts and model: nothing to embed
    settings = settings_factory(index_dir, **kw)
    report = ingest_paths([docs], settings=settings)
    assert not report.failed and report.embedded == 0
    return settings, docs, report


@pytest.mark.slow
def test_a_folder_copied_without_its_store_is_repaired_from_the_vector_cache(
    tmp_path: Path, sample_index_dir: Path, settings_factory, caplog: pytest.LogCaptureFixture
) -> None:
    from policybot.wiring import open_index

    settings, _, report = _index(tmp_path, sample_index_dir, settings_factory)
    assert report.store == f"all {report.clauses} clauses have vectors"
    copy = tmp_path / "copy"
    shutil.copytree(settings.index_dir, copy, ignore=shutil.ignore_patterns("chroma"))
    with caplog.at_level(logging.WARNING):
        index = open_index(settings.model_copy(update={"index_dir": copy}))
    assert f"{report.clauses} of {report.clauses} clauses have no vector" in caplog.text
    assert f"repaired {report.clauses} vectors from the vector cache" in caplog.text
    assert index.store.ids() == set(index.by_id)
    assert index.health().store.endswith(f"all {report.clauses} clauses have vectors")
    hits = index.search("星创天地", k=5, filters=Filters(regions=["重庆市九龙坡区"]), mode="dense").hits
    assert hits and all(h.document and h.document.region == "重庆市九龙坡区" for h in hits)


@pytest.mark.slow
def test_vectors_missing_with_no_cache_are_reported_then_embedded_by_the_next_ingest(
    tmp_path: Path, sample_index_dir: Path, settings_factory, caplog: pytest.LogCaptureFixture
) -> None:
    from policybot.wiring import ingest_paths, open_index

    settings, docs, report = _index(tmp_path, sample_index_dir, settings_factory)
    index = open_index(settings)
    gone = [c.clause_id for c in index.clauses[:7]]
    index.store.delete(gone)
    (settings.index_dir / VECTOR_CACHE).unlink()
    with caplog.at_level(logging.WARNING):
        index = open_index(settings)
    assert "7 remain missing (run `policybot ingest` to embed them)" in caplog.text
    assert f"7 of {report.clauses} clauses have no vector" in index.health().store
    assert index.health().status == "degraded"
    again = ingest_paths([docs], settings=settings)  # nothing changed, but the store is made whole
    assert not again.changed and again.repaired == 7
    assert again.store == f"all {report.clauses} clauses have vectors"
    assert index.store.ids() >= set(gone)


@pytest.mark.slow
def test_a_missing_region_partition_is_rebuilt_from_the_whole_collection(
    tmp_path: Path, sample_index_dir: Path, settings_factory
) -> None:
    from policybot.wiring import open_index

    settings, _, _ = _index(tmp_path, sample_index_dir, settings_factory)
    index = open_index(settings)
    store = index.store
    region = "重庆市奉节县"
    n = sum(1 for c in index.clauses if index.docs[c.doc_id].region == region)
    store.client.delete_collection(store.partition_name(region))
    index = open_index(settings)
    assert len(index.store.partition_ids()[region]) == n


@pytest.mark.slow
@pytest.mark.chroma_server
def test_an_embedded_index_pointed_at_a_server_is_published_with_its_vectors(
    tmp_path: Path, sample_index_dir: Path, settings_factory
) -> None:
    """The case of a reported bug: every file 'unchanged', the server holding 0 vectors, dense search empty."""
    from policybot.wiring import ingest_paths, open_index

    local, docs, report = _index(tmp_path, sample_index_dir, settings_factory)
    with running_chroma(tmp_path) as port:
        served = local.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": port, "deployment": "moved"})
        again = ingest_paths([docs], settings=served)
        assert not again.changed and sorted(again.skipped) == sorted(str(docs / f) for f in (JIULONGPO, FENGJIE_2026))
        assert again.store == f"all {report.clauses} clauses have vectors" and again.repaired == report.clauses
        index = open_index(served)
        assert len(index.clauses) == report.clauses and index.store.ids() == set(index.by_id)
        hits = index.search("软信企业 奖励", k=5, filters=Filters(regions=["重庆市奉节县"]), mode="dense").hits
        assert hits and {h.document.region for h in hits if h.document} == {"重庆市奉节县"}
        # another server of the deployment, with an empty folder, finds all of it on the server
        other = open_index(served.model_copy(update={"index_dir": tmp_path / "other-server"}))
        assert set(other.docs) == set(index.docs) and other.clauses == index.clauses
        assert other.search("软信企业 奖励", k=3, mode="dense").hits


QUERIES = ("软信企业 奖励 补助", "5G基站 千兆光网 建设", "新增软信从业人员", "数据开放", "人工智能 智能体 应用场景",
           "科技特派员", "星创天地 牵头单位", "首次纳入规上统计")


@pytest.mark.parametrize(
    "regions",
    [["重庆市奉节县"], ["重庆市万州区"], ["重庆市九龙坡区", "重庆市"], ["重庆市奉节县", "重庆市万州区", "重庆市"]],
)
def test_region_partitions_return_the_exact_nearest_clauses(sample_index, regions: list[str]) -> None:
    """The partitions' answer is the exact top 50 of a brute-force search over the region's clauses."""
    store = sample_index.store
    ids = [c.clause_id for c in sample_index.clauses if sample_index.docs[c.doc_id].region in regions]
    vecs = store.vectors(ids)
    matrix = np.vstack([vecs[i] for i in ids])
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    for q in QUERIES:
        vec = sample_index.embeddings.embed_query_vec(q)
        sims = matrix @ (vec / np.linalg.norm(vec))
        exact = [ids[j] for j in np.argsort(-sims)[:50]]
        parts = store.query(vec, n=50, where=None, partitions=regions)
        assert [i for i, _ in parts] == exact, q
        np.testing.assert_allclose([s for _, s in parts], np.sort(sims)[::-1][:50], atol=1e-4)


def test_hybrid_search_ranks_alike_with_and_without_partitions(sample_index, monkeypatch: pytest.MonkeyPatch) -> None:
    filters = [Filters(regions=["重庆市奉节县"]), Filters(regions=["重庆市万州区", "重庆市"]), Filters(doc_ids=[
        next(d.doc_id for d in sample_index.docs.values() if d.region == "重庆市九龙坡区")])]

    def top10() -> list[list[str]]:
        return [[h.clause.clause_id for h in sample_index.search(q, k=10, filters=f).hits]
                for q in QUERIES for f in filters]

    with_parts = top10()
    monkeypatch.setattr(sample_index.tuning, "max_partitions", 0)  # every filtered search asks the whole collection
    assert top10() == with_parts
