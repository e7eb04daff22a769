"""Shared fixtures: state under tmp dirs, and one real index of the sample corpus per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "data" / "policies"
TODAY = "2026-11-22"

FENGJIE_2026 = "fengjie-2026-software-info-industry-action-plan.txt"
FENGJIE_2022 = "fengjie-2022-tech-innovation-empowerment-plan.txt"
WANZHOU = "wanzhou-2023-mantianxing-digital-economy-plan.txt"
CHONGQING = "chongqing-2021-digital-industry-14th-five-year-plan.txt"
JIULONGPO = "jiulongpo-mantianxing-software-plan-draft.txt"


@pytest.fixture(autouse=True)
def _isolated_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test touches the working directory's index or a developer's .env."""
    monkeypatch.setenv("POLICYBOT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("POLICYBOT_TODAY", TODAY)
    monkeypatch.delenv("POLICYBOT_CHROMA_HOST", raising=False)
    if not _llm_configured():
        monkeypatch.delenv("POLICYBOT_LLM_BASE_URL", raising=False)


def _llm_configured() -> bool:
    return bool(os.environ.get("POLICYBOT_LLM_BASE_URL"))


@pytest.fixture(scope="session")
def settings_factory():
    from core.settings import Settings

    def make(index_dir: Path, **kw: object) -> Settings:
        import datetime as dt

        return Settings(index_dir=index_dir, today=dt.date.fromisoformat(TODAY), **kw)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory: pytest.TempPathFactory, settings_factory) -> Path:
    """The five sample documents, ingested once with the real embedder, Chroma and jieba."""
    from policybot.wiring import ingest_paths

    root = tmp_path_factory.mktemp("sample")
    corpus = root / "policies"
    shutil.copytree(POLICIES, corpus)
    index_dir = root / "index"
    seed = os.environ.get("POLICYBOT_TEST_VECTOR_CACHE")
    if seed and Path(seed).is_file():
        from vectorstore.dense import copy_vector_cache

        # vectors are keyed by model and text: a warm cache changes timings, never results
        copy_vector_cache(Path(seed).parent, index_dir)
    report = ingest_paths([corpus], settings=settings_factory(index_dir))
    assert not report.failed, report.failed
    return index_dir


@pytest.fixture(scope="session")
def sample_index(sample_index_dir: Path, settings_factory):
    from policybot.wiring import open_index

    return open_index(settings_factory(sample_index_dir))


@pytest.fixture(scope="session")
def sample_bot(sample_index, settings_factory, sample_index_dir: Path):
    from policybot.wiring import make_bot

    return make_bot(settings_factory(sample_index_dir), index=sample_index)
