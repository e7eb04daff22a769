"""Files of the formats offices publish, written here from a text so that tests own their fixtures:
a PDF laid out like a printed 公文 (A4, 16-pt body, first-line indent, lines wrapped at the margin,
page numbers "— N —", ruled tables that repeat their header on each page), the same page as a scan
(an image of the rendered text with only its page number as a text layer), a .docx and an .xlsx.

The writers (reportlab, openpyxl, a Chinese font) come with the `dev` extra; `need_writers()` skips a
test with the reason when they are missing.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest

_DATE_LINE = re.compile(r"^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$")
_HEADING = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|[0-9]{1,2}[．.]|第.{1,3}[章节条]|专栏)"
)


def need_writers() -> None:
    for module in ("reportlab", "paperang_p2_fonts_cjk"):
        pytest.importorskip(module, reason=f"{module} writes the fixture: pip install -e '.[dev]'")


def cjk_font_file() -> Path:
    import paperang_p2_fonts_cjk

    return Path(paperang_p2_fonts_cjk.__file__).parent / "fonts" / "wqy-microhei.ttc"


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", str(cjk_font_file()), subfontIndex=0))
    return "WQY"


def table_rows(lines: list[str]) -> list[list[str]]:
    """The rows of a table as the sample .txt files carry it: "a\\tb\\tc" lines, or a cell a line
    ("\\tcell", rows separated by an empty line, 序号 tables found by their numbers, a cell broken
    over lines joined again)."""
    if not lines[0].startswith("\t"):
        return [[c.strip() for c in ln.split("\t")] for ln in lines if ln.strip()]
    cells: list[str] = []
    for ln in lines:
        if ln.startswith("\t"):
            cells.append(ln[1:].strip())
        elif ln.strip() and cells:
            cells[-1] += ln.strip()
    if re.search(r"序号|编号", cells[0]):
        n = next(i for i, c in enumerate(cells) if i and c == "1")
        return [cells[i : i + n] for i in range(0, len(cells), n)]
    rows, row = [], []
    for ln in lines:
        if ln.startswith("\t"):
            row.append(ln[1:].strip())
        elif not ln.strip() and row:
            rows.append(row)
            row = []
        elif ln.strip() and row:
            row[-1] += ln.strip()
    return [*rows, row] if row else rows


def _blocks(text: str) -> list[tuple[str, object]]:
    """("center" | "right" | "flush" | "para", line) and ("table", rows), in order."""
    lines = re.sub(r"\[bookmark:[^\]]*\]", "", text).split("\n")  # a word processor prints no bookmarks
    out: list[tuple[str, object]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "\t" in line:
            # empty lines and short broken-off pieces of cells stand between the table's lines
            j = last = i
            while j < len(lines) and ("\t" in lines[j] or len(lines[j].strip()) <= 20):
                last = j if "\t" in lines[j] else last
                j += 1
            out.append(("table", table_rows(lines[i : last + 1])))
            i = last + 1
            continue
        t = line.strip()
        i += 1
        if not t:
            continue
        nxt = next((x.strip() for x in lines[i:] if x.strip()), "")
        if _DATE_LINE.match(t) or (_DATE_LINE.match(nxt) and len(t) <= 30 and not t.endswith(("。", "：", ":"))):
            out.append(("right", t))
        elif t.endswith(("：", ":")) and len(t) > 20:
            out.append(("flush", t))
        elif len(t) <= 30 and not _HEADING.match(t) and not re.search(r"[。；;：:]$", t):
            out.append(("center", t))
        else:
            out.append(("para", t))
    return out


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_pdf(path: Path, text: str, *, running_head: str | None = None) -> Path:
    """A text PDF of `text` laid out like a printed document."""
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=16, leading=28, wordWrap="CJK", alignment=TA_JUSTIFY,
                          firstLineIndent=32)
    styles = {
        "para": body,
        "flush": ParagraphStyle("flush", parent=body, firstLineIndent=0),
        "center": ParagraphStyle("center", parent=body, firstLineIndent=0, alignment=TA_CENTER, fontSize=20,
                                 leading=32),
        "right": ParagraphStyle("right", parent=body, firstLineIndent=0, alignment=TA_RIGHT, rightIndent=32),
    }
    cell = ParagraphStyle("cell", fontName=font, fontSize=10.5, leading=14, wordWrap="CJK")
    width = A4[0] - 28 * mm - 26 * mm

    def page(canvas, doc) -> None:  # reportlab's page callback
        canvas.saveState()
        canvas.setFont(font, 14)
        canvas.drawCentredString(A4[0] / 2, 20 * mm, f"— {doc.page} —")
        if running_head:
            canvas.setFont(font, 10.5)
            canvas.drawCentredString(A4[0] / 2, A4[1] - 20 * mm, running_head)
        canvas.restoreState()

    story = []
    for kind, payload in _blocks(text):
        if kind != "table":
            story.append(Paragraph(_escape(str(payload)), styles[kind]))
            continue
        rows = [[Paragraph(_escape(c), cell) for c in row] for row in payload]  # type: ignore[union-attr]
        ncols = max(len(r) for r in rows)
        rows = [r + [Paragraph("", cell)] * (ncols - len(r)) for r in rows]
        widths = _column_widths(payload, ncols, width)  # type: ignore[arg-type]
        table = Table(rows, colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.6, "black"), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=28 * mm, rightMargin=26 * mm, topMargin=37 * mm,
                            bottomMargin=35 * mm, title="", author="")
    doc.build(story, onFirstPage=page, onLaterPages=page)
    return path


def _column_widths(rows: list[list[str]], ncols: int, width: float) -> list[float]:
    longest = [max((len(r[i]) if i < len(r) else 0) for r in rows) for i in range(ncols)]
    weights = [min(max(n, 4), 24) for n in longest]  # a column is at least two characters wide
    return [width * w / sum(weights) for w in weights]


def render_page_image(text_lines: list[str], *, dpi: int = 200) -> object:
    """An A4 page at `dpi` with the lines drawn in black on white, as a scanner would see print."""
    from PIL import Image, ImageDraw, ImageFont

    w, h = int(210 / 25.4 * dpi), int(297 / 25.4 * dpi)
    img = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(img)
    size = int(16 / 72 * dpi)
    font = ImageFont.truetype(str(cjk_font_file()), size)
    x0, y = int(28 / 25.4 * dpi), int(37 / 25.4 * dpi)
    for line in text_lines:
        indent = 0 if re.match(r"^[一二三四五六七八九十]+、", line) else 2 * size
        draw.text((x0 + indent, y), line, font=font, fill=0)
        y += int(size * 1.75)
    return img


def write_scanned_pdf(path: Path, pages: list[list[str]], *, page_numbers: bool = True) -> Path:
    """A scan: each page an image of its lines, the only text layer a page number "— N —"."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    font = _font()
    c = canvas.Canvas(str(path), pagesize=A4)
    for n, lines in enumerate(pages, 1):
        buf = BytesIO()
        render_page_image(lines).save(buf, format="PNG")  # type: ignore[attr-defined]
        buf.seek(0)
        c.drawImage(ImageReader(buf), 0, 0, width=A4[0], height=A4[1])
        if page_numbers:
            c.setFont(font, 14)
            c.drawCentredString(A4[0] / 2, 56, f"— {n} —")
        c.showPage()
    c.save()
    return path


# --- OFD (GB/T 33190) ---------------------------------------------------------------------------

_OFD_NS = "http://www.ofdspec.org/2016"
_MM_BODY = 5.64  # 16 pt in millimetres


def _ofd_lines(text: str, per_line: int = 28) -> list[tuple[float, str, float]]:
    """(x in mm, line, size in mm): paragraphs wrapped at `per_line` full-width characters, the first
    line indented two characters; short lines of the header centred."""
    out: list[tuple[float, str, float]] = []
    for kind, payload in _blocks(text):
        if kind == "table":
            for row in payload:  # type: ignore[union-attr]
                out.append((28.0, "  ".join(row), 3.7))
            continue
        line = str(payload)
        if kind in ("center", "right"):
            width = sum(_MM_BODY if not ch.isascii() else _MM_BODY / 2 for ch in line)
            x = 28 + (156 - width) / 2 if kind == "center" else 28 + 156 - width - 2 * _MM_BODY
            out.append((x, line, _MM_BODY))
            continue
        indent = 0 if kind == "flush" else 2
        cur, room = "", per_line - indent
        for ch in line:
            w = 0.5 if ch.isascii() else 1.0
            if room - w < 0:
                out.append((28 + (indent if not out or out[-1][1] != "" else 0) * _MM_BODY, cur, _MM_BODY))
                cur, room, indent = "", per_line, 0
            cur += ch
            room -= w
        out.append((28 + indent * _MM_BODY, cur, _MM_BODY))
    return out


def write_ofd(path: Path, text: str, *, running_head: str | None = None, lines_per_page: int = 22) -> Path:
    """An OFD package of `text` laid out like a printed page: a TextObject per line (its Boundary and
    TextCode with DeltaX advances), a template page carrying the running head, page numbers."""
    import zipfile
    from xml.sax.saxutils import escape

    lines = _ofd_lines(text)
    pages = [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
    ids = iter(range(10, 100000))

    def text_object(x: float, y: float, size: float, s: str) -> str:
        deltas = " ".join(f"{(size if not ch.isascii() else size / 2):.2f}" for ch in s[:-1])
        width = sum(size if not ch.isascii() else size / 2 for ch in s)
        return (f'<ofd:TextObject ID="{next(ids)}" Boundary="{x:.2f} {y:.2f} {width:.2f} {size * 1.2:.2f}" '
                f'Font="3" Size="{size:.2f}"><ofd:TextCode X="0" Y="{size:.2f}" DeltaX="{deltas}">'
                f"{escape(s)}</ofd:TextCode></ofd:TextObject>")

    head = '<?xml version="1.0" encoding="UTF-8"?>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("OFD.xml", f'{head}<ofd:OFD xmlns:ofd="{_OFD_NS}" Version="1.0" DocType="OFD"><ofd:DocBody>'
                               "<ofd:DocInfo><ofd:DocID>0</ofd:DocID></ofd:DocInfo>"
                               "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
        page_refs = "".join(f'<ofd:Page ID="{n + 100}" BaseLoc="Pages/Page_{n}/Content.xml"/>'
                            for n in range(len(pages)))
        template = '<ofd:TemplatePage ID="2" BaseLoc="Tpls/Tpl_0/Content.xml"/>' if running_head else ""
        zf.writestr("Doc_0/Document.xml", f'{head}<ofd:Document xmlns:ofd="{_OFD_NS}"><ofd:CommonData>'
                                          "<ofd:MaxUnitID>99999</ofd:MaxUnitID><ofd:PageArea>"
                                          "<ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>"
                                          f"<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>{template}</ofd:CommonData>"
                                          f"<ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>")
        zf.writestr("Doc_0/PublicRes.xml", f'{head}<ofd:Res xmlns:ofd="{_OFD_NS}" BaseLoc="Res"><ofd:Fonts>'
                                           '<ofd:Font ID="3" FontName="SimSun" FamilyName="SimSun"/></ofd:Fonts>'
                                           "</ofd:Res>")
        if running_head:
            zf.writestr("Doc_0/Tpls/Tpl_0/Content.xml",
                        f'{head}<ofd:Page xmlns:ofd="{_OFD_NS}"><ofd:Content><ofd:Layer ID="5">'
                        f"{text_object(80, 15, 3.7, running_head)}</ofd:Layer></ofd:Content></ofd:Page>")
        for n, page in enumerate(pages):
            objs = "".join(text_object(x, 37 + i * 10, size, s) for i, (x, s, size) in enumerate(page) if s)
            number = text_object(95, 280, 4.9, f"— {n + 1} —")
            tpl = '<ofd:Template TemplateID="2" ZOrder="Background"/>' if running_head else ""
            zf.writestr(f"Doc_0/Pages/Page_{n}/Content.xml",
                        f'{head}<ofd:Page xmlns:ofd="{_OFD_NS}">{tpl}<ofd:Content><ofd:Layer ID="6">'
                        f"<ofd:PageBlock ID=\"7\">{objs}</ofd:PageBlock>{number}</ofd:Layer></ofd:Content>"
                        "</ofd:Page>")
    return path


# --- the made-up county's plan as .docx and its task list as .xlsx ------------------------------
# (tests/fixtures/qinghe-plan.doc and qinghe-tasks.xls were converted from these by LibreOffice)

PLAN_LINES = [
    "青禾县人民政府办公室", "关于印发青禾县数字乡村建设实施方案的通知", "青府办发〔2026〕12号",
    "各乡镇人民政府，县政府各部门：",
    "《青禾县数字乡村建设实施方案》已经县政府同意，现印发给你们，请认真贯彻执行。",
    "青禾县人民政府办公室", "2026年3月2日", "（此件公开发布）", "青禾县数字乡村建设实施方案（2026—2028年）",
    "为加快数字乡村建设，结合本县实际，制定本方案。", "一、发展目标",
    "到2028年，全县建成村级电商服务站点60个，农产品网络零售额达到3亿元。", "二、重点任务",
    "（一）建设电商站点。对新建村级电商服务站点，每个给予2万元一次性补贴。（牵头单位：县商务服务局；责任单位：县财政局）",
    "（二）发展冷链物流。新建冷链仓储设施2处，对冷库建设按投资额的20%给予补助，最高不超过50万元。（牵头单位：县交通物流局）",
    "附件：重点任务分工表",
]
TASK_ROWS = [
    ["序号", "工作任务", "牵头单位", "责任单位", "完成时限"],
    ["1", "建成村级电商服务站点60个", "县商务服务局", "县财政局、各乡镇", "2027年12月底"],
    ["2", "培育农村电商企业20家", "县商务服务局", "县市场服务局", "2028年6月底"],
    ["3", "新建冷链仓储设施2处", "县交通物流局", "县商务服务局", "2026年10月底"],
]


def write_plan_docx(path: Path) -> Path:
    """The plan, its attachment a task table whose first lead unit is merged down two rows."""
    import docx

    d = docx.Document()
    for line in PLAN_LINES:
        d.add_paragraph(line)
    d.add_page_break()
    d.add_paragraph("附件")
    d.add_paragraph("重点任务分工表")
    table = d.add_table(rows=len(TASK_ROWS), cols=len(TASK_ROWS[0]))
    for i, row in enumerate(TASK_ROWS):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    table.cell(1, 2).merge(table.cell(2, 2)).text = TASK_ROWS[1][2]
    d.save(str(path))
    return path


def write_task_xlsx(path: Path) -> Path:
    """The task list: a title row merged across, the lead unit merged down, a second sheet of targets."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务清单"
    ws["A1"] = "青禾县数字乡村建设重点任务清单"
    ws.merge_cells("A1:E1")
    for i, row in enumerate(TASK_ROWS):
        for j, value in enumerate(row):
            ws.cell(row=2 + i, column=1 + j, value=int(value) if value.isdigit() else value)
    ws.merge_cells("C3:C4")
    targets = wb.create_sheet("指标")
    for row in (["指标", "2026年", "2028年"], ["村级电商服务站点（个）", 30, 60], ["农产品网络零售额（亿元）", 1.5, 3]):
        targets.append(row)
    wb.save(str(path))
    return path


def bot_over(root: Path, settings: object, files: dict[str, str]) -> object:
    """A real bot over made-up documents: the files written under root/docs, ingested with the real
    embedder, Chroma and jieba into the settings' index."""
    from policybot.wiring import ingest_paths, make_bot

    docs = root / "docs"
    docs.mkdir()
    for name, text in files.items():
        (docs / name).write_text(text, encoding="utf-8")
    report = ingest_paths([docs], settings=settings)  # type: ignore[arg-type]
    assert not report.failed, report.failed
    return make_bot(settings)  # type: ignore[arg-type]
