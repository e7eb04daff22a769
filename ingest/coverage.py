"""Did every character of a document's body land somewhere? Clauses, heading paths, and the text the
parser consumed on purpose (footers, table headers, debris) are located in the body; what is left
over was dropped without a record."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.records import TABLE_HEADER_PREFIX, Clause

_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Coverage:
    chars: int  # characters of the body, whitespace left out
    covered: int  # of those, found in a clause, a heading path or a consumed piece
    missing: tuple[str, ...]  # the longest runs of characters found nowhere, for the warning

    @property
    def ratio(self) -> float:
        return self.covered / self.chars if self.chars else 1.0


def _split(text: str) -> list[str]:
    return [s for s in (_WS.sub("", x) for x in re.split(r"[\t\n]", text)) if s]


def _path_pieces(path: list[str]) -> list[str]:
    return [s for p in path for s in _split(p.removeprefix(TABLE_HEADER_PREFIX).replace("｜", "\n"))]


class _Marker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.marked = bytearray(len(text))
        self.cursor = 0

    def _free(self, at: int, n: int) -> bool:
        return 0 in self.marked[at : at + n]

    def _first_free(self, piece: str, start: int) -> int:
        at = self.text.find(piece, start)
        while at >= 0 and not self._free(at, len(piece)):
            at = self.text.find(piece, at + 1)
        return at

    def _mark(self, at: int, n: int) -> None:
        self.marked[at : at + n] = b"\x01" * n

    def text_piece(self, piece: str) -> int:
        """Text read in order: the first unmarked occurrence from the cursor on, else from the start."""
        at = self._first_free(piece, self.cursor)
        if at < 0:
            at = self._first_free(piece, 0)
        if at >= 0:
            self._mark(at, len(piece))
            self.cursor = at + len(piece)
        return at

    def heading(self, piece: str, before: int) -> None:
        """A heading stands before the text under it: its last occurrence before `before`."""
        at = self.text.rfind(piece, 0, before + len(piece)) if before >= 0 else -1
        if at < 0:
            at = self.text.find(piece)
        if at >= 0:
            self._mark(at, len(piece))


def measure(body: str, clauses: list[Clause], consumed: list[tuple[str, str]]) -> Coverage:
    """Mark where each clause's text, its headings and each consumed piece occur in the body
    (whitespace removed); what stays unmarked was dropped without a record."""
    m = _Marker(_WS.sub("", body))
    # the notice, signature and title clauses come first in a document's clauses but not in its text,
    # and the title repeats inside the notice: they are placed last, the title after the notice
    meta_order = ["印发通知", "落款", "印发信息", "标题"]
    ordered = sorted(clauses, key=lambda c: (meta_order.index(c.path[0]) + 1) if len(c.path) == 1
                     and c.path[0] in meta_order else 0)
    body_done = False
    for c in ordered:
        if not body_done and len(c.path) == 1 and c.path[0] in meta_order:
            m.cursor, body_done = 0, True  # the notice and the signature stand before the body
        starts = [m.text_piece(p) for p in _split(c.text)]
        first = next((s for s in starts if s >= 0), m.cursor)
        for p in _path_pieces(c.path):
            m.heading(p, first)
    m.cursor = 0
    for _, text in consumed:
        for p in _split(text):
            m.text_piece(p)
    text, marked = m.text, bytes(m.marked)
    gaps = sorted(((g.start(), g.end()) for g in re.finditer(rb"\x00+", marked)), key=lambda s: s[0] - s[1])[:3]
    return Coverage(len(text), sum(marked), tuple(text[a:b][:40] for a, b in gaps))
