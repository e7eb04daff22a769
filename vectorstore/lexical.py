"""BM25 over jieba tokens, with a user dictionary learned from the corpus."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import bm25s
import jieba
import numpy as np

from core.records import Clause, PolicyDocument
from vectorstore.representation import lexical_text, user_words

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

# Words of national policy language (programme names of the State Council and ministries, and the
# product's own field names) that jieba's general dictionary cuts apart. Names a collection coins
# itself (its quoted slogans, abbreviations, unit and region names) are learned at ingest instead
# (vectorstore.representation.user_words).
POLICY_TERMS = (
    "专精特新", "小巨人", "规上企业", "规模以上", "牵头单位", "责任单位", "配合单位", "完成时限", "众创空间",
    "孵化器", "揭榜挂帅", "首版次", "两化融合", "征求意见稿", "科技特派员", "技术合同", "瞪羚", "独角兽",
    "算力", "智算中心", "智能体",
)
_STOP = set(
    "的 了 和 与 及 等 在 对 为 是 将 以 把 被 个 之 其 或 并 也 要 有 中 上 下 年 月 日 吗 呢 啊 吧 么"
    " 什么 哪个 哪些 多少 如何 怎么 怎样 请问 我们 我 你 他 她 它 这个 那个 这 那".split()
)
_TOKEN_OK = re.compile(r"[\w\u4e00-\u9fff]")


class Tokenizer:
    def __init__(self, words: Iterable[str] = ()) -> None:
        self._jieba = jieba.Tokenizer()
        self.words = sorted({w for w in (*POLICY_TERMS, *words) if 2 <= len(w) <= 20})
        for w in self.words:
            self._jieba.add_word(w, freq=200000)

    def __call__(self, text: str) -> list[str]:
        t = unicodedata.normalize("NFKC", text).lower()
        out = []
        for tok in self._jieba.cut_for_search(t):
            tok = tok.strip()
            if tok and tok not in _STOP and _TOKEN_OK.search(tok):
                out.append(tok)
        return out


class LexicalIndex:
    def __init__(self, tokenizer: Tokenizer, bm25: bm25s.BM25 | None, size: int) -> None:
        self.tokenizer = tokenizer
        self.bm25 = bm25
        self.size = size

    @classmethod
    def build(cls, texts: list[str], words: Iterable[str]) -> LexicalIndex:
        tok = Tokenizer(words)
        corpus = [tok(t) or ["∅"] for t in texts]
        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        if corpus:
            bm25.index(corpus, show_progress=False)
        return cls(tok, bm25 if corpus else None, len(corpus))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "userdict.json").write_text(json.dumps(self.tokenizer.words, ensure_ascii=False), "utf-8")
        (directory / "size.json").write_text(json.dumps({"size": self.size}), "utf-8")
        if self.bm25 is not None:
            self.bm25.save(str(directory / "bm25"))

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        words = json.loads((directory / "userdict.json").read_text("utf-8"))
        size = json.loads((directory / "size.json").read_text("utf-8"))["size"]
        bm25 = bm25s.BM25.load(str(directory / "bm25")) if (directory / "bm25").exists() else None
        return cls(Tokenizer(words), bm25, size)

    def doc_freq(self, term: str) -> int:
        """How many clauses contain the term (0 for a term the index has never seen)."""
        if self.bm25 is None:
            return 0
        tid = self.bm25.vocab_dict.get(term)
        indptr = self.bm25.scores.get("indptr") if isinstance(self.bm25.scores, dict) else None
        if tid is None or indptr is None or tid + 1 >= len(indptr):
            return 0
        return int(indptr[tid + 1] - indptr[tid])

    def words(self, min_clauses: int = 1) -> list[str]:
        """Every token used by at least min_clauses clauses."""
        if self.bm25 is None:
            return []
        indptr = self.bm25.scores.get("indptr") if isinstance(self.bm25.scores, dict) else None
        if indptr is None:
            return []
        counts = np.diff(np.asarray(indptr))
        return [t for t, i in self.bm25.vocab_dict.items() if i < len(counts) and counts[i] >= min_clauses]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every clause (in index order) for the query."""
        if self.bm25 is None:
            return np.zeros(self.size, dtype=np.float32)
        toks = [t for t in self.tokenizer(query) if t in self.bm25.vocab_dict]
        if not toks:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(toks), dtype=np.float32)


def write_lexical(gen_dir: Path, docs: dict[str, PolicyDocument], clauses: list[Clause]) -> None:
    """Build and save the BM25 side of a generation, with this collection's own words kept whole."""
    texts = [lexical_text(c, docs[c.doc_id]) for c in clauses]
    LexicalIndex.build(texts, user_words(docs, clauses)).save(gen_dir / "lexical")
