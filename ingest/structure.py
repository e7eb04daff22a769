"""Policy text → header, title, footer and clause blocks with their heading paths.

Government files share a layout: an optional 印发通知 header (issuer, title, 文号, signature),
the title (sometimes over two lines), headings 第X章 / 第X节 / 第X条 and 一、/（一）/1．/（1）,
专栏 boxes, labelled blocks (申请条件：… 补贴标准：…), question-and-answer pairs (一、…？ 答：…),
optional 附件 (task tables, forms), and a 抄送/印发 footer that is not policy content.

Nothing read is lost without a record: text that lands in no clause (a heading that only names its
section, a table header, the footer, conversion debris) is listed in `ParsedText.consumed` with the
reason, so that ingest can check that every character of the body is accounted for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.records import TABLE_HEADER_PREFIX
from ingest.normalize import DEBRIS, ends_sentence
from ingest.runon import split_run_on

_CN_NUM = "一二三四五六七八九十百零〇两"
ARTICLE_RE = re.compile(rf"^第\s*[{_CN_NUM}0-9０-９]+\s*条(?![件款])")
# Levels are ordered numbers: 第X章 above 第X节 above 第X条 above an unnumbered part heading above 一、.
HEADING_RES: list[tuple[float, re.Pattern[str]]] = [
    (0.1, re.compile(rf"^第\s*[{_CN_NUM}0-9０-９]+\s*章(?=\s|$|[\u4e00-\u9fa5])")),
    (0.2, re.compile(rf"^第\s*[{_CN_NUM}0-9０-９]+\s*节(?=\s|$|[\u4e00-\u9fa5])")),
    (0.3, ARTICLE_RE),  # ARTICLE_LEVEL
    (1, re.compile(rf"^[{_CN_NUM}]+\s*、")),
    (2, re.compile(rf"^[（(]\s*[{_CN_NUM}]+\s*[）)]")),
    (3, re.compile(r"^[0-9０-９]{1,2}\s*[．.、](?![0-9０-９])")),
    (4, re.compile(r"^[（(]\s*[0-9０-９]{1,2}\s*[）)]")),
]
ARTICLE_LEVEL = 0.3
PART_LEVEL = 0.5  # "面向企业的政策" above a list that starts again at 一、
CAPTION_LEVEL = 4.5  # "主要指标" over the table it names: under whatever section holds the table
BOX_LEVEL = 2.5  # 专栏 boxes sit under （一）-level sections
BOX_RE = re.compile(r"^专栏\s*[0-9０-９]+")
_FOOTER_RE = re.compile(r"^\s*(抄\s*送|公开方式)\s*[：:]")
_PRINTED_RE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*印发\s*$")
_DATE_LINE_RE = re.compile(r"^\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*$")
_PUBLIC_RE = re.compile(r"^\s*[（(]\s*此件(公开发布|不公开|依申请公开)\s*[）)]\s*$")
_ATTACH_START_RE = re.compile(r"^\s*附\s*[件表]\s*[0-9０-９]*\s*$")
_ATTACH_REF_RE = re.compile(r"^\s*附\s*[件表]\s*[0-9０-９]*\s*[：:]")
_ATTACH_ITEM_RE = re.compile(r"^\s*[0-9０-９]{1,2}\s*[.．、]\s*\S")  # "2.任务分工表": further items of the list
_ORG_END_RE = re.compile(r"(政府|办公室|办公厅|委员会|局|委|部|厅|中心|管委会|院|会|处|办)$")
_ROW_NUMBER_RE = re.compile(r"[0-9０-９]+")
_QUESTION_END = ("？", "?")
_ANSWER_RE = re.compile(r"^\s*答\s*[：:]")
# "申请条件：", "申请材料：", "办理方式：…": a block of its own kind within a measure or an item
LABEL_RE = re.compile(
    r"^\s*(?P<label>[\u4e00-\u9fa5]{0,14}(?:条件|标准|期限|材料|流程|对象|方式|程序|渠道|时间|范围|要求|地点))\s*[：:]"
)
# A line that only assigns units to what precedes it: "（责任单位：县甲局、县乙局）", "（县甲局负责）"
UNIT_LINE_RE = re.compile(
    r"^\s*[（(〔【]\s*(?:(?:牵头|责任|配合)(?:单位|部门)\s*[：:][^（）()]*(?:[（(][^（）()]*[）)][^（）()]*)*"
    r"|[^（）()：:]{2,200}?负责[^（）()]{0,40})[）)〕】]\s*$"
)
# Number and unit pieces a layout broke off a sentence: "0.8", "元", "/", "立方米"
_FRAGMENT_RE = re.compile(
    r"^[0-9０-９.．,，%％/／~～\-－—]*(?:亿元|万元|元|千瓦时|万千瓦时|千瓦|兆瓦|瓦|万吨|吨|公斤|千克|万平方米|平方米|万立方米|立方米|"
    r"万亩|亩|公里|千米|米|个|户|家|人|次|倍)?[0-9０-９.．%％/／]*$"
)
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
    duty: str = ""  # a unit line after this block that assigns its units ("（责任单位：…）")


@dataclass
class ParsedText:
    header: list[str]
    title_lines: list[str]
    footer: list[str]
    blocks: list[Block]
    # text that is in no block, with the reason: ("heading", "二、主要任务"), ("footer", "抄送：…")
    consumed: list[tuple[str, str]] = field(default_factory=list)
    lead_first: bool = False  # the document says "列第一位者为牵头单位": the first unit listed leads


def _lines(text: str, consumed: list[tuple[str, str]]) -> list[Line]:
    out: list[Line] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        cleaned = DEBRIS.sub("", raw)
        if cleaned != raw:
            consumed.extend(("conversion debris", m.group(0)) for m in DEBRIS.finditer(raw))
        # a table row starts with a tab; a run-on paragraph with a stray tab inside is text all the same
        first = not any(ln.text.strip() for ln in out)
        pieces = [cleaned] if cleaned.startswith("\t") else split_run_on(cleaned, first=first)
        for i, piece in enumerate(pieces):
            out.append(Line(piece.rstrip(" \u3000\r"), boundary=cleaned != raw and i == 0))
    return out


def heading_level(s: str) -> float:
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
    m = ARTICLE_RE.match(s)
    if m:
        # "第三条 载体建设。…" is labelled by its short title; "第一条 为全面落实…" by its number
        number = re.sub(r"\s+", "", m.group(0))
        rest = s[m.end() :].strip()
        short = re.match(r"^([^。，,；;：:、]{2,10})。", rest)
        return (f"{number} {short.group(1)}" if short else number), not rest
    if heading_level(s) in (0.1, 0.2):
        return re.sub(r"\s+", " ", s), True
    first = re.split(r"(?<=[。：:])", s, maxsplit=1)
    label = first[0].rstrip("。：:").strip()
    rest = first[1].strip() if len(first) > 1 else ""
    # "（一）具有良好的社会信誉，管理规范；" is an item of a list, not the name of a section
    item = s.endswith(("；", ";")) or (s.endswith("。") and bool(re.search(r"[，,]", label)))
    if rest and len(rest) <= 20 and not re.search(r"[。；;，,！？!?]", rest) and heading_level(s) <= 2:
        # "一、申报条件：找准您的定位": a section's name with a subtitle, not a sentence
        return re.sub(r"\s+", " ", s.rstrip("。：:")), True
    heading_only = not rest and len(label) <= 40 and not item
    if item and not rest:
        label = re.split(r"[，,；;]", label, maxsplit=1)[0]  # the item's opening words name it
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


def _numbered_row(
    base: list[str], header: list[str], cells: list[str], kind: str, consumed: list[tuple[str, str]]
) -> Block:
    """A 任务分解表 row: labelled 第N项 by its number, which its text leaves out."""
    cells = cells + [""] * (len(header) - len(cells))
    number = cells[0] if _ROW_NUMBER_RE.fullmatch(cells[0]) else ""
    if number:
        consumed.append(("row number", number))
    text = "\t".join(c for c in (cells[1:] if number else cells) if c)
    label = f"第{number}项" if number else cells[0][:20]
    return Block([*base, label], text, kind, dict(zip(header, cells, strict=False)))


def _split_regions(lines: list[Line], consumed: list[tuple[str, str]]) -> tuple[list[Line], list[Line], list[Line]]:
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
    if foot_at < n and _PRINTED_RE.search(lines[foot_at].text):
        # the office that printed the file stands just above its 印发 date: 版记, not policy text
        prev = next((j for j in range(foot_at - 1, -1, -1) if lines[j].text.strip()), None)
        if prev is not None and len(lines[prev].text.strip()) <= 30 and _ORG_END_RE.search(lines[prev].text.strip()):
            foot_at = prev
    footer = lines[foot_at:]
    consumed.extend(("footer", ln.text) for ln in footer if ln.text.strip())
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
        table = _is_table_line(t) or body[i].text.startswith("\t")  # a row, or a cell of a row a cell a line
        if heading_level(t) or table or len(title) >= 4 or _ATTACH_START_RE.match(t):
            break
        is_marker = bool(re.fullmatch(r"[（(]\s*(征求意见稿|草案|送审稿|试行)\s*[）)]", t))
        looks_para = len(t) > 50 or (t.endswith("。") and not is_marker) or t.startswith(("为", "根据"))
        if looks_para or LABEL_RE.match(t) or t.endswith(_QUESTION_END):
            break
        title.append(t)
        i += 1
    return title, i


def _is_fragment(t: str) -> bool:
    s = t.strip(" \u3000")
    return 0 < len(s) <= 8 and bool(_FRAGMENT_RE.fullmatch(s)) and not heading_level(s)


def _paragraphs(lines: list[Line]) -> list[str]:
    """Join lines cut by page breaks ('设\\n\\n立') back into paragraphs; never join across debris."""
    paras: list[str] = []
    joinable = False
    for ln in lines:
        t = ln.text.strip(" \u3000")
        if not t.strip():
            continue
        is_struct = bool(heading_level(t)) or _is_table_line(ln.text) or ln.text.startswith("\t")
        # a number or unit broken off its sentence ("0.8" / "元" / "/" / "立方米") joins it even after a
        # heading, but never after a full stop or inside a table
        fragment = bool(
            paras and not ln.boundary and _is_fragment(t) and not _is_table_line(paras[-1])
            and not paras[-1].endswith(("。", "！", "？", "!", "?"))
        )
        if paras and (fragment or (joinable and not is_struct)) and not ln.boundary:
            paras[-1] += t
        else:
            paras.append(ln.text.rstrip(" \u3000") if _is_table_line(ln.text) else t)
        last = paras[-1]
        joinable = (not bool(heading_level(last)) and not _is_table_line(last) and not ends_sentence(last)) or (
            # a numbered item cut mid-sentence: its text runs on after the heading
            bool(heading_level(last)) and not ends_sentence(last) and (len(last) > 40 or fragment)
        )
    return paras


def _reads_as_item(line: str) -> bool:
    """"（2）属于持证残疾人；", "（一）具有良好的信誉，管理规范。": an item of a list, by its punctuation."""
    s = line.strip()
    return s.endswith(("；", ";")) or (s.endswith("。") and bool(re.search(r"[，,]", s)))


def _lone_table_lines(paras: list[str]) -> set[int]:
    """Lines with a tab but no table around them: a stray tab in running text, not a table header."""
    table = [_is_table_line(p) for p in paras]
    return {
        i for i, t in enumerate(table)
        if t and not (i > 0 and table[i - 1]) and not (i + 1 < len(table) and table[i + 1])
    }


def _is_part_heading(paras: list[str], i: int) -> bool:
    """A short unnumbered line right before a list that starts at 一、 heads that list; so does one between
    a finished sentence and a 一、-level heading, when the numbering runs on across parts ("…给予补贴。" /
    "面向毕业生的扶持政策" / "四、一次性创业补贴")."""
    p = paras[i].strip()
    if heading_level(p) or _is_table_line(p) or len(p) > 20 or re.search(r"[。，,；;：:！？!?、]", p):
        return False
    nxt = paras[i + 1].strip() if i + 1 < len(paras) else ""
    if re.match(r"^[一]\s*、", nxt):
        return True
    prev = paras[i - 1].strip() if i > 0 else ""
    return heading_level(nxt) == 1 and prev.endswith(("。", "；", ";", "！", "!")) and len(p) >= 4


def _is_caption(paras: list[str], i: int, lone: set[int]) -> bool:
    """A short line of no sentence right before a table (a sheet's name, "主要指标") names the table."""
    p = paras[i].strip()
    words = len(re.findall(r"[\u4e00-\u9fff]", p))
    if _is_table_line(p) or len(p) > 20 or words < 2 or re.search(r"[。，,；;：:！？!?（(]", p):
        return False
    return i + 1 < len(paras) and _is_table_line(paras[i + 1]) and i + 1 not in lone


class _BodyParser:
    """Paragraphs → blocks: heading stack, tables, FAQ pairs, labelled blocks, unit lines."""

    def __init__(self, consumed: list[tuple[str, str]]) -> None:
        self.blocks: list[Block] = []
        self.stack: list[tuple[float, str, bool]] = []  # (level, label, inline)
        self.consumed = consumed
        self.closed: set[int] = set()  # blocks whose units a unit line has already given
        self.item_levels: dict[float, bool] = {}  # whether the last heading at each level was an item
        self.heading_text: list[str] = []  # per stack entry: the line of a heading-only entry
        self.blocks_at_push: list[int] = []  # per stack entry: how many blocks there were when it opened
        self.lone: set[int] | None = None  # lines with a tab that are no table

    def path(self) -> list[str]:
        return [label for _, label, _ in self.stack]

    def kind_for(self, p: list[str]) -> str:
        if any(x.startswith("专栏") for x in p):
            return "box"
        if any("目标" in x for x in p):
            return "target"
        return "body"

    def push(self, level: float, label: str, inline: bool, text: str = "") -> None:
        while self.stack and self.stack[-1][0] >= level:
            self.pop()
        for deeper in [lv for lv in self.item_levels if lv > level]:
            del self.item_levels[deeper]  # a new section starts its lists afresh
        if level <= 2:  # a new 一、 or （一） closes any open 专栏 box
            while self.stack and self.stack[-1][0] == BOX_LEVEL:
                self.pop()
        self._open(level, label, inline, text)

    def _open(self, level: float, label: str, inline: bool, text: str) -> None:
        self.stack.append((level, label, inline))
        self.heading_text.append(text if not inline else "")
        self.blocks_at_push.append(len(self.blocks))

    def pop(self) -> None:
        """Close the innermost heading. One that nothing was written under ("1.建成智慧农场3个。"
        followed by "2.…") was an item, not a heading: it becomes a clause of its own."""
        path = self.path()
        self.stack.pop()
        text, at = self.heading_text.pop(), self.blocks_at_push.pop()
        if text and len(self.blocks) == at:
            self.add(path, text)

    def drop_inline(self) -> None:
        # text after an inline item belongs to the item's parent; but an article (第X条) goes on
        # over several paragraphs
        if self.stack and self.stack[-1][2] and self.stack[-1][0] != ARTICLE_LEVEL:
            self.pop()

    def add(self, path: list[str], text: str, kind: str | None = None, cells: dict[str, str] | None = None) -> None:
        self.blocks.append(Block(list(path), text, kind or self.kind_for(path), cells or {}))

    def parse(self, paras: list[str]) -> list[Block]:
        lone = self.lone = _lone_table_lines(paras)
        self.table_header: list[str] = []
        self.table_section = ""
        self.rows = 0  # rows read under the current header, and under the current section
        self.section_rows = 0
        i = 0
        while i < len(paras):
            para = paras[i]
            if _is_table_line(para) and i not in lone:
                self.table_row(para)
                i += 1
                continue
            self.end_table()
            i = self.paragraph(paras, i)
        self.end_table()
        while self.stack:
            self.pop()
        return self.blocks

    def table_row(self, para: str) -> None:
        cells = [c.strip() for c in para.strip("\n").split("\t")]
        if not self.table_header:
            self.drop_inline()  # like text, a table after an inline item belongs to the item's parent
            self.table_header, self.rows = cells, 0
            return
        if cells[0] and not any(cells[1:]):
            self.end_section()
            self.table_section, self.section_rows = cells[0], 0
            return
        self.rows += 1
        self.section_rows += 1
        p = self.path() + ([self.table_section] if self.table_section else [])
        if _is_task_header(self.table_header):  # lead units and deadlines live in the row's cells
            self.blocks.append(_numbered_row(p, self.table_header, cells, "task_row", self.consumed))
            return
        is_indicator = any(("指标" in x or "目标" in x) for x in p)
        row = dict(zip(self.table_header, cells, strict=False))
        # the column names travel in the path: a bare row "70%  75%" means nothing without them
        p = [*p, TABLE_HEADER_PREFIX + "｜".join(self.table_header)]
        self.add(p, para.strip(), "target" if is_indicator else "table_row", row)

    def end_section(self) -> None:
        """A section row with no rows under it (the last row of a form) is a row of its own."""
        if self.table_section and not self.section_rows:
            self.add(self.path() or ["前言"], self.table_section, "table_row")
        self.table_section = ""

    def end_table(self) -> None:
        if not self.table_header:
            return
        header = "\t".join(c for c in self.table_header if c)
        if self.rows:
            self.consumed.append(("table header", header))  # it labels every row, in their paths
        elif header:
            self.add(self.path() or ["前言"], header, "table_row")  # a table of one row: that row is content
        self.end_section()
        self.table_header, self.rows = [], 0
        if self.stack and self.stack[-1][0] == CAPTION_LEVEL:
            self.pop()  # the caption names its table only

    def paragraph(self, paras: list[str], i: int) -> int:
        """Read the paragraph at i (and what belongs to it); return the index of the next one."""
        para = paras[i]
        level = heading_level(para)
        if level == 9:
            while self.stack and self.stack[-1][0] >= BOX_LEVEL:
                self.pop()
            self._open(BOX_LEVEL, para.strip(), False, "")
            self.consumed.append(("heading", para))
            return i + 1
        if level and para.strip().endswith(_QUESTION_END) and i + 1 < len(paras) and _ANSWER_RE.match(paras[i + 1]):
            return self.faq(paras, i, level)
        if not level and _is_part_heading(paras, i):
            self.push(PART_LEVEL, para.strip(), False)
            self.consumed.append(("heading", para))
            return i + 1
        if not level and self.lone is not None and _is_caption(paras, i, self.lone):
            self.drop_inline()
            self.push(CAPTION_LEVEL, para.strip(), False)
            self.consumed.append(("table caption", para))
            return i + 1
        if level:
            label, heading_only = _heading_split(para)
            if heading_only and para.rstrip().endswith("。") and self.item_levels.get(level):
                heading_only = False  # "（3）曾获得助学贷款。" closes a list of items, it names no section
            self.push(level, label, not heading_only, para)
            self.item_levels[level] = _reads_as_item(para)
            if heading_only:
                self.consumed.append(("heading", para))
            else:
                self.add(self.path(), para)
            return i + 1
        if UNIT_LINE_RE.match(para):
            self.unit_line(para)
            return i + 1
        self.drop_inline()
        m = LABEL_RE.match(para)
        if m:
            return self.labelled(paras, i, m.group("label"))
        p = self.path() or ["前言"]
        last = self.blocks[-1] if self.blocks else None
        if self.stack and self.stack[-1][0] == ARTICLE_LEVEL and last is not None and last.path == p:
            last.text = f"{last.text}\n{para}"  # the next paragraph (款) of the same article
        else:
            self.add(p, para)
        return i + 1

    def faq(self, paras: list[str], i: int, level: float) -> int:
        """"一、…？" + "答：…" and everything down to the next question: one clause."""
        question = paras[i].strip()
        while self.stack and self.stack[-1][0] >= level:
            self.pop()
        path = [*self.path(), question]
        texts = [question]
        j = i + 1
        while j < len(paras):
            p = paras[j]
            lv = heading_level(p)
            if lv and lv <= level:
                break
            texts.append(p)
            j += 1
        self.add(path, "\n".join(texts))
        return j

    def labelled(self, paras: list[str], i: int, label: str) -> int:
        """"申请条件：" and the lines under it, down to the next label or a heading at the level of
        the item it belongs to: one clause with the label in its path."""
        top = self.stack[-1][0] if self.stack else 2.0
        path = [*self.path(), label]
        texts = [paras[i]]
        j = i + 1
        while j < len(paras):
            p = paras[j]
            lv = heading_level(p)
            if LABEL_RE.match(p) or _is_table_line(p) or UNIT_LINE_RE.match(p) or lv == 9:
                break
            if lv and lv <= top:
                break
            if not lv and _is_part_heading(paras, j):
                break
            texts.append(p)
            j += 1
        self.add(path, "\n".join(texts))
        return j

    def unit_line(self, para: str) -> None:
        """"（责任单位：…）" on a line of its own closes the measure(s) just above it: the items since the
        last such line, within the section it stands in."""
        self.drop_inline()
        while self.stack and self.heading_text[-1] and len(self.blocks) == self.blocks_at_push[-1]:
            self.pop()  # an item read as a heading ("2.推广设备200台。"): it is the measure being closed
        scope = self.path()
        run: list[int] = []
        for k in range(len(self.blocks) - 1, -1, -1):
            b = self.blocks[k]
            if k in self.closed or b.path[: len(scope)] != scope or b.kind not in ("body", "box", "target"):
                break
            if run and len(b.path) < len(self.blocks[run[-1]].path):
                break  # a shallower paragraph (the section's introduction) is not a measure
            run.append(k)
        if not run:
            self.add(scope or ["前言"], para)
            return
        last = self.blocks[run[0]]
        last.text = f"{last.text}\n{para.strip()}"
        for k in run:
            self.blocks[k].duty = para.strip()
            self.closed.add(k)


def _body_blocks(paras: list[str], consumed: list[tuple[str, str]]) -> list[Block]:
    return _BodyParser(consumed).parse(paras)


def _attachment_blocks(lines: list[Line], title: str, consumed: list[tuple[str, str]]) -> list[Block]:
    first = next((i for i, ln in enumerate(lines) if ln.text.strip()), len(lines))
    if not title and first < len(lines) and not lines[first].text.startswith("\t"):
        title, lines = lines[first].text.strip(), lines[first + 1 :]
        consumed.append(("attachment title", title))
    prefix = f"附件 {title}".strip()
    blocks: list[Block] = []
    for caption, part in _table_parts(lines):
        if caption:
            consumed.append(("table caption", caption))
        blocks += _attachment_table(part, [prefix, caption] if caption else [prefix], consumed)
    return blocks


_HEADER_CELL_RE = re.compile(r"^(序号|编号)$")


def _table_parts(lines: list[Line]) -> list[tuple[str, list[Line]]]:
    """An attachment may hold several tables, each under a caption line ("表2 主要指标"). A line of
    text between cells is a cell broken over lines ("县生态" + "环境局") unless a new table's header
    (序号) follows it."""
    parts: list[tuple[str, list[Line]]] = [("", [])]
    seen_cells = False
    for i, ln in enumerate(lines):
        t = ln.text
        if t.strip() and not t.startswith("\t") and seen_cells:
            nxt = next((x.text for x in lines[i + 1 :] if x.text.startswith("\t")), "")
            if _HEADER_CELL_RE.match(nxt[1:].strip()):
                parts.append((t.strip(), []))
                seen_cells = False
                continue
        seen_cells = seen_cells or t.startswith("\t")
        parts[-1][1].append(ln)
    return [(c, part) for c, part in parts if c or any(x.text.strip() for x in part)]


def _attachment_table(lines: list[Line], prefix: list[str], consumed: list[tuple[str, str]]) -> list[Block]:
    cells: list[str] = []
    for ln in lines:
        t = ln.text
        if t.startswith("\t"):
            cells.append(t[1:].strip())
        elif t.strip() and cells:
            cells[-1] += t.strip()  # a cell broken over lines, even across a page: "县生态" + "环境局"
    # Rows of a 序号 table are found by their numbers, not by empty lines: page breaks put empty
    # lines inside cells. The first row is numbered 1; any other number may be data ("2025", "10").
    numbered = bool(cells) and bool(re.search(r"序号|编号", cells[0]))
    ncols = next((i for i, c in enumerate(cells) if i and c in ("1", "１")), len(cells)) if numbered else len(cells)
    if ncols == len(cells) or any(ln.text.strip() and not ln.text.startswith("\t") for ln in lines[:1]):
        # plain text, or a table without numbered rows: read it like the body
        blocks = _body_blocks(_paragraphs(_join_cell_rows(lines)), consumed)
        return [Block([*prefix, *b.path], b.text, b.kind, b.cells, b.duty) for b in blocks]
    header = cells[:ncols]
    consumed.append(("table header", " ".join(header)))
    kind = "task_row" if _is_task_header(header) else "table_row"
    return [
        _numbered_row(prefix, header, cells[i : i + ncols], kind, consumed) for i in range(ncols, len(cells), ncols)
    ]


def _attachments(body: list[Line]) -> tuple[int, list[tuple[str, str, list[Line]]]]:
    """Where the 附件 begin, and for each one its start line, its title (when the start line carries
    one) and its lines.

    "附件" or "附件2" alone on a line starts one. "附件：标题" is usually a reference to an attachment
    printed later, but followed directly by a table it is the attachment itself (common in .docx files).
    """
    starts: list[tuple[int, str]] = []
    for i, ln in enumerate(body):
        if _ATTACH_START_RE.match(ln.text):
            starts.append((i, ""))
        elif _ATTACH_REF_RE.match(ln.text):
            nxt = next((x.text for x in body[i + 1 :] if x.text.strip()), "")
            if _is_table_line(nxt):
                starts.append((i, re.split(r"[：:]", ln.text, maxsplit=1)[1].strip()))
    out = []
    for k, (at, title) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(body)
        out.append((body[at].text, title, body[at + 1 : end]))
    return (starts[0][0] if starts else len(body)), out


def _attachment_refs(main: list[Line]) -> tuple[list[Line], list[Line]]:
    """(lines without the list of attachments, the list): "附件：1.申请表" and the items under it."""
    kept: list[Line] = []
    refs: list[Line] = []
    in_list = False
    for ln in main:
        t = ln.text.strip()
        if _ATTACH_REF_RE.match(ln.text):
            refs.append(ln)
            in_list = True
            continue
        if in_list and t and _ATTACH_ITEM_RE.match(t) and len(t) <= 80 and not t.endswith("。"):
            refs.append(ln)
            continue
        if t:
            in_list = False
        kept.append(ln)
    return kept, refs


def parse_text(text: str) -> ParsedText:
    consumed: list[tuple[str, str]] = []
    lines = _lines(text, consumed)
    header, body, footer = _split_regions(lines, consumed)
    title, skip = _take_title(body)
    body = body[skip:]
    attach_at, attachments = _attachments(body)
    main = body[:attach_at]
    consumed.extend(("publication note", ln.text) for ln in [*header, *main] if _PUBLIC_RE.match(ln.text))
    main = [ln for ln in main if not _PUBLIC_RE.match(ln.text)]
    main, refs = _attachment_refs(main)
    main, trailing_sig = _trailing_signature(main)
    blocks = _body_blocks(_paragraphs(_join_cell_rows(main)), consumed)
    if refs and attachments:
        consumed.extend(("attachment list", ln.text) for ln in refs)  # the attachments themselves follow
    elif refs:
        blocks.append(Block(["附件"], "\n".join(ln.text.strip() for ln in refs)))
    for k, (start, a_title, a_lines) in enumerate(attachments):
        consumed.append(("attachment", start))
        a_lines, a_refs = _attachment_refs(a_lines)  # an attachment may list the forms attached to it
        later = k + 1 < len(attachments)
        consumed.extend(("attachment list", ln.text) for ln in a_refs if later)
        blocks += _attachment_blocks(a_lines, a_title, consumed)
        if a_refs and not later:
            blocks.append(Block([f"附件 {a_title}".strip(), "附件"], "\n".join(ln.text.strip() for ln in a_refs)))
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
        consumed=consumed,
        lead_first=bool(re.search(r"列第一位[的者]?为牵头单位|排在第一位的?为牵头单位|排名第一的?为牵头单位", text)),
    )


def _sig_org_line(text: str) -> bool:
    """A signature line: one or more issuing bodies, separated by spaces."""
    parts = [p for p in re.split(r"[\s\u3000]+", text.strip()) if p]
    return bool(parts) and len(text.strip()) <= 80 and all(
        len(p) <= 30 and _ORG_END_RE.search(p) and not heading_level(p) for p in parts
    )


def _trailing_signature(main: list[Line]) -> tuple[list[Line], list[Line]]:
    """A file without a 印发通知 header often ends with its issuer and date: they are the 落款, not policy text."""
    idx = [i for i, ln in enumerate(main) if ln.text.strip()]
    if len(idx) < 3 or not _DATE_LINE_RE.match(main[idx[-1]].text):
        return main, []
    k = len(idx) - 1
    while k - 1 >= 1 and _sig_org_line(main[idx[k - 1]].text):
        k -= 1
    if k < len(idx) - 1:
        return main[: idx[k]], [main[j] for j in idx[k:]]
    return main[: idx[-1]], [main[idx[-1]]]


def _header_blocks(header: list[Line]) -> list[Block]:
    """The 印发通知 as one clause and the 落款 (issuers, date) as another, for metadata questions."""
    lines = [ln for ln in header if ln.text.strip() and not _PUBLIC_RE.match(ln.text)]
    if not lines:
        return []
    sig: list[Line] = []
    if _DATE_LINE_RE.match(lines[-1].text):
        sig = [lines.pop()]
        while not sig[0].boundary and lines and _sig_org_line(lines[-1].text):
            sig.insert(0, lines.pop())
    out = []
    if lines:
        out.append(Block(["印发通知"], "\n".join(ln.text.strip() for ln in lines)))
    if sig:
        out.append(Block(["落款"], " ".join(ln.text.strip() for ln in sig)))
    return out
