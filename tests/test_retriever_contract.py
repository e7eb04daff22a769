"""The retriever contract, run against each configuration the product ships: the local index with
embedded Chroma, and the same index with its vectors on a real `chroma run` server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.retrieval import Retriever
from policybot.wiring import ingest_paths, open_index
from tests.conftest import POLICIES
from tests.procs import running_chroma
from tests.retriever_contract import RetrieverContract
from vectorstore.dense import copy_vector_cache


class TestLocalIndex(RetrieverContract):
    @pytest.fixture
    def retriever(self, sample_index) -> Retriever:
        return sample_index


@pytest.fixture(scope="module")
def served_index(tmp_path_factory: pytest.TempPathFactory, sample_index_dir: Path, settings_factory) -> Iterator:
    work = tmp_path_factory.mktemp("served")
    with running_chroma(work) as port:
        index_dir = work / "index"
        copy_vector_cache(sample_index_dir, index_dir)  # same texts and model: no second embedding
        settings = settings_factory(index_dir, chroma_host="127.0.0.1", chroma_port=port)
        report = ingest_paths([POLICIES], settings=settings)
        assert not report.failed and report.embedded == 0
        yield open_index(settings)


@pytest.mark.chroma_server
@pytest.mark.slow
class TestChromaServerIndex(RetrieverContract):
    @pytest.fixture
    def retriever(self, served_index) -> Retriever:
        return served_index
