"""Text in a Word document that no reader sees: hidden runs, white text on white, 1-point text.

Such text is how instructions are slipped past the people who check a document, so it is dropped
before the text is read (and counted in the log: nothing is dropped silently). A run's properties
come from its own formatting, then its character style, then its paragraph's style, then the
document defaults. White text is hidden only where nothing behind it is coloured: no run or
paragraph shading, no highlight, no cell shading, no table style with shading, no page colour.
"""

from __future__ import annotations

from dataclasses import dataclass

from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement

# Text at or below this size (half-points: 4 = 2 pt) cannot be read at any zoom a reader uses.
TINY_HALF_POINTS = 4
_WHITE = {"ffffff", "fffffe", "fefefe"}
_NO_FILL = {"", "auto", "ffffff", "none"}
_OFF = {"0", "false", "off"}


@dataclass
class Dropped:
    runs: int = 0
    chars: int = 0


def _on(el: BaseOxmlElement | None) -> bool | None:
    """A toggle property (w:vanish): None when absent."""
    if el is None:
        return None
    return el.get(qn("w:val"), "true").lower() not in _OFF


class _Styles:
    """Run properties by style id, following basedOn."""

    def __init__(self, document: DocxDocument) -> None:
        try:
            root = document.styles.element
        except (KeyError, AttributeError):  # a package without a styles part
            root = None
        self._by_id = {} if root is None else {s.get(qn("w:styleId")): s for s in root.iter(qn("w:style"))}
        defaults = None if root is None else root.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
        self.defaults = defaults
        self.shaded_tables = {sid for sid, s in self._by_id.items() if s.get(qn("w:type")) == "table"
                              and any(_filled(shd) for shd in s.iter(qn("w:shd")))}

    def chain(self, style_id: str | None) -> list[BaseOxmlElement]:
        """The rPr elements of a style and the styles it is based on, nearest first."""
        out, seen = [], set()
        while style_id and style_id not in seen and style_id in self._by_id:
            seen.add(style_id)
            style = self._by_id[style_id]
            rpr = style.find(qn("w:rPr"))
            if rpr is not None:
                out.append(rpr)
            based = style.find(qn("w:basedOn"))
            style_id = based.get(qn("w:val")) if based is not None else None
        return out


def _filled(shd: BaseOxmlElement | None) -> bool:
    return shd is not None and (shd.get(qn("w:fill")) or "").lower() not in _NO_FILL


def _val(el: BaseOxmlElement | None) -> str | None:
    return None if el is None else el.get(qn("w:val"))


def _first(rprs: list[BaseOxmlElement], tag: str) -> BaseOxmlElement | None:
    for rpr in rprs:
        el = rpr.find(qn(tag))
        if el is not None:
            return el
    return None


def _layers(run: BaseOxmlElement, styles: _Styles) -> list[BaseOxmlElement]:
    """The run's property sources, strongest first."""
    layers = []
    rpr = run.find(qn("w:rPr"))
    if rpr is not None:
        layers.append(rpr)
        layers += styles.chain(_val(rpr.find(qn("w:rStyle"))))
    para = next((a for a in run.iterancestors(qn("w:p"))), None)
    if para is not None:
        ppr = para.find(qn("w:pPr"))
        layers += styles.chain(_val(ppr.find(qn("w:pStyle"))) if ppr is not None else None)
    if styles.defaults is not None:
        layers.append(styles.defaults)
    return layers


def _behind_is_coloured(run: BaseOxmlElement, layers: list[BaseOxmlElement], styles: _Styles) -> bool:
    if _filled(_first(layers, "w:shd")) or (_val(_first(layers, "w:highlight")) or "none") != "none":
        return True
    para = next((a for a in run.iterancestors(qn("w:p"))), None)
    if para is not None and _filled(para.find(f"{qn('w:pPr')}/{qn('w:shd')}")):
        return True
    for cell in run.iterancestors(qn("w:tc")):
        if _filled(cell.find(f"{qn('w:tcPr')}/{qn('w:shd')}")):
            return True
    for table in run.iterancestors(qn("w:tbl")):
        if _val(table.find(f"{qn('w:tblPr')}/{qn('w:tblStyle')}")) in styles.shaded_tables:
            return True
    return False


def hidden_why(run: BaseOxmlElement, styles: _Styles, *, page_coloured: bool) -> str | None:
    layers = _layers(run, styles)
    if _on(_first(layers, "w:vanish")):
        return "hidden"
    size = _val(_first(layers, "w:sz"))
    if size and size.isdigit() and int(size) <= TINY_HALF_POINTS:
        return "tiny"
    color = _first(layers, "w:color")
    white = color is not None and ((color.get(qn("w:val")) or "").lower() in _WHITE
                                   or color.get(qn("w:themeColor")) in ("background1", "light1"))
    if white and not page_coloured and not _behind_is_coloured(run, layers, styles):
        return "white"
    return None


def drop_hidden_text(document: DocxDocument) -> Dropped:
    """Remove the runs no reader sees from the loaded document's body (in memory only)."""
    styles = _Styles(document)
    background = document.element.find(qn("w:background"))
    page_coloured = background is not None and (background.get(qn("w:color")) or "").lower() not in _NO_FILL
    dropped = Dropped()
    for run in list(document.element.body.iter(qn("w:r"))):
        if hidden_why(run, styles, page_coloured=page_coloured):
            dropped.runs += 1
            dropped.chars += sum(len(t.text or "") for t in run.iter(qn("w:t")))
            run.getparent().remove(run)
    return dropped
