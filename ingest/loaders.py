"""Turn a file a user hands us into verbatim text, plus the encoding or container it came from.

Every failure the user can cause surfaces as LoadError, whose message is shown to them as is.
Tables from every format come out as the sample .txt corpus carries them: one "\t"-prefixed line
per cell, an empty line after each row, so a single table parser serves all formats.
"""

from __future__ import annotations

import codecs
import logging
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer
import docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.table import Table
from docx.text.paragraph import Paragraph
from PIL import Image, UnidentifiedImageError

from core.errors import LoadError
from core.settings import IngestTuning
from ingest import ocr
from ingest.archive import UnpackLimits, check_members
from ingest.docx_hidden import drop_hidden_text
from ingest.html import metadata_lines, read_page
from ingest.layout import Laid, Page, Region, lay_out
from ingest.ofd import read_ofd
from ingest.office import load_spreadsheet, load_word97
from ingest.pdf import read_pdf

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
SUPPORTED_SUFFIXES = (".txt", ".docx", ".doc", ".wps", ".pdf", ".ofd", ".xlsx", ".xls", ".html", ".htm", ".md",
                      *IMAGE_SUFFIXES)
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_UNPACKED_BYTES = 100 * 1024 * 1024
# python-docx parses a 20 MB document.xml in about 5 s into 160 MB of memory on the reference machine;
# a 300-page policy with tables stays well under 32 MB.
DEFAULT_MAX_MEMBER_BYTES = 32 * 1024 * 1024
_MB = 1024 * 1024
_BOMS = (  # utf-32 first: its LE BOM starts with the utf-16 LE BOM
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_GB_EXTRA = re.compile(r"[\x00-\x7f\u00b7\u2010-\u205e\u3007\u33a1]+")  # GBK-era punctuation GB2312 lacks
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_MD_SEP = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_MD_LINE = re.compile(r"^(?: {0,3}#{1,6}(?:[ \t]+|$)|[ \t]*[-*][ \t]+)")  # heading marks, list bullets
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_MD_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_MD_UNDER = re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")  # CommonMark: intraword __ is literal


_BINARY = "二进制内容 / binary content: this does not look like a text file"


@dataclass(frozen=True)
class LoadedText:
    text: str  # the document text, verbatim as far as the format allows
    encoding: str  # "utf-8", "utf-8-sig", "gb18030", ... or the container format: "docx", "pdf", "html", "md"
    fmt: str  # "txt" | "docx" | "pdf" | "html" | "md"
    # web pages: their metadata block (field → value as written), their own title, and the lines a
    # reader sees around the document (menus, footers) that were removed as boilerplate
    metadata: dict[str, str] = field(default_factory=dict)
    title: str | None = None
    removed: tuple[str, ...] = ()
    metadata_lines: tuple[str, ...] = ()  # the metadata block as the page shows it
    # text read by OCR: where each line stands on its page (scans only)
    regions: tuple[Region, ...] = ()


def _size(n: int) -> str:
    return f"{n / _MB:.1f} MB ({n} bytes)" if n >= _MB else f"{n} bytes"


def _nl(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_file(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
    max_member_bytes: int = DEFAULT_MAX_MEMBER_BYTES,
    tuning: IngestTuning | None = None,
) -> LoadedText:
    path, suffix = Path(path), Path(path).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"不支持的文件类型 / unsupported file type '{suffix or path.name}'; "
                        f"supported types: {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise LoadError(f"不是普通文件 / not a regular file: {path.name}")
        if st.st_size > max_bytes:
            raise LoadError(f"文件过大 / file too large: size {_size(st.st_size)} exceeds the cap of "
                            f"{_size(max_bytes)}")
        if st.st_size == 0:
            raise LoadError(f"文件为空 / empty file: {path.name}")
        laid: Laid | None = None
        limits = UnpackLimits(total_bytes=max_unpacked_bytes, member_bytes=max_member_bytes)
        if suffix == ".docx":
            text, encoding, fmt = _load_docx(path, limits), "docx", "docx"
        elif suffix in (".doc", ".wps"):
            text = load_word97(path, lambda p: _load_docx(p, limits))
            encoding = fmt = suffix[1:]
        elif suffix in (".xlsx", ".xls"):
            text, encoding, fmt = load_spreadsheet(path), suffix[1:], suffix[1:]
        elif suffix == ".pdf":
            laid = read_pdf(path, tuning).laid
            text, encoding, fmt = laid.text, "pdf", "pdf"
        elif suffix == ".ofd":
            laid = read_ofd(path, max_unpacked_bytes=max_unpacked_bytes)
            text, encoding, fmt = laid.text, "ofd", "ofd"
        elif suffix in IMAGE_SUFFIXES:
            laid = _load_image(path)
            text, encoding, fmt = laid.text, "ocr", "image"
        else:
            data = path.read_bytes()
            decoded, charset = decode_html(data) if suffix in (".html", ".htm") else decode_bytes(data)
            decoded = _nl(decoded)
            log.debug("%s decoded as %s", path.name, charset)
            if suffix == ".txt":
                text, encoding, fmt = decoded, charset, "txt"
            elif suffix == ".md":
                text, encoding, fmt = _md_text(decoded), "md", "md"
            else:
                page = read_page(decoded)
                text = _nl(page.text)
                if not text.strip():
                    raise LoadError(f"文件为空 / empty file: {path.name} contains no text")
                loaded = LoadedText(text, "html", "html", page.metadata, page.title, tuple(page.removed),
                                    tuple(page.meta_lines))
                log.info("loaded %s: fmt=html chars=%d, %d lines of page chrome removed",
                         path.name, len(text), len(page.removed))
                return loaded
    except FileNotFoundError:
        raise LoadError(f"文件不存在 / file not found: {path.name}") from None
    except OSError as e:
        raise LoadError(f"无法读取文件 / cannot read {path.name}: {e.strerror}") from e
    text = _nl(text)
    if not text.strip():
        raise LoadError(f"文件为空 / empty file: {path.name} contains no text")
    text, meta, shown = leading_metadata(text)
    log.info("loaded %s: fmt=%s encoding=%s chars=%d", path.name, fmt, encoding, len(text))
    return LoadedText(text=text, encoding=encoding, fmt=fmt, metadata=meta, metadata_lines=tuple(shown),
                      removed=tuple(laid.removed) if laid else (), regions=tuple(laid.regions) if laid else ())


# A metadata block (索引号 / 发文机关 / 成文日期 / 发文字号 …) stands before the document's first lines.
LEADING_LINES = 40


def leading_metadata(text: str) -> tuple[str, dict[str, str], list[str]]:
    """A copy of a page or a PDF printed from a portal keeps the metadata block at its top, as lines of
    "label：value" or a table: read it as metadata and take it out of the text."""
    lines = text.split("\n")
    head = lines[:LEADING_LINES]
    meta, used, shown = metadata_lines(head)
    if not used:
        return text, {}, []
    return "\n".join(x for i, x in enumerate(lines) if i not in used), meta, shown


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a text file from its content alone (never its name); LoadError for binary content."""
    binary = LoadError(_BINARY)
    bom = next(((b, enc) for b, enc in _BOMS if data.startswith(b)), None)
    if bom:
        try:
            text, encoding = data[len(bom[0]):].decode(bom[1].removesuffix("-sig")), bom[1]
        except UnicodeDecodeError as e:
            raise binary from e
    elif b"\x00" in data:
        raise binary
    else:
        text, encoding = _detect(data, binary)
    return _reject_binary(text, binary), encoding


def _reject_binary(text: str, binary: LoadError) -> str:
    sample = text[:1_000_000]
    # Stray control characters do survive in real exports; only binary data has a high share of them.
    if len(_CONTROL.findall(sample)) > 0.05 * len(sample):
        raise binary
    return text


def _detect(data: bytes, binary: LoadError) -> tuple[str, str]:
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        # gb18030 maps nearly any byte string to *something*. Real simplified-Chinese text stays inside
        # GB2312; Big5, Latin-1 or binary misread as GBK lands in rare ideographs and symbols instead.
        wide = _GB_EXTRA.sub("", text[:200_000])
        if wide.encode("gb2312", "replace").count(b"?") <= 0.1 * len(wide):
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        log.debug("charset_normalizer guessed %s", best.encoding)
        return str(best), best.encoding
    # A UTF-8 file damaged by a few stray bytes: keep it (with U+FFFD) rather than call it binary.
    text = data.decode("utf-8", "replace")
    damaged = text.count("\ufffd")
    if len(text) - len(text.encode("ascii", "ignore")) >= 20 * damaged:
        log.warning("utf-8 text with %d undecodable bytes replaced", damaged)
        return text, "utf-8"
    raise binary


def _load_docx(path: Path, limits: UnpackLimits) -> str:
    corrupt = f"文件已损坏 / corrupt .docx: {path.name} is not a readable Word document"
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as e:
        if path.read_bytes()[:4] == b"\xd0\xcf\x11\xe0":  # OLE container: a legacy .doc renamed
            raise LoadError(f"{corrupt} (old .doc format; please save it as .docx)") from e
        raise LoadError(corrupt) from e
    check_members(path.name, infos, limits)  # before any member is inflated
    try:
        document = docx.Document(str(path))
        dropped = drop_hidden_text(document)
        lines: list[str] = []
        _docx_lines(document.element.body, document, lines)
    except Exception as e:  # python-docx/lxml/zlib surface damage as many unrelated exception types
        raise LoadError(corrupt) from e
    if dropped.runs:
        log.warning("%s: %d characters in %d runs no reader sees (hidden, white or tiny text) were dropped",
                    path.name, dropped.chars, dropped.runs)
    return "\n".join(lines)


def _docx_lines(parent: BaseOxmlElement, document: DocxDocument, lines: list[str]) -> None:
    for child in parent.iterchildren():
        if child.tag == qn("w:p"):
            lines.append(Paragraph(child, document).text)
        elif child.tag == qn("w:tbl"):
            for row in Table(child, document).rows:
                previous = None
                for cell in row.cells:
                    if cell._tc is not previous:  # python-docx repeats a merged cell once per grid column
                        lines.append("\t" + cell.text)
                    previous = cell._tc
                lines.append("")
        elif child.tag == qn("w:sdt") and (content := child.find(qn("w:sdtContent"))) is not None:
            _docx_lines(content, document, lines)  # content controls wrap ordinary body paragraphs


def _load_image(path: Path) -> Laid:
    """A scanned page saved as a picture: read by OCR, positions in pixels."""
    try:
        with Image.open(path) as im:
            frames = []
            for n in range(getattr(im, "n_frames", 1)):  # a multi-page TIFF holds one page a frame
                im.seek(n)
                frames.append(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as e:
        raise LoadError(f"文件已损坏 / {path.name} is not a readable image") from e
    pages = [Page(n, float(f.width), float(f.height), list(ocr.read_image(f, page=n, what=path.name)), ocr=True,
                  unit="px") for n, f in enumerate(frames, 1)]
    laid = lay_out(pages)
    if not laid.text.strip():
        raise LoadError(f"图片中没有文字 / no text was recognised in {path.name}")
    return laid


def decode_html(data: bytes) -> tuple[str, str]:
    match = _META_CHARSET.search(data[:4096])
    if match and b"\x00" not in data and not any(data.startswith(b) for b, _ in _BOMS):
        name = match.group(1).decode("ascii").lower()
        name = "gb18030" if name in ("gb2312", "gbk", "x-gbk") else name  # browsers read these labels as GBK
        try:
            return _reject_binary(data.decode(name), LoadError(_BINARY)), name
        except (LookupError, UnicodeDecodeError):
            log.debug("meta charset %s does not fit the bytes; detecting instead", name)
    return decode_bytes(data)


def _md_inline(text: str) -> str:
    return _MD_UNDER.sub(r"\1", _MD_STRONG.sub(r"\1", _MD_LINK.sub(r"\1", text)))


def _md_row(row: str) -> list[str]:
    row = row.strip().removeprefix("|")
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    # "<br>" is how a pipe-table cell holds a line break.
    cells = (_MD_BR.sub("\n", c.strip()).replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row))
    return [*("\t" + _md_inline(c) for c in cells), ""]


def _md_text(text: str) -> str:
    lines, out, i, fenced = text.split("\n"), [], 0, False
    while i < len(lines):
        line = lines[i]
        fence = line.lstrip().startswith(("```", "~~~"))
        fenced ^= fence
        if fence or fenced:  # code is kept verbatim
            out.append(line)
        elif "|" in line and i + 1 < len(lines) and "|" in lines[i + 1] and _MD_SEP.match(lines[i + 1]):
            out.extend(_md_row(line))
            i += 2  # the separator row carries no content
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                out.extend(_md_row(lines[i]))
                i += 1
            if i < len(lines) and not lines[i].strip():
                i += 1  # the last row's empty line already separates the table from what follows
            continue
        else:
            out.append(_md_inline(_MD_LINE.sub("", line)))
        i += 1
    return "\n".join(out)
