"""The tuning question set (eval/sets/tuning.jsonl) on other formats of the sample corpus, through the
bot the app uses: a copy published without line breaks must score within 0.03 of the original, and a
hard-wrapped PDF of each document must answer every question its .txt answers."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from eval.metrics import GoldItem, load_gold, score_answer, summarize
from tests import documents
from tests.conftest import POLICIES, ROOT
from tests.test_formats import run_on

pytestmark = pytest.mark.slow
log = logging.getLogger(__name__)
TUNING = ROOT / "eval" / "sets" / "tuning.jsonl"


def scores(bot, items: list[GoldItem], rename: Callable[[str], str] = str) -> dict[str, object]:
    index = bot.index
    by_id = {c.clause_id: c for c in index.clauses}
    files = {d.doc_id: rename(d.source_file) for d in index.docs.values()}
    rows = [score_answer(it, bot.ask(it.question, history=it.history), by_id, files, None, 0.0) for it in items]
    return {"rows": rows, "summary": summarize(rows), "correct": {r.item.id for r in rows if r.correct}}


@pytest.fixture(scope="module")
def items() -> list[GoldItem]:
    return load_gold([TUNING])


@pytest.fixture(scope="module")
def original(sample_bot, items: list[GoldItem]) -> dict[str, object]:
    return scores(sample_bot, items)


def bot_for(corpus: Path, tmp: Path, sample_index_dir: Path, settings_factory):
    from policybot.wiring import ingest_paths, make_bot
    from vectorstore.dense import copy_vector_cache

    index_dir = tmp / "index"
    copy_vector_cache(sample_index_dir, index_dir)  # vectors are keyed by text: unchanged clauses are not re-embedded
    settings = settings_factory(index_dir)
    report = ingest_paths([corpus], settings=settings)
    assert not report.failed, report.failed
    return make_bot(settings)


def test_run_on_copies_score_within_003_of_the_originals(tmp_path_factory, sample_index_dir, settings_factory,
                                                         items, original) -> None:
    root = tmp_path_factory.mktemp("run-on")
    corpus = root / "policies"
    corpus.mkdir()
    for src in POLICIES.glob("*.txt"):
        (corpus / src.name).write_text(run_on(src.read_text("utf-8")), "utf-8")
    got = scores(bot_for(corpus, root, sample_index_dir, settings_factory), items)
    before, after = original["summary"]["answer_accuracy"], got["summary"]["answer_accuracy"]  # type: ignore[index]
    log.warning("tuning set answer accuracy: original %.3f, run-on copies %.3f", before, after)
    assert abs(after - before) <= 0.03
    for metric in ("refusal_recall", "citation_verbatim"):
        assert abs(got["summary"][metric] - original["summary"][metric]) <= 0.03, metric  # type: ignore[index]


def test_hard_wrapped_pdfs_answer_what_their_texts_answer(tmp_path_factory, sample_index_dir, settings_factory,
                                                          items, original) -> None:
    documents.need_writers()
    root = tmp_path_factory.mktemp("pdf")
    corpus = root / "policies"
    corpus.mkdir()
    for src in POLICIES.glob("*.txt"):
        documents.write_pdf(corpus / src.name.replace(".txt", ".pdf"), src.read_text("utf-8"))
    got = scores(bot_for(corpus, root, sample_index_dir, settings_factory), items,
                 rename=lambda name: name.replace(".pdf", ".txt"))
    lost = sorted(original["correct"] - got["correct"])  # type: ignore[operator]
    log.warning("tuning set answer accuracy: .txt %.3f, PDF %.3f; answered from the .txt only: %s",
                original["summary"]["answer_accuracy"], got["summary"]["answer_accuracy"], lost)  # type: ignore[index]
    assert lost == []
    shutil.rmtree(root, ignore_errors=True)
