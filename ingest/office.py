"""Old Word (.doc), WPS (.wps) and spreadsheets (.xlsx, .xls) → text.

.doc and .wps: WPS Office has written .wps in the Word 97–2003 binary format (an OLE compound file
with a WordDocument stream) since WPS 2005, so one reader serves both: msdoc2docx, a pure-Python
converter that follows the published MS-DOC specification, turns the file into .docx, which the .docx
reader then reads (tables included). Older WPS files and Microsoft Works' .wps have no WordDocument
stream and are refused with a clear message.

Spreadsheets: python-calamine reads .xlsx and .xls. Each sheet is a table, a cell a line; a title row
(one cell, or one cell merged across the sheet) is read as the table's caption, and a cell merged
down several rows is repeated in each, as the task tables of the other formats are read.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import python_calamine
from doc2docx import convert
from doc2docx.errors import Doc2DocxError, EncryptedDocumentError

from core.errors import LoadError

log = logging.getLogger(__name__)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def load_word97(path: Path, read_docx: Callable[[Path], str]) -> str:
    """A .doc or .wps file: converted to .docx in a temporary folder, then read as .docx."""
    kind = path.suffix.lower()
    with path.open("rb") as f:
        magic = f.read(8)
    if magic != _OLE_MAGIC:
        if magic.startswith(b"PK"):  # a .docx saved under an old name reads as what it is
            return read_docx(path)
        raise LoadError(f"文件格式不符 / {path.name} is not a Word 97–2003 {kind} file (an older WPS or "
                        "Microsoft Works format?); please save it as .docx")
    with tempfile.TemporaryDirectory(prefix="policybot-doc-") as tmp:
        target = Path(tmp) / "converted.docx"
        try:
            result = convert(path, target)
        except EncryptedDocumentError as e:
            raise LoadError(f"文件已加密 / {path.name} is password-protected") from e
        except Doc2DocxError as e:
            raise LoadError(f"文件已损坏或格式不符 / {path.name} is not a readable Word 97–2003 document "
                            f"(an older WPS or Microsoft Works {kind}?): {e}") from e
        except Exception as e:  # the converter surfaces damage as many unrelated exception types
            raise LoadError(f"文件已损坏 / corrupt {kind}: {path.name} could not be read") from e
        lossy = [d for d in result.report.to_dict().get("diagnostics", []) if d.get("severity") == "error"]
        if lossy:
            log.warning("%s: the converter reported %d problems, e.g. %s", path.name, len(lossy), lossy[0])
        return read_docx(target)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed as 12 is stored as 12.0
    if isinstance(value, dt.datetime):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value).strip()


def _sheet_lines(sheet: python_calamine.CalamineSheet) -> list[str]:
    rows = [[_cell(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
    for (r0, c0), (r1, _) in sheet.merged_cell_ranges or []:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        for r in range(r0 + 1, min(r1 + 1, len(rows))):
            if c0 < len(rows[r]):
                rows[r][c0] = rows[r0][c0]  # merged down: the value belongs to each row
    width = max((max((i + 1 for i, v in enumerate(r) if v), default=0) for r in rows), default=0)
    first = min((next(i for i, v in enumerate(r) if v) for r in rows if any(r)), default=0)
    rows = [r[first:width] for r in rows if any(r)]
    width -= first
    out: list[str] = []
    while rows and sum(1 for v in rows[0] if v) == 1 and width > 1:
        out.append(next(v for v in rows[0] if v))  # a title row over the table: its caption
        rows = rows[1:]
    for row in rows:
        if sum(1 for v in row if v) == 1 and row[0] == "" and width > 1:
            row = [next(v for v in row if v), *[""] * (len(row) - 1)]  # a section row, text in front
        out += ["\t" + v for v in row]
        out.append("")
    return out


def load_spreadsheet(path: Path) -> str:
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        lines: list[str] = []
        names = book.sheet_names
        for name in names:
            sheet_lines = _sheet_lines(book.get_sheet_by_name(name))
            if not sheet_lines:
                continue
            if len(names) > 1 and lines:
                lines.append(name)  # later sheets are introduced by their names
            lines += sheet_lines
    except (python_calamine.CalamineError, ValueError, OSError) as e:
        raise LoadError(f"文件已损坏 / corrupt or unreadable spreadsheet: {path.name}") from e
    return "\n".join(lines)
