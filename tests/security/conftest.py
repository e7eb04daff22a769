"""Fixtures of the security tests: the sample questions the index answers before any probe, and
copies of the sample index to probe (the session's own index is never touched)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POLICIES, ROOT
from tests.security.live import make_bot, settings

SAMPLE_QUESTIONS = 6  # the first answerable single-turn questions of the tuning set, one per type


def _sample_questions() -> list[str]:
    out: dict[str, str] = {}
    for line in (ROOT / "eval" / "sets" / "tuning.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q.get("answerable") and not q.get("history") and q["type"] not in out:
            out[q["type"]] = q["question"]
    return list(out.values())[:SAMPLE_QUESTIONS]


def answers(index_dir: Path, questions: list[str]) -> dict[str, tuple[bool, str]]:
    """(refused, answer text) per question, from the index as it is now."""
    bot = make_bot(index_dir)
    return {q: (a.refused, a.answer) for q in questions for a in [bot.ask(q)]}


@pytest.fixture(scope="session")
def sample_answers(sample_index_dir: Path) -> dict[str, tuple[bool, str]]:
    """What the untouched sample index answers; every probe must leave these answers as they are."""
    got = answers(sample_index_dir, _sample_questions())
    assert len(got) >= 4 and not any(refused for refused, _ in got.values()), got
    return got


def still_answers(index_dir: Path, before: dict[str, tuple[bool, str]]) -> None:
    after = answers(index_dir, list(before))
    assert after == before


def api_still_answers(url: str, before: dict[str, tuple[bool, str]]) -> None:
    import httpx

    for q, expected in before.items():
        got = httpx.post(url + "/api/ask", json={"question": q}, timeout=120).json()
        assert (got["refused"], got["answer"]) == expected, q


@pytest.fixture
def cli_corpus(tmp_path: Path, sample_index_dir: Path) -> dict[str, Any]:
    """A source folder holding the sample documents and a copy of the sample index that read them
    from there (vectors come from the copied cache: nothing is embedded again)."""
    from policybot.wiring import ingest_paths

    src = tmp_path / "src"
    shutil.copytree(POLICIES, src)
    index = tmp_path / "index"
    shutil.copytree(sample_index_dir, index)
    report = ingest_paths([src], settings=settings(index))
    assert not report.failed and report.embedded == 0
    return {"src": src, "index": index, "docs": report.documents}
