"""Policy text → header, title, footer and clause blocks with their heading paths.

Government files share a layout: an optional 印发通知 header (issuer, title, 文号, signature),
the title (sometimes over two lines), numbered headings 一、/（一）/1．/（1）, 专栏 boxes,
an optional 附件 task table, and a 抄送/印发 footer that is not policy content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.records import TABLE_HEADER_PREFIX
from ingest.normalize import DEBRIS, ends_sentence

_CN_NUM = "一二三四五六七八九十"
HEADING_RES: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(rf"^[{_CN_NUM}]+\s*、")),
    (2, re.compile(rf"^[（(]\s*[{_CN_NUM}]+\s*[）)]")),
    (3, re.compile(r"^[0-9０-９]{1,2}\s*[．.、](?![0-9０-９])")),
    (4, re.compile(r"^[（(]\s*[0-9０-９]{1,2}\s*[）)]")),
]
BOX_RE = re.compile(r"^专栏\s*[0-9０-９]+")
_FOOTER_RE = re.compile(r"^\s*抄送\s*[：:]")
_PRINTED_RE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*印发\s*$")
_DATE_LINE_RE = re.compile(r"^\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*$")
_PUBLIC_RE = re.compile(r"^\s*[（(]\s*此件(公开发布|不公开|依申请公开)\s*[）)]\s*$")
_ATTACH_START_RE = re.compile(r"^\s*附\s*件\s*[0-9０-９]*\s*$")
_ATTACH_REF_RE = re.compile(r"^\s*附\s*件\s*[0-9０-９]*\s*[：:]")
_ORG_END_RE = re.compile(r"(政府|办公室|办公厅|委员会|局|委|部|厅|中心|管委会)$")
_ROW_NUMBER_RE = re.compile(r"[0-9０-９]+")


@dataclass
class Line:
    text: str  # debris removed, right-stripped
    boundary: bool = False  # debris stood here: no clause may span it


@dataclass
class Block:
    path: list[str]
    text: str
    kind: str = "body"
    cells: dict[str, str] = field(default_factory=dict)  # task/indicator table rows: header → cell


@dataclass
class ParsedText:
    header: list[str]
    title_lines: list[str]
    footer: list[str]
    blocks: list[Block]


def _lines(text: str) -> list[Line]:
    out = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        cleaned = DEBRIS.sub("", raw)
        out.append(Line(cleaned.rstrip(" \u3000\r"), boundary=cleaned != raw))
    return out


def heading_level(s: str) -> int:
    s = s.lstrip()
    if BOX_RE.match(s):
        return 9
    for level, rx in HEADING_RES:
        if rx.match(s):
            return level
    return 0


def _heading_split(s: str) -> tuple[str, bool]:
    """Return (label for the path, whether the line is a heading only)."""
    s = s.strip()
    first = re.split(r"(?<=[。：:])", s, maxsplit=1)
    label = first[0].rstrip("。：:").strip()
    rest = first[1].strip() if len(first) > 1 else ""
    heading_only = not rest and len(label) <= 40
    return label, heading_only


def _is_table_line(line: str) -> bool:
    return "\t" in line.strip(" \u3000")


def _is_cell_line(text: str) -> bool:
    """One cell of a row written a cell a line: how the loaders write .docx/.html/.md tables."""
    return text.startswith("\t") and "\t" not in text[1:]


def _row_line(cells: list[str]) -> Line:
    # a row of one (merged) cell keeps a tab so that it still reads as a table line
    return Line("\t".join(cells if len(cells) > 1 else [*cells, ""]))


def _join_cell_rows(lines: list[Line]) -> list[Line]:
    """Rows written a cell a line (an empty line after each row) → one tab-separated line per row,
    the form the body parser reads and the sample .txt files use for tables in the body."""
    out: list[Line] = []
    row: list[str] = []
    for ln in lines:
        if _is_cell_line(ln.text):
            row.append(ln.text[1:].strip())
            continue
        if row and ln.text.strip():
            row[-1] += ln.text.strip()  # a cell broken over lines: "县生态" + "环境局"
            continue
        if row:
            out.append(_row_line(row))
            row = []
        out.append(ln)
    if row:
        out.append(_row_line(row))
    return out


def _is_task_header(header: list[str]) -> bool:
    return any("牵头" in h for h in header)


def _numbered_row(base: list[str], header: list[str], cells: list[str], kind: str) -> Block:
    """A 任务分解表 row: labelled 第N项 by its number, which its text leaves out."""
    cells = cells + [""] * (len(header) - len(cells))
    number = cells[0] if _ROW_NUMBER_RE.fullmatch(cells[0]) else ""
    text = "\t".join(c for c in (cells[1:] if number else cells) if c)
    label = f"第{number}项" if number else cells[0][:20]
    return Block([*base, label], text, kind, dict(zip(header, cells, strict=False)))


def _split_regions(lines: list[Line]) -> tuple[list[Line], list[Line], list[Line]]:
    """(header, body, footer)."""
    n = len(lines)
    foot_at = n
    for i in range(n - 1, max(-1, n - 40), -1):
        t = lines[i].text
        if _FOOTER_RE.match(t):
            foot_at = i
            break
        if _PRINTED_RE.search(t):
            foot_at = i
    # an issuer line printed right above the 印发 date belongs to the footer too
    footer = lines[foot_at:]
    body_end = foot_at
    head_end = 0
    nonempty_seen = 0
    for i, ln in enumerate(lines[:body_end]):
        if not ln.text.strip():
            continue
        nonempty_seen += 1
        if nonempty_seen > 40:
            break
        if _PUBLIC_RE.match(ln.text):
            head_end = i + 1
            break
    if head_end == 0:
        for i, ln in enumerate(lines[: min(body_end, 60)]):
            if _DATE_LINE_RE.match(ln.text) and any("通知" in x.text or "印发" in x.text for x in lines[:i]):
                head_end = i + 1
                break
    return lines[:head_end], lines[head_end:body_end], footer


def _take_title(body: list[Line]) -> tuple[list[str], int]:
    title: list[str] = []
    i = 0
    while i < len(body):
        t = body[i].text.strip()
        if not t:
            i += 1
            continue
        if heading_level(t) or _is_table_line(t) or len(title) >= 4:
            break
        is_marker = bool(re.fullmatch(r"[（(]\s*(征求意见稿|草案|送审稿|试行)\s*[）)]", t))
        looks_para = len(t) > 50 or (t.endswith("。") and not is_marker) or t.startswith(("为", "根据"))
        if looks_para:
            break
        title.append(t)
        i += 1
    return title, i


def _paragraphs(lines: list[Line]) -> list[str]:
    """Join lines cut by page breaks ('设\\n\\n立') back into paragraphs; never join across debris."""
    paras: list[str] = []
    joinable = False
    for ln in lines:
        t = ln.text.strip(" \u3000")
        if not t.strip():
            continue
        is_struct = bool(heading_level(t)) or _is_table_line(ln.text) or ln.text.startswith("\t")
        if paras and joinable and not is_struct and not ln.boundary:
            paras[-1] += t
        else:
            paras.append(ln.text.rstrip(" \u3000") if _is_table_line(ln.text) else t)
        last = paras[-1]
        joinable = (not is_struct and not ends_sentence(last)) or (
            # a numbered item cut mid-sentence: its text runs on after the heading
            bool(heading_level(last)) and not ends_sentence(last) and len(last) > 40
        )
    return paras


def _body_blocks(paras: list[str]) -> list[Block]:
    blocks: list[Block] = []
    stack: list[tuple[float, str, bool]] = []  # (level, label, inline)
    table_header: list[str] = []
    table_section = ""

    def path() -> list[str]:
        return [label for _, label, _ in stack]

    def kind_for(p: list[str]) -> str:
        if any(x.startswith("专栏") for x in p):
            return "box"
        if any("目标" in x for x in p):
            return "target"
        return "body"

    for para in paras:
        if _is_table_line(para):
            cells = [c.strip() for c in para.strip("\n").split("\t")]
            if not table_header:
                if stack and stack[-1][2]:
                    stack.pop()  # like text, a table after an inline item belongs to the item's parent
                table_header = cells
                continue
            if cells[0] and not any(cells[1:]):
                table_section = cells[0]
                continue
            p = path() + ([table_section] if table_section else [])
            if _is_task_header(table_header):  # lead units and deadlines live in the row's cells
                blocks.append(_numbered_row(p, table_header, cells, "task_row"))
                continue
            is_indicator = any(("指标" in x or "目标" in x) for x in p)
            row = dict(zip(table_header, cells, strict=False))
            # the column names travel in the path: a bare row "70%  75%" means nothing without them
            p = [*p, TABLE_HEADER_PREFIX + "｜".join(table_header)]
            blocks.append(Block(p, para.strip(), "target" if is_indicator else "table_row", row))
            continue
        table_header, table_section = [], ""
        level = heading_level(para)
        if level == 9:
            while stack and stack[-1][0] >= 2.5:
                stack.pop()
            stack.append((2.5, para.strip(), False))
            continue
        if level:
            label, heading_only = _heading_split(para)
            while stack and stack[-1][0] >= level:
                stack.pop()
            if level <= 2:  # a new 一、 or （一） closes any open 专栏 box
                while stack and stack[-1][0] == 2.5:
                    stack.pop()
            stack.append((level, label, not heading_only))
            if not heading_only:
                blocks.append(Block(path(), para, kind_for(path())))
            continue
        if stack and stack[-1][2]:
            stack.pop()  # text after an inline item belongs to the item's parent
        p = path() or ["前言"]
        blocks.append(Block(p, para, kind_for(p)))
    return blocks


def _attachment_blocks(lines: list[Line], title: str = "") -> list[Block]:
    first = next((i for i, ln in enumerate(lines) if ln.text.strip()), len(lines))
    if not title and first < len(lines) and not lines[first].text.startswith("\t"):
        title, lines = lines[first].text.strip(), lines[first + 1 :]
    cells: list[str] = []
    for ln in lines:
        t = ln.text
        if t.startswith("\t"):
            cells.append(t[1:].strip())
        elif t.strip() and cells:
            cells[-1] += t.strip()  # a cell broken over lines, even across a page: "县生态" + "环境局"
    prefix = f"附件 {title}".strip()
    # Rows of a 序号 table are found by their numbers, not by empty lines: page breaks put empty
    # lines inside cells. The first row is numbered 1; any other number may be data ("2025", "10").
    numbered = bool(cells) and bool(re.search(r"序号|编号", cells[0]))
    ncols = next((i for i, c in enumerate(cells) if i and c in ("1", "１")), len(cells)) if numbered else len(cells)
    if ncols == len(cells):  # plain text, or a table without numbered rows: read it like the body
        blocks = _body_blocks(_paragraphs(_join_cell_rows(lines)))
        return [Block([prefix, *b.path], b.text, b.kind, b.cells) for b in blocks]
    header = cells[:ncols]
    kind = "task_row" if _is_task_header(header) else "table_row"
    return [_numbered_row([prefix], header, cells[i : i + ncols], kind) for i in range(ncols, len(cells), ncols)]


def _attachment_start(body: list[Line]) -> tuple[int, str]:
    """Where the 附件 begins and its title when the 附件 line carries one.

    "附件" alone on a line starts it. "附件：标题" is usually a reference to an attachment printed
    later, but followed directly by a table it is the attachment itself (common in .docx files).
    """
    for i, ln in enumerate(body):
        if _ATTACH_START_RE.match(ln.text):
            return i, ""
        if _ATTACH_REF_RE.match(ln.text):
            nxt = next((x.text for x in body[i + 1 :] if x.text.strip()), "")
            if _is_table_line(nxt):
                return i, re.split(r"[：:]", ln.text, maxsplit=1)[1].strip()
    return len(body), ""


def parse_text(text: str) -> ParsedText:
    lines = _lines(text)
    header, body, footer = _split_regions(lines)
    title, skip = _take_title(body)
    body = body[skip:]
    attach_at, attach_title = _attachment_start(body)
    main = [ln for ln in body[:attach_at] if not _ATTACH_REF_RE.match(ln.text) and not _PUBLIC_RE.match(ln.text)]
    main, trailing_sig = _trailing_signature(main)
    blocks = _body_blocks(_paragraphs(_join_cell_rows(main)))
    if attach_at < len(body):
        blocks += _attachment_blocks(body[attach_at + 1 :], attach_title)
    head = _header_blocks(header)
    if trailing_sig and not any(b.path == ["落款"] for b in head):
        head.append(Block(["落款"], " ".join(ln.text.strip() for ln in trailing_sig)))
    if not any(b.path == ["落款"] for b in head):
        # no dated signature: the 印发 line of the footer is the only statement of the date
        printed = [ln.text.strip() for ln in footer if _PRINTED_RE.search(ln.text)]
        if printed:
            head.append(Block(["印发信息"], printed[-1]))
    if title:
        head.insert(0, Block(["标题"], "\n".join(title)))
    blocks = head + blocks
    return ParsedText(
        header=[ln.text.strip() for ln in [*header, *trailing_sig] if ln.text.strip()],
        title_lines=title,
        footer=[ln.text.strip() for ln in footer if ln.text.strip()],
        blocks=blocks,
    )


def _trailing_signature(main: list[Line]) -> tuple[list[Line], list[Line]]:
    """A file without a 印发通知 header often ends with its issuer and date: they are the 落款, not policy text."""
    idx = [i for i, ln in enumerate(main) if ln.text.strip()]
    if len(idx) < 3 or not _DATE_LINE_RE.match(main[idx[-1]].text):
        return main, []
    org = main[idx[-2]].text.strip()
    if len(org) <= 30 and _ORG_END_RE.search(org) and not heading_level(org):
        return main[: idx[-2]], [main[idx[-2]], main[idx[-1]]]
    return main[: idx[-1]], [main[idx[-1]]]


def _header_blocks(header: list[Line]) -> list[Block]:
    """The 印发通知 as one clause and the 落款 (issuer, date) as another, for metadata questions."""
    lines = [ln for ln in header if ln.text.strip() and not _PUBLIC_RE.match(ln.text)]
    if not lines:
        return []
    sig: list[Line] = []
    if _DATE_LINE_RE.match(lines[-1].text):
        sig = [lines.pop()]
        if not sig[0].boundary and lines and _ORG_END_RE.search(lines[-1].text.strip()):
            sig.insert(0, lines.pop())
    out = []
    if lines:
        out.append(Block(["印发通知"], "\n".join(ln.text.strip() for ln in lines)))
    if sig:
        out.append(Block(["落款"], " ".join(ln.text.strip() for ln in sig)))
    return out
