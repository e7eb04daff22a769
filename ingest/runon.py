"""Text published without line breaks: find the lines again.

Portals often publish a document as one paragraph: the header, the title, the headings and their
text run on. The structure parser reads lines, so the run-on text is broken where a line must have
ended: before a heading marker that follows a sentence end, between a section's name and its first
item, after the name of a section or a 专栏 box when body text follows it at once, around the
signature, the date and the publication note of the header, after the title, and before the
attachments and the 抄送 footer. Paragraphs under one heading stay one paragraph: nothing tells
them apart any more.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re

_CN_NUM = "一二三四五六七八九十百零〇两"
# Markers of headings, shallowest first (第X章/节/条, 一、, （一）, 1．, （1）) and of 专栏 boxes.
_MARKERS: list[tuple[int, str]] = [
    (0, rf"第\s*[{_CN_NUM}0-9０-９]+\s*[章节]"),
    (1, rf"第\s*[{_CN_NUM}0-9０-９]+\s*条(?![件款])"),
    (2, rf"[{_CN_NUM}]+\s*、"),
    (3, rf"[（(]\s*[{_CN_NUM}]+\s*[）)]"),
    (4, r"[0-9０-９]{1,2}\s*[．.、](?![0-9０-９])"),
    (5, r"[（(]\s*[0-9０-９]{1,2}\s*[）)]"),
]
_BOX = r"专栏\s*[0-9０-９]+"
_ANY_MARKER = "|".join(f"(?:{m})" for _, m in _MARKERS) + f"|(?:{_BOX})"
_MARKER_AT = [(level, re.compile(rf"^\s*(?:{m})")) for level, m in _MARKERS]
_BOX_AT = re.compile(rf"^\s*{_BOX}\s*")
_END = "。；;！？?!"
# Where a new line starts inside run-on text.
_BREAK = re.compile(
    rf"(?<=[{_END}：:）)〕】])\s*(?=(?:{_ANY_MARKER})|附\s*件\s*[0-9０-９]*\s*[：:]|[（(]\s*此件)|(?=抄\s*送\s*[：:])"
    r"|[\u3000]{2,}|\s{3,}"
)
# "…。（牵头单位：…）本方案…": a bracket of units closes the measure before it
_UNITS = re.compile(
    r"[（(〔【]\s*(?:牵头|责任|配合)(?:单位|部门)\s*[：:][^（）()〔〕【】]{1,200}[）)〕】](?![，,。；;、])"
)
_PUBLIC = re.compile(r"[（(]\s*此件(?:公开发布|不公开|依申请公开)\s*[）)]")
_DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日(?!\s*印发)")
_DOC_NO = re.compile(r"[\u4e00-\u9fa5]{1,14}\s*[〔\[［【(（]\s*(?:19|20)\d{2}\s*[〕\]］】)）]\s*\d{1,4}\s*号")
_ORG_END = re.compile(r"(政府|办公室|办公厅|委员会|局|委|部|厅|中心|管委会|院|会|处|办)$")
# What a document calls itself at the end of its title, and what may follow: the period, the draft mark.
_DOC_TYPE = re.compile(
    r"(?:方案|计划|规划|意见|办法|通知|细则|措施|决定|规定|纲要|指南|清单|要点|指引|公告|通告|条例|政策)"
    r"(?:\s*[（(][^（）()]{1,20}[）)])*"
)
_DRAFT_MARK = re.compile(r"\s*[（(]\s*(?:征求意见稿|草案|送审稿|试行|暂行)\s*[）)]\s*$")
# Words that close the name of a 专栏 box ("专栏3 新型显示产业重点工程"): its items follow at once.
_BOX_NAME_END = re.compile(r"工程|项目|行动|任务|目标|指标|清单|格局|布局|举措|措施|专项|名录|计划")
_NAME_MAX = 40
_BODY_WORD_FLAGS = ("v", "p", "d", "c")  # a verb, preposition, adverb or conjunction opens a sentence

RUN_ON_CHARS = 300  # a line this long with headings inside it is text published without line breaks


def marker_level(text: str) -> int | None:
    for level, rx in _MARKER_AT:
        if rx.match(text):
            return level
    return None


def _marker_end(text: str) -> int:
    for _, rx in _MARKER_AT:
        m = rx.match(text)
        if m:
            return m.end()
    m = _BOX_AT.match(text)
    return m.end() if m else 0


@functools.cache
def _posseg():  # jieba's tagger loads a dictionary of its own: only run-on text needs it
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg


def _split_at(text: str, spans: list[int]) -> list[str]:
    cuts = sorted({0, *[s for s in spans if 0 < s < len(text)], len(text)})
    return [text[a:b] for a, b in itertools.pairwise(cuts)]


def _name_and_item(piece: str) -> list[str]:
    """"三、发展产业，推进集群（一）集成电路。…": a section's name ends where a deeper item begins."""
    level = marker_level(piece)
    if level is None:
        return [piece]
    start = _marker_end(piece)
    for m in re.finditer(_ANY_MARKER, piece[start : start + _NAME_MAX + 8]):
        at = start + m.start()
        deeper = marker_level(piece[at:])
        name = piece[start:at]
        if deeper is not None and deeper > level and len(name.strip()) >= 2 and not re.search(rf"[{_END}：:]", name):
            return [piece[:at], *_name_and_item(piece[at:])]
        break
    return [piece]


def _heading_only(piece: str) -> bool:
    level = marker_level(piece)
    rest = piece[_marker_end(piece) :]
    return level is not None and 2 <= len(rest.strip()) <= _NAME_MAX and not re.search(rf"[{_END}：:]", rest)


def _name_then_text(piece: str) -> list[str]:
    """"一、重点方向聚焦…": a section name (its siblings are names alone) with body text glued to it.
    The name ends before the first verb, preposition, adverb or conjunction, or before a dash."""
    start = _marker_end(piece)
    head = re.split(rf"[{_END}，,：:“”\"（(]", piece[start:], maxsplit=1)[0]
    dash = piece.find("——", start)
    if 2 <= dash - start <= _NAME_MAX and not re.search(rf"[{_END}，,：:]", piece[start:dash]):
        return [piece[:dash], piece[dash:]]
    if re.match(rf"^[^{_END}，,：:]{{2,20}}[。：:]", piece[start:]):
        return [piece]  # "（一）指导思想。坚持…": the name is closed already
    offset = 0
    for word in _posseg().cut(head[:_NAME_MAX]):
        if offset >= 2 and word.flag.startswith(_BODY_WORD_FLAGS):
            return [piece[: start + offset], piece[start + offset :]]
        offset += len(word.word)
    return [piece]


_ATTACH_REF = re.compile(r"^附\s*件\s*[0-9０-９]*\s*[：:]")
_ATTACH = re.compile(r"(?<![见详如按与和及、])附\s*件\s*[0-9０-９]*(?!\s*[：:0-9０-９])")


def _attachment(piece: str) -> list[str]:
    """"附件：任务分解表附件任务分解表": the list of attachments, then the attachment itself with its title."""
    m = _ATTACH.search(piece, 3) if _ATTACH_REF.match(piece) else None
    if not m:
        return [piece]
    return [piece[: m.start()], m.group(0), piece[m.end() :]]


def _box_name(piece: str) -> list[str]:
    """"专栏2 产业重点工程产业补链工程。…": the box's name ends with the word that closes such names."""
    start = _marker_end(piece)
    m = _BOX_NAME_END.search(piece, start, start + _NAME_MAX)
    if m and m.end() < len(piece) and not re.search(rf"[{_END}]", piece[start : m.end()]):
        return [piece[: m.end()], piece[m.end() :]]
    return [piece]


def _header(line: str) -> tuple[list[str], str]:
    """The 印发通知 of a run-on document, up to its publication note: the signature and the date
    before the note are lines of their own, and so is the note. Returns those lines and the rest."""
    note = _PUBLIC.search(line, 0, 2000)
    if not note:
        return [], line
    before = line[: note.start()]
    date = next(reversed(list(_DATE.finditer(before))), None)
    out: list[str] = []
    if date and not before[date.end() :].strip():
        head, signature = before[: date.start()], []
        end = max(head.rfind(c) for c in _END + "：:")
        org = head[end + 1 :].strip() if end >= 0 else ""
        if org and len(org) <= 80 and all(_ORG_END.search(p) for p in org.split()):
            head, signature = head[: end + 1], [org]
        out += [*_notice(head), *signature, before[date.start() :]]
    else:
        out += _notice(before)
    return [*out, note.group(0)], line[note.end() :]


def _notice(head: str) -> list[str]:
    """"某县人民政府文件某府发〔2026〕8号关于…的通知各乡镇…：": the 发文字号 stands on a line of its own,
    after the masthead or the notice's title."""
    m = _DOC_NO.search(head, 0, 400)
    if not m:
        return [head]
    bracket = m.start() + re.search(r"[〔\[［【(（]", m.group(0)).start()
    cut = max(head.rfind("通知", m.start(), bracket), head.rfind("文件", m.start(), bracket))
    start = cut + 2 if cut >= 0 else m.start()
    return [x for x in (head[:start], head[start : m.end()], head[m.end() :]) if x.strip()]


def _title(piece: str) -> list[str]:
    """"某县数字经济发展实施方案（2023—2027年）为深入贯彻…": the title ends with what the document
    calls itself (and its period or draft mark), before the first sentence of the text."""
    first = re.split(rf"[{_END}，,：:]", piece, maxsplit=1)[0]
    unquoted = re.sub(r"《[^》]*》", lambda m: "\0" * len(m.group(0)), first)
    ends = [m.end() for m in _DOC_TYPE.finditer(unquoted) if m.start() >= 4]
    if ends and ends[-1] < len(piece) and ends[-1] <= 120:
        title = piece[: ends[-1]]
        mark = _DRAFT_MARK.search(title)
        lines = [title[: mark.start()], mark.group(0)] if mark else [title]
        return [*lines, piece[ends[-1] :]]
    spaced = re.match(r"^(\S{4,60}?)[ \t\u3000]+(?=\S)", piece)  # a title followed by a space
    if spaced and not re.search(r"[。，；,;：:]", spaced.group(1)):
        return [spaced.group(1), piece[spaced.end() :]]
    return [piece]


def split_run_on(line: str, *, first: bool = False) -> list[str]:
    """The lines of a run-on paragraph; `first` when it opens the document (header and title)."""
    if len(line) < RUN_ON_CHARS:
        return [line]
    lead: list[str] = []
    if first:
        lead, line = _header(line)
        if marker_level(line.strip()) is None:
            *title, line = _title(line.strip())
            lead += title
    breaks = [m.end() for rx in (_BREAK, _UNITS) for m in rx.finditer(line)]
    pieces = [p.strip() for p in _split_at(line, breaks) if p.strip()]
    pieces = [x for p in pieces for x in _name_and_item(p)]
    pieces = [x for p in pieces for x in _attachment(p)]
    pieces = [x for p in pieces for x in (_box_name(p) if _BOX_AT.match(p) else [p])]
    names = {marker_level(p) for p in pieces if _heading_only(p)}
    out: list[str] = []
    for p in pieces:
        level = marker_level(p)
        out += _name_then_text(p) if level is not None and level in names and not _heading_only(p) else [p]
    return [p.strip() for p in [*lead, *out] if p.strip()]
