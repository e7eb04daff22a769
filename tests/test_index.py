"""The index: filters and region ranking on the sample corpus, the incremental ingest life cycle, the writer
lock, and readers in one process seeing what an ingest in another process wrote.

Small indexes are built from one or two short sample documents copied into tmp_path. Their vector cache is
seeded from the session sample index, so unchanged texts are not embedded again and the tests stay quick;
what an ingest must embed is then exactly the texts the sample corpus does not contain.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import IndexLocked
from core.records import Clause, PolicyDocument
from core.retrieval import Filters
from indexing.lock import writer_lock
from indexing.service import DIRTY
from tests.conftest import FENGJIE_2026, JIULONGPO, POLICIES, ROOT, WANZHOU
from vectorstore import catalog
from vectorstore.dense import copy_vector_cache
from vectorstore.representation import embed_text
from vectorstore.search import HybridRetriever, PolicyIndex

NEW_CLAUSE = "（五）新增条款。测试内容。"


def doc_by_file(index: PolicyIndex, name: str) -> PolicyDocument:
    return next(d for d in index.docs.values() if d.source_file == name)


def clauses_of(index: PolicyIndex, doc_id: str) -> list[Clause]:
    return [c for c in index.clauses if c.doc_id == doc_id]


def cli_ingest(docs: Path, index_dir: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policybot.cli", "ingest", str(docs), "--index", str(index_dir), "--quiet"],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=os.environ.copy(),
    )


@pytest.fixture
def embeddings(settings_factory, tmp_path: Path):
    from policybot.wiring import get_embeddings

    return get_embeddings(settings_factory(tmp_path / "unused"))


# ---- whole corpus: filters and ranking ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_region_filter_returns_only_that_region(sample_index: PolicyIndex, mode: str) -> None:
    hits = sample_index.search("首次纳入规上统计 奖励", k=10, filters=Filters(regions=["重庆市万州区"]), mode=mode).hits
    assert hits, "the 万州 plan has a clause on first-time 规上 registration"
    assert {h.document.region for h in hits if h.document} == {"重庆市万州区"}
    assert any("入统每户给予20万元奖励" in h.clause.text for h in hits[:3])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("万州建成5G基站多少个", "建成5G基站5050个"),
        ("万州 规上软件企业 年营业额 奖励", "年营业额达到1000万元"),
        ("万州 首次纳入规上统计 奖励多少", "入统每户给予20万元奖励"),
    ],
)
def test_region_named_in_question_outranks_other_county(sample_index: PolicyIndex, question: str, answer: str) -> None:
    """Without a filter, no 奉节县 clause may rank above the 万州 clause that answers the question."""
    hits = sample_index.search(question, k=10).hits
    ranks = [i for i, h in enumerate(hits)
             if h.document and h.document.region == "重庆市万州区" and answer in h.clause.text]
    assert ranks, f"no 万州 clause containing {answer!r} in the top 10: {[h.clause.label for h in hits]}"
    above = [h for h in hits[: ranks[0]] if h.document and h.document.region == "重庆市奉节县"]
    assert not above, f"奉节 ranked above the answer: {[h.clause.label for h in above]}"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_kind_filter_returns_only_task_rows(sample_index: PolicyIndex, mode: str) -> None:
    hits = sample_index.search("油橄榄 星创天地", k=10, filters=Filters(kinds=["task_row"]), mode=mode).hits
    assert hits
    assert {h.clause.kind for h in hits} == {"task_row"}


@pytest.mark.slow
def test_langchain_retriever(sample_index: PolicyIndex) -> None:
    from langchain_core.documents import Document

    docs = HybridRetriever(index=sample_index).invoke("油橄榄 星创天地")
    assert docs and all(isinstance(d, Document) for d in docs)
    assert docs[0].metadata["path"].endswith("第16项")
    assert "油橄榄" in docs[0].page_content
    assert docs[0].metadata["region"] == "重庆市奉节县"


# ---- incremental ingest ------------------------------------------------------------------------------


@pytest.mark.slow
def test_incremental_life_cycle(
    tmp_path: Path, sample_index_dir: Path, settings_factory, embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policybot.wiring import ingest_paths

    # every ingest below gets the same timestamp, as fast ingests within one second do: generation
    # names must still differ, or readers would take a changed index for the one they hold
    real_strftime = time.strftime

    def frozen_strftime(fmt: str, *args: object) -> str:
        return "20260101000000" if fmt == "%Y%m%d%H%M%S" else real_strftime(fmt, *args)

    monkeypatch.setattr(time, "strftime", frozen_strftime)

    docs = tmp_path / "docs"
    docs.mkdir()
    a, b = docs / JIULONGPO, docs / FENGJIE_2026
    shutil.copy(POLICIES / JIULONGPO, a)
    shutil.copy(POLICIES / FENGJIE_2026, b)
    index_dir = tmp_path / "index"
    copy_vector_cache(sample_index_dir, index_dir)
    settings = settings_factory(index_dir)

    first = ingest_paths([docs], settings=settings)
    assert not first.failed
    assert sorted(first.added) == sorted([str(a), str(b)])
    assert first.embedded == 0  # every text is in the seeded cache
    idx1 = PolicyIndex(index_dir, embeddings=embeddings)
    doc_a, doc_b = doc_by_file(idx1, JIULONGPO), doc_by_file(idx1, FENGJIE_2026)
    a_ids = [c.clause_id for c in clauses_of(idx1, doc_a.doc_id)]
    old_b = clauses_of(idx1, doc_b.doc_id)
    assert first.documents == 2
    assert first.clauses == len(idx1.clauses) == len(a_ids) + len(old_b) == doc_a.clause_count + doc_b.clause_count
    assert idx1.store.ids() == set(idx1.by_id)

    # unchanged: nothing parsed, embedded or swapped
    t0 = time.perf_counter()
    again = ingest_paths([docs], settings=settings)
    elapsed = time.perf_counter() - t0
    assert not again.changed and again.embedded == 0
    assert sorted(again.skipped) == sorted([str(a), str(b)])
    assert catalog.current_name(index_dir) == idx1.generation
    assert idx1.is_current()
    assert elapsed <= 3.0, f"a no-op ingest took {elapsed:.2f}s"

    # B gains one clause: only B is replaced, and only the new text is embedded
    b.write_text(b.read_text("utf-8").rstrip() + "\n" + NEW_CLAUSE + "\n", encoding="utf-8")
    upd = ingest_paths([docs], settings=settings)
    assert upd.updated == [str(b)] and not upd.added and not upd.removed and not upd.failed
    assert not idx1.is_current()
    idx2 = PolicyIndex(index_dir, embeddings=embeddings)
    assert idx2.generation != idx1.generation
    new_doc_b = doc_by_file(idx2, FENGJIE_2026)
    assert new_doc_b.doc_id != doc_b.doc_id  # doc ids follow the content
    assert [c.clause_id for c in clauses_of(idx2, doc_a.doc_id)] == a_ids
    new_b = clauses_of(idx2, new_doc_b.doc_id)
    assert len(new_b) == len(old_b) + 1
    assert not {c.clause_id for c in old_b} & set(idx2.by_id)
    old_texts = {embed_text(c, doc_b) for c in old_b}
    changed = [c for c in new_b if embed_text(c, new_doc_b) not in old_texts]
    assert any(c.text == NEW_CLAUSE for c in changed)
    assert upd.embedded == len(changed)
    assert 1 <= upd.embedded <= 3 < len(new_b), "unchanged clause texts must come from the vector cache"
    assert idx2.store.ids() == set(idx2.by_id)  # B's old vectors are gone from Chroma too
    top = idx2.search("新增条款 测试内容", k=1).hits
    assert top and top[0].clause.text == NEW_CLAUSE

    # B's file is deleted: its document, clauses and vectors leave the index
    b.unlink()
    rm = ingest_paths([docs], settings=settings)
    assert rm.removed == [str(b)] and not rm.updated and not rm.added
    idx3 = PolicyIndex(index_dir, embeddings=embeddings)
    assert idx3.generation not in (idx1.generation, idx2.generation)
    assert set(idx3.docs) == {doc_a.doc_id}
    assert [c.clause_id for c in idx3.clauses] == a_ids
    assert idx3.store.ids() == set(a_ids)
    assert all(h.clause.doc_id == doc_a.doc_id for h in idx3.search("新增条款 测试内容", k=5).hits)
    # only the current generation is kept on disk
    assert [p.name for p in (index_dir / catalog.GENERATIONS).iterdir()] == [idx3.generation]


@pytest.mark.slow
def test_ingest_cleans_up_after_an_interrupted_one_even_when_nothing_changed(
    tmp_path: Path, sample_index_dir: Path, settings_factory, embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that dies between its Chroma upsert and the swap leaves orphan vectors and a stray generation."""
    from policybot.wiring import ingest_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(POLICIES / JIULONGPO, docs / JIULONGPO)
    index_dir = tmp_path / "index"
    copy_vector_cache(sample_index_dir, index_dir)
    settings = settings_factory(index_dir)
    ingest_paths([docs], settings=settings)
    current = catalog.current_name(index_dir)
    assert not (index_dir / DIRTY).exists()

    def die(index_dir: Path, name: str) -> None:
        raise KeyboardInterrupt("killed before the swap")

    shutil.copy(POLICIES / WANZHOU, docs / WANZHOU)
    monkeypatch.setattr(catalog, "swap_current", die)
    with pytest.raises(KeyboardInterrupt):
        ingest_paths([docs], settings=settings)
    monkeypatch.undo()
    idx = PolicyIndex(index_dir, embeddings=embeddings)
    assert idx.generation == current
    assert idx.store.ids() > set(idx.by_id)  # the interrupted writer's vectors are orphans
    assert len(list((index_dir / catalog.GENERATIONS).iterdir())) == 2
    assert (index_dir / DIRTY).exists()

    (docs / WANZHOU).unlink()  # the user gives up on the new file: the next ingest has nothing to add
    report = ingest_paths([docs], settings=settings)
    assert not report.changed
    idx = PolicyIndex(index_dir, embeddings=embeddings)
    assert idx.generation == current
    assert idx.store.ids() == set(idx.by_id)
    assert [p.name for p in (index_dir / catalog.GENERATIONS).iterdir()] == [current]
    assert not (index_dir / DIRTY).exists()


@pytest.mark.slow
def test_reader_sees_vectors_written_by_another_process(
    tmp_path: Path, sample_index_dir: Path, settings_factory, embeddings
) -> None:
    """A long-lived reader (the app) must find, after reload(), clauses that `policybot ingest` added."""
    from policybot.wiring import ingest_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(POLICIES / JIULONGPO, docs / JIULONGPO)
    index_dir = tmp_path / "index"
    copy_vector_cache(sample_index_dir, index_dir)
    ingest_paths([docs], settings=settings_factory(index_dir))
    reader = PolicyIndex(index_dir, embeddings=embeddings)
    assert reader.search("万州建成5G基站多少个", k=3, mode="dense").hits  # loads the vector index into this process

    shutil.copy(POLICIES / WANZHOU, docs / WANZHOU)
    proc = cli_ingest(docs, index_dir, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not reader.is_current()
    reader.reload()
    hits = reader.search("万州建成5G基站多少个", k=3, mode="dense").hits
    assert hits and hits[0].document and hits[0].document.region == "重庆市万州区"
    assert reader.store.ids() == set(reader.by_id)


# ---- single writer -----------------------------------------------------------------------------------


def test_cli_ingest_refused_while_another_holds_the_lock(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(POLICIES / FENGJIE_2026, docs / FENGJIE_2026)
    index_dir = tmp_path / "index"
    with writer_lock(index_dir):
        t0 = time.perf_counter()
        proc = cli_ingest(docs, index_dir, timeout=30)
        elapsed = time.perf_counter() - t0
    assert proc.returncode != 0
    assert "another ingest" in proc.stderr
    assert str(os.getpid()) in proc.stderr  # names the holder
    assert elapsed < 20  # refused at once, not queued behind the holder (the CLI's own start-up is most of it)
    assert catalog.current_name(index_dir) is None  # nothing was written


def test_in_process_ingest_refused_while_locked(tmp_path: Path, settings_factory) -> None:
    from policybot.wiring import ingest_paths

    index_dir = tmp_path / "index"
    with writer_lock(index_dir), pytest.raises(IndexLocked, match="another ingest"):
        ingest_paths([POLICIES / FENGJIE_2026], settings=settings_factory(index_dir))
    # released on exit: the lock can be taken again
    with writer_lock(index_dir):
        pass


def test_a_collection_s_own_quoted_names_stay_whole_words() -> None:
    """A name a fictional county coins in quotation marks is one search word, as its unit names are,
    though no word list of the product knows it."""
    from vectorstore.lexical import Tokenizer
    from vectorstore.representation import user_words

    doc = PolicyDocument("d1", "青禾县数字乡村行动方案", None, None, None, None, None, None, None, None,
                         "effective", "qinghe.txt", "0" * 64)
    clause = Clause(clause_id="c1", doc_id="d1", seq=0, path=["一、重点任务"],
                    text="实施“禾苗通”工程，打造「云上青禾」平台。（牵头单位：县农业农村局）",
                    lead_units=["县农业农村局"])
    words = user_words({"d1": doc}, [clause])
    assert {"禾苗通", "云上青禾", "县农业农村局"} <= words
    tok = Tokenizer(words)
    assert "禾苗通" in tok("禾苗通工程谁牵头") and "禾苗通" not in Tokenizer()("禾苗通工程谁牵头")
