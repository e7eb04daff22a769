"""OFD (GB/T 33190, the national fixed-layout format) → text.

An OFD file is a zip of XML: OFD.xml names each document's Document.xml, which lists its pages (and
the template pages they draw on); a page's Content.xml holds layers of TextObjects, each a Boundary
(x y w h, in millimetres) with TextCodes placed at X/Y inside it. The text is read where it stands
and laid out like a PDF's text layer (ingest/layout.py): wrapped lines joined again, page numbers
dropped. Ruled tables are drawn as lines and text, which this reader does not reassemble into cells:
their text comes out line by line.

No maintained Python library reads OFD text on its own (easyofd converts to PDF through PyMuPDF and
writes its own variant of the format), so this reads the standard's few text elements directly,
with lxml: element names are matched without their namespace, entities are never resolved.
"""

from __future__ import annotations

import logging
import posixpath
import re
import zipfile
from pathlib import Path

from lxml import etree

from core.errors import LoadError
from ingest.layout import Laid, Page, TextLine, lay_out, lines_from_boxes

log = logging.getLogger(__name__)
_MB = 1024 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
_DEFAULT_BOX = (0.0, 0.0, 210.0, 297.0)  # A4 in millimetres, when a document states no page area


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if _local(c.tag) == name]


def _find(el: etree._Element, *names: str) -> etree._Element | None:
    for name in names:
        found = next((c for c in el if _local(c.tag) == name), None)
        if found is None:
            return None
        el = found
    return el


def _floats(text: str | None) -> list[float]:
    return [float(x) for x in (text or "").split()] if text else []


def _deltas(text: str | None) -> list[float]:
    """DeltaX/DeltaY: numbers, where "g N d" stands for N times d."""
    parts, out, i = (text or "").split(), [], 0
    while i < len(parts):
        if parts[i] == "g" and i + 2 < len(parts):
            out += [float(parts[i + 2])] * int(float(parts[i + 1]))
            i += 3
        else:
            out.append(float(parts[i]))
            i += 1
    return out


class _Package:
    def __init__(self, path: Path, max_unpacked_bytes: int) -> None:
        try:
            self.zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise LoadError(f"文件已损坏 / corrupt .ofd: {path.name} is not an OFD package") from e
        infos = self.zf.infolist()
        declared = sum(i.file_size for i in infos)
        bomb = next((i for i in infos if i.file_size > max(10 * _MB, 200 * i.compress_size)), None)
        if declared > max_unpacked_bytes or bomb:
            self.zf.close()
            raise LoadError(f"文件解压后过大 / .ofd rejected before unpacking: {path.name}")
        self.names = {i.filename.lstrip("/"): i.filename for i in infos}
        self.path = path

    def xml(self, name: str) -> etree._Element:
        key = posixpath.normpath(name.lstrip("/"))
        if key not in self.names:
            raise LoadError(f"文件已损坏 / corrupt .ofd: {self.path.name} lacks {key}")
        try:
            return etree.fromstring(self.zf.read(self.names[key]), _PARSER)
        except etree.XMLSyntaxError as e:
            raise LoadError(f"文件已损坏 / corrupt .ofd: {self.path.name}: {key} is not well-formed") from e


def _text_boxes(layer: etree._Element, out: list[tuple[float, float, float, float, str]]) -> None:
    for obj in layer:
        name = _local(obj.tag)
        if name == "PageBlock":
            _text_boxes(obj, out)
            continue
        if name != "TextObject":
            continue
        bx, by = [*_floats(obj.get("Boundary")), 0.0, 0.0][:2]
        size = float(obj.get("Size") or obj.get("size") or 3.5)
        x = y = 0.0
        for code in _children(obj, "TextCode"):
            text = code.text or ""
            x = float(code.get("X", x))
            y = float(code.get("Y", y))
            advances = _deltas(code.get("DeltaX"))
            width = sum(advances[: max(0, len(text) - 1)]) + (size if text and not text[-1].isascii() else size / 2)
            if text.strip():
                out.append((bx + x, by + y - 0.88 * size, bx + x + width, by + y + 0.12 * size, text.strip()))
            x += width


def _page(pkg: _Package, doc_dir: str, page_el: etree._Element, templates: dict[str, str], number: int,
          default_box: tuple[float, ...]) -> Page:
    content_path = posixpath.join(doc_dir, page_el.get("BaseLoc", ""))
    root = pkg.xml(content_path)
    area = _find(root, "Area", "PhysicalBox")
    box = _floats(area.text) if area is not None else list(default_box)
    boxes: list[tuple[float, float, float, float, str]] = []
    for tpl in _children(root, "Template"):
        loc = templates.get(tpl.get("TemplateID", ""))
        if loc:
            tpl_root = pkg.xml(posixpath.join(doc_dir, loc))
            for content in _children(tpl_root, "Content"):
                for layer in _children(content, "Layer"):
                    _text_boxes(layer, boxes)
    for content in _children(root, "Content"):
        for layer in _children(content, "Layer"):
            _text_boxes(layer, boxes)
    width, height = (box[2], box[3]) if len(box) >= 4 else (_DEFAULT_BOX[2], _DEFAULT_BOX[3])
    lines: list[TextLine] = lines_from_boxes(boxes, number)
    return Page(number, width, height, list(lines))


def read_ofd(path: Path, *, max_unpacked_bytes: int) -> Laid:
    pkg = _Package(path, max_unpacked_bytes)
    try:
        root = pkg.xml("OFD.xml")
        pages: list[Page] = []
        for body in _children(root, "DocBody"):
            doc_root = _find(body, "DocRoot")
            if doc_root is None or not (doc_root.text or "").strip():
                continue
            doc_path = doc_root.text.strip().lstrip("/")
            doc = pkg.xml(doc_path)
            doc_dir = posixpath.dirname(doc_path)
            common = _find(doc, "CommonData")
            default_box = tuple(_floats(getattr(_find(common, "PageArea", "PhysicalBox"), "text", None))) \
                if common is not None else ()
            templates = {t.get("ID", ""): t.get("BaseLoc", "") for t in
                         (_children(common, "TemplatePage") if common is not None else [])}
            page_list = _find(doc, "Pages")
            for page_el in _children(page_list, "Page") if page_list is not None else []:
                pages.append(_page(pkg, doc_dir, page_el, templates, len(pages) + 1, default_box or _DEFAULT_BOX))
    except LoadError:
        raise
    except (KeyError, ValueError, zipfile.BadZipFile, OSError) as e:
        raise LoadError(f"文件已损坏 / corrupt .ofd: {path.name}") from e
    finally:
        pkg.zf.close()
    if not pages:
        raise LoadError(f"文件已损坏 / {path.name} holds no OFD document (no DocBody/DocRoot)")
    laid = lay_out(pages)
    if not re.sub(r"\s+", "", laid.text):
        raise LoadError(f"OFD 没有文字 / {path.name} has no text (a scanned OFD is not read yet)")
    log.info("read %s: %d OFD pages", path.name, len(pages))
    return laid
