"""The ingest steps one at a time: parse → diff → embed → write → swap, on a made-up county's documents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.settings import Settings
from indexing import service
from indexing.service import IngestReport, Parsed
from ingest.discover import expand_paths
from ingest.pipeline import PARSER_VERSION
from policybot.wiring import get_embeddings
from vectorstore import catalog
from vectorstore.dense import ChromaStore, VectorCache, open_chroma

TODAY = dt.date(2026, 11, 22)
PLAN = """青禾县数字乡村建设行动方案

一、主要任务
（一）建设益农信息站。到2027年建成村级益农信息站120个。（牵头单位：县农业农村局；责任单位：各乡镇人民政府）
（二）培育电商主体。对年网络零售额首次突破500万元的电商企业，一次性奖励3万元。（牵头单位：县商务局）
"""
NOTICE = """青禾县人才驿站服务公告

一、服务对象
来青禾县创业的高校毕业生，可申请入住人才驿站，免费入住期限最长不超过3个月。
"""


def _files(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "plan.txt").write_text(PLAN, "utf-8")
    (docs / "notice.txt").write_text(NOTICE, "utf-8")
    (docs / "broken.txt").write_bytes(b"")
    return docs


def _settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", today=TODAY)


def _parse(files: list[Path], live: catalog.Generation, report: IngestReport) -> Parsed:
    return service.parse_changed(files, live, report, today=TODAY, max_bytes=1 << 20, max_clause_chars=600)


def test_parse_reads_new_files_and_reports_bad_ones(tmp_path: Path) -> None:
    docs = _files(tmp_path)
    report = IngestReport()
    parsed = _parse(expand_paths([docs]), catalog.Generation(), report)
    assert sorted(Path(p).name for p in report.added) == ["notice.txt", "plan.txt"]
    assert [Path(p).name for p, _ in report.failed] == ["broken.txt"]
    assert "empty" in report.failed[0][1]
    assert {d.title for d in parsed.docs.values()} == {"青禾县数字乡村建设行动方案", "青禾县人才驿站服务公告"}


def test_parse_skips_files_unchanged_since_the_live_generation(tmp_path: Path) -> None:
    docs = _files(tmp_path)
    first = _parse(expand_paths([docs]), catalog.Generation(), IngestReport())
    live = catalog.Generation(name="g1", docs=first.docs, clauses=[c for cl in first.clauses.values() for c in cl],
                              parser_version=PARSER_VERSION)
    (docs / "notice.txt").write_text(NOTICE.replace("3个月", "6个月"), "utf-8")
    report = IngestReport()
    parsed = _parse(expand_paths([docs]), live, report)
    assert [Path(p).name for p in report.skipped] == ["plan.txt"]
    assert [Path(p).name for p in report.updated] == ["notice.txt"]
    old_notice = next(d.doc_id for d in first.docs.values() if d.source_file == "notice.txt")
    assert parsed.replaced == {old_notice}


def test_diff_keeps_unchanged_drops_replaced_vanished_and_named(tmp_path: Path) -> None:
    docs = _files(tmp_path)
    first = _parse(expand_paths([docs]), catalog.Generation(), IngestReport())
    all_clauses = [c for cl in first.clauses.values() for c in cl]
    live = catalog.Generation(name="g1", docs=first.docs, clauses=all_clauses, parser_version=PARSER_VERSION)
    plan_id = next(d.doc_id for d in first.docs.values() if d.source_file == "plan.txt")
    notice_id = next(d.doc_id for d in first.docs.values() if d.source_file == "notice.txt")

    # the notice file vanished from a folder that is ingested again: its document leaves the index
    (docs / "notice.txt").unlink()
    report = IngestReport()
    kept, clauses, new = service.diff(live, Parsed(), [docs], report)
    assert set(kept) == {plan_id} and new == []
    assert {c.doc_id for c in clauses} == {plan_id}
    assert [Path(p).name for p in report.removed] == ["notice.txt"]

    # a document named for removal leaves even though its file is still there
    report = IngestReport()
    kept, _, _ = service.diff(live, Parsed(), [], report, remove_doc_ids=[plan_id])
    assert set(kept) == {notice_id}
    assert [Path(p).name for p in report.removed] == ["plan.txt"]


def test_embed_uses_the_content_hash_cache(tmp_path: Path) -> None:
    docs = _files(tmp_path)
    parsed = _parse(expand_paths([docs]), catalog.Generation(), IngestReport())
    clauses = [c for cl in parsed.clauses.values() for c in cl]
    emb = get_embeddings(_settings(tmp_path))
    cache = VectorCache(tmp_path / "vectors.sqlite")
    try:
        vecs, fresh = service.embed_new(clauses, parsed.docs, emb, cache)
        assert vecs.shape == (len(clauses), emb.dim) and fresh == len(clauses)
        again, fresh2 = service.embed_new(clauses, parsed.docs, emb, cache)
        assert fresh2 == 0 and (again == vecs).all()
    finally:
        cache.close()


def test_write_is_invisible_until_swap_and_swap_drops_stale_vectors(tmp_path: Path) -> None:
    docs = _files(tmp_path)
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    parsed = _parse(expand_paths([docs]), catalog.Generation(), IngestReport())
    clauses = [c for cl in parsed.clauses.values() for c in cl]
    emb = get_embeddings(_settings(tmp_path))
    cache = VectorCache(index_dir / "vectors.sqlite")
    try:
        vecs, _ = service.embed_new(clauses, parsed.docs, emb, cache)
    finally:
        cache.close()
    store = ChromaStore(open_chroma(index_dir), model=emb.name, dim=emb.dim)
    store.upsert(["stale-vector"], vecs[:1], [{"doc_id": "gone"}])

    gen = service.write(index_dir, store, parsed.docs, clauses, clauses, vecs, emb.name)
    assert catalog.current_name(index_dir) is None, "a written generation is not live before the swap"
    assert (index_dir / service.DIRTY).exists()
    assert "stale-vector" in store.ids()

    service.swap(index_dir, store, gen)
    assert catalog.current_name(index_dir) == gen.name
    assert store.ids() == {c.clause_id for c in clauses}
    assert not (index_dir / service.DIRTY).exists()
    loaded = catalog.load_generation(index_dir)
    assert [c.clause_id for c in loaded.clauses] == [c.clause_id for c in clauses]


@pytest.mark.parametrize("missing", ["does-not-exist.txt"])
def test_a_named_file_that_does_not_exist_is_a_failure_not_a_crash(tmp_path: Path, missing: str) -> None:
    report = IngestReport()
    parsed = _parse([tmp_path / missing], catalog.Generation(), report)
    assert parsed.docs == {} and report.failed == [(str(tmp_path / missing), "file not found")]
