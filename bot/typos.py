"""Homophone typos: people type Chinese by pinyin and pick the wrong characters ("文好" for 文号, "诉球" for
诉求). A run of two to four characters the collection never uses, and no dictionary knows, is read as the
word of the collection (or cue word of a question) that sounds the same, if exactly one does."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import jieba
from pypinyin import lazy_pinyin

from bot import wordclass

_HAN = re.compile(r"[\u4e00-\u9fff]+")
# Words of the collection a typo may stand for: used by at least this many clauses, so one rare word
# does not attract every question that sounds like it.
MIN_CLAUSES = 2


def _sound(word: str) -> str:
    return " ".join(lazy_pinyin(word))


@dataclass
class Homophones:
    known: frozenset[str] = field(default_factory=frozenset)  # words the collection or the question cues use
    by_sound: dict[str, str | None] = field(default_factory=dict)  # sound → the one word (None: several)

    @classmethod
    def build(cls, words: Iterable[str]) -> Homophones:
        known = frozenset(w for w in words if 2 <= len(w) <= 4 and _HAN.fullmatch(w))
        by_sound: dict[str, str | None] = {}
        for w in known:
            s = _sound(w)
            by_sound[s] = w if s not in by_sound or by_sound[s] == w else None
        return cls(known, by_sound)

    def correct(self, text: str) -> str:
        """The text with each homophone typo replaced by the word it sounds like (same length, so spans
        computed on either text agree). Only what the dictionary could not make a word of is looked at: a
        run of single characters ("有诉球" → 有 诉 球), longest piece first."""
        if not self.by_sound:
            return text
        chars = list(text)
        pos, run_start, run = 0, 0, ""
        for tok in [*_cut(text), "\n"]:
            at = text.find(tok, pos) if tok != "\n" else len(text)
            at = len(text) if at < 0 else at
            if len(tok) == 1 and _HAN.fullmatch(tok) and at == pos and run:
                run += tok
            else:
                if len(run) >= 2:
                    self._fix_run(chars, run_start, run)
                run, run_start = (tok, at) if len(tok) == 1 and _HAN.fullmatch(tok) else ("", at)
            pos = at + len(tok)
        return "".join(chars)

    def _fix_run(self, chars: list[str], start: int, run: str) -> None:
        i = 0
        while i < len(run) - 1:
            for n in (4, 3, 2):
                piece = run[i : i + n]
                if len(piece) < n or piece in self.known or wordclass.known(piece):
                    continue
                word = self.by_sound.get(_sound(piece))
                if word is not None and len(word) == n and _plausible(piece, word):
                    chars[start + i : start + i + n] = list(word)
                    i += n - 1
                    break
            i += 1


# Characters people type on purpose far more often than by mistake: a piece that would lose one of them
# ("我是" → 我市, "即享" → 几项) is left as typed.
_FUNCTION_CHARS = frozenset("是的了又在有和与及或就都也还即几这那哪么吗呢吧我你他她它们个")


def _plausible(piece: str, word: str) -> bool:
    """A slip of the input method keeps part of the word ("文好" → 文号) and changes no function word."""
    changed = [a for a, b in zip(piece, word, strict=True) if a != b]
    return len(changed) < len(piece) and not any(ch in _FUNCTION_CHARS for ch in changed)


def _cut(text: str) -> list[str]:
    """Dictionary words only (no guessing of new words): what it cannot place stays single characters."""
    return jieba.lcut(text, HMM=False)
