"""Server mode: the same corpus ingested into a real `chroma run` server retrieves what the embedded client does."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.retrieval import Filters
from tests.procs import running_chroma
from vectorstore.dense import copy_vector_cache

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "data" / "policies"
FENGJIE_2026 = "fengjie-2026-software-info-industry-action-plan.txt"
JIULONGPO = "jiulongpo-mantianxing-software-plan-draft.txt"
pytestmark = [pytest.mark.chroma_server, pytest.mark.slow]

QUERIES = ("软信企业 奖励 补助", "5G基站 千兆光网 建设", "新增软信从业人员", "数据开放", "人工智能 智能体 应用场景")


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    with running_chroma(tmp_path) as port:
        yield port


def test_server_mode_matches_embedded_client(tmp_path: Path, chroma_server: int, settings_factory) -> None:
    from policybot.wiring import ingest_paths, open_index

    docs = tmp_path / "docs"
    docs.mkdir()
    a, b = docs / JIULONGPO, docs / FENGJIE_2026
    shutil.copy(POLICIES / JIULONGPO, a)
    shutil.copy(POLICIES / FENGJIE_2026, b)

    embedded = settings_factory(tmp_path / "embedded")
    local = ingest_paths([docs], settings=embedded)
    assert not local.failed and local.embedded == local.clauses

    # the server-mode index reuses the embedded index's vectors: same texts, same model, no second embedding
    server_dir = tmp_path / "server-index"
    copy_vector_cache(tmp_path / "embedded", server_dir)
    served = settings_factory(server_dir, chroma_host="127.0.0.1", chroma_port=chroma_server)
    remote = ingest_paths([docs], settings=served)
    assert not remote.failed and remote.embedded == 0
    assert remote.clauses == local.clauses and remote.documents == local.documents == 2
    assert not (server_dir / "chroma").exists(), "vectors must go to the server, not a local Chroma"

    local_idx, remote_idx = open_index(embedded), open_index(served)
    assert remote_idx.store.ids() == set(remote_idx.by_id) == set(local_idx.by_id)
    for q in QUERIES:
        for mode in ("hybrid", "dense"):
            want = [h.clause.clause_id for h in local_idx.search(q, k=3, mode=mode).hits]
            got = [h.clause.clause_id for h in remote_idx.search(q, k=3, mode=mode).hits]
            assert got == want, f"{mode} top-3 for {q!r}"

    # metadata filters travel to the server as `where`
    hits = remote_idx.search("软信企业 奖励", k=10, filters=Filters(regions=["重庆市奉节县"]), mode="dense").hits
    assert hits and {h.document.region for h in hits if h.document} == {"重庆市奉节县"}
    hits = remote_idx.search("星创天地", k=10, filters=Filters(kinds=["task_row"]), mode="dense").hits
    assert all(h.clause.kind == "task_row" for h in hits)

    # incremental removal deletes the vectors on the server as well
    b.unlink()
    rm = ingest_paths([docs], settings=served)
    assert rm.removed == [str(b)]
    remote_idx = open_index(served)
    a_ids = {c.clause_id for c in remote_idx.clauses}
    assert {remote_idx.docs[c.doc_id].source_file for c in remote_idx.clauses} == {JIULONGPO}
    assert remote_idx.store.ids() == a_ids
