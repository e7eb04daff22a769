"""PDF → text: the text layer read where it stands on the page (pdfplumber), tables found by their
rules and read a cell at a time, and pages whose text layer is too small for their size read by OCR.

A scanned page often carries a text layer of its page number only ("— 1 —"): a page whose text
(running heads and page numbers aside) is shorter than `IngestTuning.ocr_min_chars` while an image
covers a good part of it is a scan, and is OCR'd.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfplumber.utils.exceptions import PdfminerException

from core.errors import LoadError
from core.settings import IngestTuning
from ingest import ocr
from ingest.layout import PAGE_NUMBER, Laid, Page, TableBlock, TextLine, joiner, lay_out

log = logging.getLogger(__name__)


@dataclass
class ReadPdf:
    laid: Laid
    ocr_pages: list[int] = field(default_factory=list)


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)


def _cell_text(text: str | None) -> str:
    """Lines inside a cell are wraps of its width: joined as the paragraph was written."""
    out = ""
    for line in (text or "").split("\n"):
        out += joiner(out, line.strip()) + line.strip()
    return out


def _rows(table: Any) -> list[list[str]]:
    """Cells by row. A cell merged down several rows is repeated in each (its value belongs to each
    row, as a task's lead unit does); a cell merged across columns is read once."""
    texts = table.extract()
    owner: dict[tuple[float, ...], str] = {}
    for row, values in zip(table.rows, texts, strict=True):
        for bbox, value in zip(row.cells, values, strict=True):
            if bbox is not None:
                owner[tuple(bbox)] = _cell_text(value)
    columns: dict[int, tuple[float, float]] = {}
    for row in table.rows:
        for j, bbox in enumerate(row.cells):
            if bbox is not None and j not in columns and (j + 1 >= len(row.cells) or row.cells[j + 1] is not None):
                columns[j] = (bbox[0], bbox[2])
    out: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        for j, bbox in enumerate(row.cells):
            if bbox is not None:
                cells.append(owner[tuple(bbox)])
                continue
            x = sum(columns.get(j, (row.bbox[0], row.bbox[0]))) / 2
            y = (row.bbox[1] + row.bbox[3]) / 2
            cover = next((c for c in table.cells if c[0] <= x <= c[2] and c[1] <= y <= c[3]), None)
            if cover is not None and cover[1] < row.bbox[1] - 1 and cover[0] <= x:
                cells.append(owner.get(tuple(cover), ""))  # merged down from a row above
        out.append(cells)
    return out


def _image_cover(page: Any) -> float:
    area = float(page.width * page.height) or 1.0
    covered = 0.0
    for im in page.images:
        w = max(0.0, min(im["x1"], page.width) - max(im["x0"], 0))
        h = max(0.0, min(im["bottom"], page.height) - max(im["top"], 0))
        covered += w * h
    return min(1.0, covered / area)


def _text_page(page: Any, number: int) -> Page:
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]
    outside = page.filter(lambda o: o.get("object_type") != "char" or not _inside(o, boxes)) if boxes else page
    items: list[TextLine | TableBlock] = [
        TextLine(ln["text"], ln["x0"], ln["x1"], ln["top"], ln["bottom"], number)
        for ln in outside.extract_text_lines(strip=True, return_chars=False)
        if ln["text"].strip()
    ]
    for t in tables:
        rows = _rows(t)
        if rows:
            items.append(TableBlock(rows, t.bbox[1], t.bbox[3], number))
    items.sort(key=lambda it: (it.top, it.x0 if isinstance(it, TextLine) else 0.0))
    return Page(number, float(page.width), float(page.height), items)


def _is_scan(page: Any, laid: Page, tuning: IngestTuning) -> bool:
    text = "".join(it.text for it in laid.items if isinstance(it, TextLine) and not PAGE_NUMBER.match(it.text))
    tables = any(isinstance(it, TableBlock) for it in laid.items)
    few = len("".join(text.split())) < tuning.ocr_min_chars
    return few and not tables and _image_cover(page) >= tuning.ocr_image_cover


def _ocr_page(page: Any, number: int, name: str, dpi: int) -> Page:
    image = page.to_image(resolution=dpi).original
    lines = ocr.read_image(image, page=number, scale=dpi / 72, what=f"{name} (a scanned page)")
    return Page(number, float(page.width), float(page.height), list(lines), ocr=True)


def read_pdf(path: Path, tuning: IngestTuning | None = None) -> ReadPdf:
    tuning = tuning or IngestTuning()
    encrypted = f"PDF 已加密 / encrypted .pdf: {path.name} needs a password"
    pages: list[Page] = []
    scans: list[int] = []
    try:
        with pdfplumber.open(path, password="") as pdf:
            for number, page in enumerate(pdf.pages, 1):
                laid = _text_page(page, number)
                if _is_scan(page, laid, tuning):
                    scans.append(number)
                    laid = _ocr_page(page, number, path.name, tuning.ocr_dpi)
                pages.append(laid)
    except LoadError:
        raise
    except (PDFPasswordIncorrect, PdfminerException) as e:
        cause = e.args[0] if isinstance(e, PdfminerException) and e.args else e
        if isinstance(cause, PDFPasswordIncorrect):
            raise LoadError(encrypted) from e
        raise LoadError(f"文件已损坏 / corrupt or unreadable .pdf: {path.name}") from e
    except Exception as e:  # pdfminer surfaces damage as many unrelated exception types
        raise LoadError(f"文件已损坏 / corrupt or unreadable .pdf: {path.name}") from e
    if scans:
        log.info("%s: OCR of %d scanned page(s): %s", path.name, len(scans), scans)
    laid = lay_out(pages)
    if not laid.text.strip():
        hint = "" if ocr.available() else f"; scanned pages need OCR: {ocr.INSTALL_HINT}"
        raise LoadError(f"PDF 没有文字 / {path.name} has no text layer and no readable page{hint}")
    return ReadPdf(laid, scans)
