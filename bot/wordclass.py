"""How much a word of a question can say about its topic, by its word class in jieba's bundled dictionary.

People type verbs, adverbs and pronouns around what they ask ("刚过", "已经", "能不能搞定"); a word the
collection never uses and that is not a noun says nothing about whether a clause answers. A noun the
collection never uses ("基金", "租金") does: the question is about something the documents lack.
"""

from __future__ import annotations

import functools
from importlib import resources

# jieba's part-of-speech tags that name things: nouns, names, places, organisations, verbal nouns,
# abbreviations, set phrases, foreign words.
NAMING_TAGS = ("n", "nr", "ns", "nt", "nz", "ng", "nrt", "nrfg", "vn", "an", "j", "l", "eng", "i")
# Weight of a question word the collection never uses: a non-naming dictionary word, and a word jieba
# does not know (often two characters its segmenter glued together: "能奖", "要建"). Chosen on the tuning
# sets: at these values colloquial wrappers no longer outweigh the topic, and an unknown noun still does.
FUNCTION_WORD_WEIGHT = 0.2
UNKNOWN_WORD_WEIGHT = 0.3
USED_FUNCTION_WORD_WEIGHT = 0.6  # a verb or adverb the documents use ("留用", "以内"): part topic, part wrapping


@functools.lru_cache(maxsize=1)
def _tags() -> dict[str, str]:
    """Word → part-of-speech tag for every entry of jieba's dictionary (read once, on first use)."""
    out: dict[str, str] = {}
    with resources.files("jieba").joinpath("dict.txt").open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                out[parts[0]] = parts[2]
    return out


def warm_up() -> None:
    _tags()


def known(word: str) -> bool:
    """Whether jieba's dictionary has the word."""
    return word in _tags()


# Tags of words that only wrap a question: adverbs, pronouns, conjunctions, prepositions, particles, modals,
# interjections ("已经", "这个", "要是"). Verbs are not among them: "报名" may be just what the documents
# lack; nor numerals: "十五五" names a plan the documents may not have.
FUNCTION_TAGS = frozenset("d r c p u y e o".split()) | {"rr", "rz", "ul", "uj", "uz", "ud", "ug", "uv", "ad"}


def is_function_word(word: str) -> bool:
    tag = _tags().get(word)
    return tag is not None and tag in FUNCTION_TAGS


def weight(word: str, *, used_by_collection: bool) -> float:
    """Multiplier of a question word's weight. Naming words count fully; so do words jieba does not know but
    the collection uses (its own jargon). Other words count less: less still when the collection never
    uses them, for then they are the asker's own wrapping."""
    if word.isascii():
        return 1.0
    tag = _tags().get(word)
    if tag is None:
        return 1.0 if used_by_collection else UNKNOWN_WORD_WEIGHT
    if tag in NAMING_TAGS:
        return 1.0
    return USED_FUNCTION_WORD_WEIGHT if used_by_collection else FUNCTION_WORD_WEIGHT
