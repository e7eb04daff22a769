"""Index: Chroma (dense) + BM25 over jieba tokens + the document catalog, with generation swaps."""
