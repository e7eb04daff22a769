"""Positioned text → the lines the structure parser reads.

A PDF, an OFD page or an OCR'd scan gives lines where they stand on the page, wrapped at the right
margin. Here the wraps are undone (a line that fills the measure continues into the next line when
that one is not indented), the running heads, running feet and page numbers are dropped, and tables
come out as the other loaders write them: one "\\t"-prefixed line per cell, an empty line after each
row. A row broken over a page is joined again, and the header a table repeats on each page is read
once.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

# "— 3 —", "- 3 -", "3", "第3页", "第 3 页 共 9 页", "3/9": a page number and nothing else
PAGE_NUMBER = re.compile(
    r"^[\s\-—－–~·•]*(?:\d{1,4}|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?|\d{1,4}\s*/\s*\d{1,4})[\s\-—－–~·•]*$"
)
_MARGIN_BAND = 0.1  # running heads and feet stand in the top and bottom tenth of a page
_HEADING = re.compile(
    r"^(?:[一二三四五六七八九十]+\s*、|[（(]\s*[一二三四五六七八九十0-9]+\s*[）)]|[0-9]{1,2}\s*[．.、]"
    r"|第\s*[一二三四五六七八九十百0-9]+\s*[章节条]|专栏|附\s*件)"
)
_SENTENCE_END = tuple("。；;！!？?：:")


@dataclass
class TextLine:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    page: int  # 1-based

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class TableBlock:
    rows: list[list[str]]  # cells as read, None-free: merged cells resolved by the reader
    top: float
    bottom: float
    page: int


@dataclass
class Page:
    number: int
    width: float
    height: float
    items: list[TextLine | TableBlock] = field(default_factory=list)
    ocr: bool = False  # the text came from an image of the page
    unit: str = "pt"  # of the positions: points (PDF), pixels (an image), millimetres (OFD)


@dataclass(frozen=True)
class Region:
    """Where a piece of text stands on its page (points from the top-left corner)."""

    page: int
    x0: float
    top: float
    x1: float
    bottom: float
    text: str
    unit: str = "pt"


@dataclass
class Laid:
    text: str
    removed: list[str]  # running heads, feet and page numbers that were dropped
    regions: list[Region]  # where the text of OCR'd pages came from, a line each


def _masked(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _margin_lines(pages: list[Page]) -> set[int]:
    """ids of the lines that are running heads, feet or page numbers."""
    out: set[int] = set()
    repeats: Counter[str] = Counter()
    banded: list[tuple[TextLine, str]] = []
    for page in pages:
        for item in page.items:
            if not isinstance(item, TextLine):
                continue
            in_band = item.bottom <= page.height * _MARGIN_BAND or item.top >= page.height * (1 - _MARGIN_BAND)
            if not in_band:
                continue
            if PAGE_NUMBER.match(item.text):
                out.add(id(item))
            else:
                banded.append((item, _masked(item.text)))
    for key in {k for _, k in banded}:
        repeats[key] = len({ln.page for ln, k in banded if k == key})
    if len(pages) >= 3:
        out |= {id(ln) for ln, k in banded if repeats[k] >= 0.6 * len(pages)}
    return out


def joiner(a: str, b: str) -> str:
    """What stands between a line and the next one it continues: nothing between Chinese characters
    or digits (a number broken by a narrow cell), a space between two Latin words."""
    if a and b and a[-1].isascii() and a[-1].isalpha() and b[0].isascii() and b[0].isalpha():
        return " "
    return ""


def _measure(lines: list[TextLine]) -> tuple[float, float, float]:
    """(left margin, right margin, character width) of the body text."""
    long = [ln for ln in lines if len(ln.text) >= 8]
    if not long:
        return 0.0, float("inf"), 10.0
    width = statistics.median((ln.x1 - ln.x0) / max(1, len(ln.text)) for ln in long)
    left = Counter(round(ln.x0) for ln in long).most_common(1)[0][0]
    rights = sorted(ln.x1 for ln in long)
    right = rights[int(0.9 * (len(rights) - 1))]
    return float(left), right, width


def _continues(a: TextLine, b: TextLine, left: float, right: float, cw: float) -> bool:
    """Does line b carry on the paragraph of line a (a wrapped at the margin)?"""
    # a was wrapped when b's first word would not fit after it: a run of digits or Latin letters
    # moves to the next line whole, so a wrapped line may stop short of the margin by that much
    word = re.match(r"[A-Za-z0-9.,%%/:_\-]+|.", b.text)
    need = (0.55 * len(word.group(0)) if word and word.group(0).isascii() else 1.0) * cw
    if a.x1 + need < right - 0.5 * cw:  # a stops short of the margin: its paragraph ends there
        return False
    if b.x0 > left + 0.6 * cw:  # b is indented or centred: a paragraph or a title starts
        return False
    if abs(a.height - b.height) > 0.25 * max(a.height, b.height):
        return False  # a change of type size: a heading or a title
    if a.page == b.page and b.top - a.bottom > 1.6 * max(a.height, b.height):
        return False  # a blank line between them
    return not (a.text.endswith(_SENTENCE_END) and _HEADING.match(b.text))


def _cells(rows: list[list[str]]) -> list[str]:
    out: list[str] = []
    for row in rows:
        out += ["\t" + c for c in row]
        out.append("")
    return out


def _same_row(a: list[str], b: list[str]) -> bool:
    return [re.sub(r"\s+", "", x) for x in a] == [re.sub(r"\s+", "", x) for x in b]


def lay_out(pages: list[Page]) -> Laid:
    """The text of the pages: paragraphs re-joined, margins dropped, tables a cell a line."""
    margins = _margin_lines(pages)
    removed = [it.text for p in pages for it in p.items if isinstance(it, TextLine) and id(it) in margins]
    body = [it for p in pages for it in p.items if not (isinstance(it, TextLine) and id(it) in margins)]
    left, right, cw = _measure([it for it in body if isinstance(it, TextLine)])
    ocr_pages = {p.number: p.unit for p in pages if p.ocr}
    out: list[str] = []
    regions: list[Region] = []
    prev: TextLine | TableBlock | None = None
    header: list[str] | None = None
    last_rows: list[list[str]] = []
    for item in body:
        if isinstance(item, TableBlock):
            rows = [list(r) for r in item.rows]
            continued = isinstance(prev, TableBlock) and prev.page < item.page and header is not None
            if continued and rows and len(rows[0]) == len(header or []) and _same_row(rows[0], header or []):
                rows = rows[1:]  # the header a table repeats on each page
            if continued and rows and last_rows and len(rows[0]) == len(last_rows[-1]) and not rows[0][0].strip():
                # a row broken over the page: its cells go on where they stopped
                tail = rows.pop(0)
                joined = [a + joiner(a, b) + b for a, b in zip(last_rows[-1], tail, strict=True)]
                out[-len(joined) - 1 :] = _cells([joined])
                last_rows[-1] = joined
            if not continued:
                header = item.rows[0] if item.rows else None
                if out and out[-1] != "":
                    out.append("")
            out += _cells(rows)
            last_rows = [*last_rows, *rows] if continued else rows
            prev = item
            continue
        if item.page in ocr_pages:
            regions.append(Region(item.page, item.x0, item.top, item.x1, item.bottom, item.text, ocr_pages[item.page]))
        if isinstance(prev, TextLine) and out and _continues(prev, item, left, right, cw):
            out[-1] += joiner(out[-1], item.text) + item.text
        else:
            out.append(item.text)
        prev = item
    return Laid("\n".join(out), removed, regions)


def lines_from_boxes(boxes: list[tuple[float, float, float, float, str]], page: int) -> list[TextLine]:
    """Word or OCR boxes (x0, top, x1, bottom, text) → lines, top to bottom, each read left to right.
    Boxes whose vertical middles lie within half a box height of each other share a line."""
    lines: list[list[tuple[float, float, float, float, str]]] = []
    for box in sorted(boxes, key=lambda b: ((b[1] + b[3]) / 2, b[0])):
        mid, h = (box[1] + box[3]) / 2, box[3] - box[1]
        if lines:
            last = lines[-1]
            lmid = statistics.mean((b[1] + b[3]) / 2 for b in last)
            if abs(mid - lmid) <= 0.5 * max(h, max(b[3] - b[1] for b in last)):
                last.append(box)
                continue
        lines.append([box])
    out = []
    for group in lines:
        group.sort(key=lambda b: b[0])
        text = ""
        for b in group:
            text += joiner(text, b[4]) + b[4]
        out.append(TextLine(text.strip(), min(b[0] for b in group), max(b[2] for b in group),
                            min(b[1] for b in group), max(b[3] for b in group), page))
    return [ln for ln in out if ln.text]
