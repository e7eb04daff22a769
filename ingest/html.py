"""A web page a user saved → the text a reader sees, its tables, and the page's metadata block.

Pages from government portals wrap one document in menus, login links, accessibility bars and
footers, and keep a metadata block beside it (索引号 / 文号 / 成文日期 / 实施日期 …, in a table or in
lines of "label：value"). This module renders what a browser would show (hidden elements dropped),
reads the metadata block and the standard <meta> tags of government sites, and keeps the main
content, chosen by trafilatura (see the README for the measurement that chose it).

Tables come out as the loaders write every format's tables: one "\\t"-prefixed line per cell and an
empty line after each row; a cell spanning rows is repeated in each row it covers, so that every row
of a task table carries its own 序号 and lead unit.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import trafilatura
from bs4 import BeautifulSoup, NavigableString
from bs4.element import PreformattedString, Tag

log = logging.getLogger(__name__)

_WS = re.compile(r"[ \t\n\r\f\xa0]+")  # a non-breaking space is a space to a reader
_DROP = ["script", "style", "head", "noscript", "template", "iframe", "object", "svg", "button", "select",
         "textarea", "input"]
# Elements that are page chrome by their very name (HTML5 sectioning): never the document.
_CHROME = ["nav", "header", "footer"]
_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "ul", "ol", "dl", "dt", "dd",
          "section", "article", "main", "aside", "blockquote", "caption", "figure", "hr", "form", "center"}
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
# Other inline styles that hide a few words from a reader: invisible, transparent, no font size, pushed
# far off the page. Portals also hide the whole <body> this way until their script has run, so these
# count only for elements holding a sentence or two, never for the page or its content block.
_INVISIBLE = re.compile(
    r"visibility\s*:\s*(hidden|collapse)|opacity\s*:\s*0(\.0*)?\s*(;|$|!)|"
    r"font-size\s*:\s*0(\.0*)?\s*(px|pt|em|rem|%)?\s*(;|$|!)|(left|top|text-indent)\s*:\s*-\d{4,}",
    re.IGNORECASE,
)
INVISIBLE_MAX_CHARS = 300

# Labels of a page's metadata block, by field. Portals write them with spaces between the characters
# ("文　　号", "发 文 字 号"), so they are matched with any whitespace in between.
META_LABELS: dict[str, tuple[str, ...]] = {
    "title": ("名称", "标题", "文件名称"),
    "doc_number": ("发文字号", "文号", "发文文号"),
    "issuer": ("发文机关", "发布机关", "发布机构", "发文单位", "制发机关", "成文单位"),
    "written_on": ("成文日期", "成文时间"),
    "published_on": ("发布日期", "发表时间", "发布时间", "公布日期", "公开日期", "发文日期"),
    "valid_from": ("实施日期", "施行日期", "生效日期"),
    "valid_until": ("失效日期", "废止日期"),
    "source": ("信息来源", "文章来源", "来源"),
    "index_no": ("索引号", "统一编号"),
    "topic": ("主题分类", "分类", "主题词"),
    "state": ("文件状态", "时效状态", "有效性"),
    # page counters and font switches share the block's lines; they are read and thrown away
    "chrome": ("浏览次数", "浏览量", "访问量", "点击数", "字体大小", "字号", "浏览字号", "字体", "分享到", "分享"),
}
# The <meta> names of the national guideline for government websites (政府网站发展指引, 2017).
_META_TAGS = {"articletitle": "title", "pubdate": "published_on", "contentsource": "source",
              "sitename": "site", "columnname": "column"}
_TAG_SHOWN_AS = {"published_on": "发布时间", "source": "来源"}


def _label_re(word: str) -> str:
    return r"\s*".join(re.escape(ch) for ch in word)


_LABEL_TO_FIELD = {label: key for key, labels in META_LABELS.items() for label in labels}
_ANY_LABEL = re.compile(
    r"(?:^|(?<=\s))(" + "|".join(_label_re(w) for w in sorted(_LABEL_TO_FIELD, key=len, reverse=True)) + r")\s*[：:]"
)


@dataclass
class Page:
    text: str  # the main content: lines, tables as cell lines
    metadata: dict[str, str] = field(default_factory=dict)  # field → value as written
    title: str | None = None  # the page's own statement of its title, site name removed
    removed: list[str] = field(default_factory=list)  # lines a reader sees that are not the document
    meta_lines: list[str] = field(default_factory=list)  # the metadata block as the page shows it


def _hidden(tag: Tag) -> bool:
    if tag.has_attr("hidden") or str(tag.get("aria-hidden", "")).lower() == "true":
        return True
    style = str(tag.get("style", ""))
    if _DISPLAY_NONE.search(style):
        return True
    return (bool(_INVISIBLE.search(style)) and tag.name not in ("html", "body")
            and len(tag.get_text(strip=True)) <= INVISIBLE_MAX_CHARS)


def visible_soup(html: str) -> BeautifulSoup:
    """The page as a reader sees it: scripts, styles, comments and hidden elements removed."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_DROP):
        if tag.name != "head":
            tag.decompose()
    for tag in soup.find_all(_hidden):
        if not tag.decomposed:
            tag.decompose()
    return soup


def render(node: Tag) -> list[str]:
    """Lines as a browser lays them out; tables a cell a line, an empty line after each row."""
    return render_owned(node)[0]


def render_owned(node: Tag) -> tuple[list[str], list[Tag]]:
    """render(), plus for each line the element it came from (its block, or its table cell)."""
    lines: list[str] = []
    owners: list[Tag] = []
    buf: list[str] = []

    def flush(owner: Tag) -> None:
        line = _WS.sub(" ", "".join(buf)).strip(" ")  # source whitespace is layout, not content
        if line:
            lines.append(line)
            owners.append(owner)
        buf.clear()

    def walk(tag: Tag) -> None:
        for child in tag.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, PreformattedString):  # comments, doctype, CDATA
                    buf.append(str(child))
            elif not isinstance(child, Tag) or child.name == "head":
                continue
            elif child.name in ("table", "pre") or child.name in _BLOCK:
                flush(tag)
                if child.name == "table":
                    rows, row_owners = _table(child)
                    lines.extend(rows)
                    owners.extend(row_owners)
                elif child.name == "pre":
                    text = child.get_text().split("\n")
                    lines.extend(text)
                    owners.extend([child] * len(text))
                else:
                    walk(child)
                    flush(child)
            else:
                walk(child)

    walk(node)
    flush(node)
    return lines, owners


def _span(cell: Tag, attr: str) -> int:
    try:
        return max(1, min(int(str(cell.get(attr, "1")).strip() or 1), 1000))
    except ValueError:
        return 1


def _table(table: Tag) -> tuple[list[str], list[Tag]]:
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    grid: list[list[tuple[str, Tag]]] = []
    carried: dict[int, tuple[int, str, Tag]] = {}  # column → (rows still covered, text, cell) of a rowspan
    for tr in rows:
        cells = tr.find_all(["td", "th"], recursive=False)
        if not cells:
            continue
        out: list[tuple[str, Tag]] = []
        col = 0
        queue = list(cells)
        while queue or any(c >= col for c in carried):
            if col in carried:
                left, text, cell = carried.pop(col)
                out.append((text, cell))
                if left > 1:
                    carried[col] = (left - 1, text, cell)
                col += 1
                continue
            if not queue:
                col += 1
                continue
            cell = queue.pop(0)
            text = "\n".join(render(cell))
            out.append((text, cell))
            down = _span(cell, "rowspan")
            if down > 1:
                carried[col] = (down - 1, text, cell)
            col += _span(cell, "colspan")
        grid.append(out)
    lines: list[str] = []
    owners: list[Tag] = []
    if len(grid) > 1 and len(grid[0]) == 1 and max(len(r) for r in grid) > 1:
        # a first row of one cell across the whole table is its caption ("附件1 任务分工表")
        text, cell = grid.pop(0)[0]
        caption = [x for x in text.split("\n") if x.strip()]
        lines.extend(caption)
        owners.extend([cell] * len(caption))
    for row in grid:
        for text, cell in row:
            lines.append("\t" + text)
            owners.append(cell)
        lines.append("")
        owners.append(row[-1][1] if row else table)
    return lines, owners


def meta_tags(soup: BeautifulSoup) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in soup.find_all("meta"):
        key = _META_TAGS.get(str(m.get("name", "")).lower())
        value = _WS.sub(" ", str(m.get("content", ""))).strip()
        if key and value and key not in out:
            out[key] = value
    t = soup.find("title")
    if t is not None and t.get_text(strip=True):
        out["html_title"] = _WS.sub(" ", t.get_text()).strip()
    return out


def label_pairs(line: str) -> list[tuple[str, str, str]] | None:
    """"文　　号： 某〔2019〕6号 实施日期：…" → [(doc_number, "文　　号", "某〔2019〕6号"), (valid_from, …)],
    when the line is made of such pairs only (None when anything else stands on it)."""
    found = list(_ANY_LABEL.finditer(line))
    if not found or line[: found[0].start()].strip():
        return None
    pairs = []
    for i, m in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(line)
        label = re.sub(r"\s+", "", m.group(1))
        pairs.append((_LABEL_TO_FIELD[label], m.group(1), line[m.end() : end].strip()))
    return pairs


def metadata_lines(lines: list[str]) -> tuple[dict[str, str], set[int], list[str]]:
    """Label–value pairs of the metadata block, which lines they occupy, and those lines as shown
    (a table row's cells joined by spaces; lines of page counters only left out).

    A line counts when it holds nothing but pairs; a table row counts when its cells alternate
    label and value ("索引号：" | "0000…/2024-00001" | "分类：" | …)."""
    meta: dict[str, str] = {}
    used: set[int] = set()
    shown: list[str] = []

    def keep(pairs: list[tuple[str, str, str]]) -> bool:
        stated = []
        for key, label, value in pairs:
            value = value.strip(" \u3000-—")
            if value and key != "chrome":
                stated.append(f"{label}：{value}")
                meta.setdefault(key, value)
        if stated and _WS.sub(" ", " ".join(stated)) not in shown:
            shown.append(_WS.sub(" ", " ".join(stated)))
        return bool(stated)

    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("\t"):  # a table row: cells up to the empty line
            j = i
            while j < len(lines) and lines[j].startswith("\t"):
                j += 1
            cells = [c[1:].strip() for c in lines[i:j]]
            pairs = label_pairs(" ".join(c for c in cells if c))
            if pairs and len(pairs) * 2 >= len([c for c in cells if c]) and keep(pairs):
                used.update(range(i, min(j + 1, len(lines))))
            i = j + 1
            continue
        pairs = label_pairs(line)
        if pairs and keep(pairs):  # a line of counters only ("浏览次数：-") stays where it is
            used.add(i)
        i += 1
    return meta, used, shown


# Lines at the top of the main content that may still be the page's metadata block ("发布日期：…").
HEAD_LINES = 10
# Lines shorter than this are matched to the extract only whole (menu items are 2–6 characters).
MIN_SUBSTRING_MATCH = 8


def _squash(text: str) -> str:
    return re.sub(r"[\s|]", "", text)


# The main content is the smallest element that holds this share of the extract's text: the rest is
# what an extractor takes in by mistake (a list of departments under the footer, a search box above).
MAIN_SHARE = 0.9


def main_lines(html: str, lines: list[str], owners: list[Tag]) -> list[int] | None:
    """Which lines are the main content, as trafilatura judges it; None when it finds none.

    trafilatura decides which blocks are the document, but its text loses row spans, cell boundaries,
    and blocks it finds too link-like or too short (a list of attachments, a small table). So it only
    points: the main content is the element that holds nearly all of what it kept, rendered whole by
    us (a line it left out inside that element is kept: dropping text a reader sees needs more than
    an extractor's doubt)."""
    extracted = trafilatura.extract(
        html, include_tables=True, include_comments=False, include_links=False, include_images=False,
        deduplicate=False,
    )
    if not extracted:
        return None
    kept = _squash(extracted)
    kept_lines = {_squash(x) for x in extracted.split("\n")}
    # a short line ("互动", "首页") counts only as a whole line of the extract: as a substring it is
    # found in any long text
    weight = [len(s) if s and (s in kept_lines or (len(s) >= MIN_SUBSTRING_MATCH and s in kept)) else 0
              for s in map(_squash, lines)]
    total = sum(weight)
    if not total:
        return None
    held: dict[int, int] = {}
    depth: dict[int, int] = {}
    by_id: dict[int, Tag] = {}
    for w, owner in zip(weight, owners, strict=True):
        if not w:
            continue
        chain = [owner, *owner.parents]
        for d, el in enumerate(reversed(chain)):
            held[id(el)] = held.get(id(el), 0) + w
            depth[id(el)] = d
            by_id[id(el)] = el
    main = by_id[max((k for k, v in held.items() if v >= MAIN_SHARE * total), key=lambda k: depth[k])]
    return [i for i, o in enumerate(owners) if o is main or main in o.parents]


def title_of(meta: dict[str, str], lines: list[str]) -> str | None:
    """The page's title: its metadata block's 名称, the ArticleTitle <meta>, or <title> without the
    site's name — the last only when the page shows it as a line of its own (a bare <title> is often
    just the site's name)."""
    shown = {_squash(x) for x in lines}
    for key in ("title", "meta_title", "html_title"):
        value = meta.get(key)
        if not value:
            continue
        if key == "html_title":
            site = meta.get("site", "")
            parts = [p.strip() for p in re.split(r"\s+[-_|｜—]+\s+|[-_|｜]", value) if p.strip()]
            parts = [p for p in parts if p != site and not re.search(r"(网站|门户|政府网|首页)$", p)]
            value = parts[0] if parts else ""
            if _squash(value) not in shown:
                continue
        value = re.sub(r"^【[^】]{1,6}】", "", value).strip()  # a column tag such as 【置顶】 is no title
        if value:
            return value
    return None


def read_page(html: str) -> Page:
    soup = visible_soup(html)
    tags = meta_tags(soup)
    chrome: list[str] = []
    for tag in soup.find_all(_CHROME):
        if not tag.decomposed:
            chrome.extend(x for x in render(tag) if x.strip())
            tag.decompose()
    body = soup.body or soup
    lines, owners = render_owned(body)
    chosen = main_lines(str(soup), lines, owners)
    main = set(range(len(lines)) if chosen is None else chosen)
    # The metadata block stands around the document or at its head, never inside its text: a form in
    # an attachment ("名称：") is not the page's metadata.
    head = sorted(main)[:HEAD_LINES]
    meta, meta_at, shown = metadata_lines([x if i not in main or i in head else "" for i, x in enumerate(lines)])
    for key, value in tags.items():
        if key in _TAG_SHOWN_AS and key not in meta:
            # the visible block left it to an icon ("🕒 2026-08-03"): the tag states it, marked as such, so
            # an answer about the page's date or source has a line of the document to cite
            shown.append(f"{_TAG_SHOWN_AS[key]}（网页元数据）：{value}")
        meta.setdefault("meta_title" if key == "title" else key, value)
    text_lines, removed = [], chrome
    for i, line in enumerate(lines):
        if i in meta_at:
            continue
        if i in main:
            text_lines.append(line)
        elif line.strip():
            removed.append(line)
    log.debug("page: %d lines, %d main, %d metadata lines", len(lines), len(main), len(meta_at))
    return Page(text="\n".join(text_lines), metadata=meta, title=title_of(meta, lines), removed=removed,
                meta_lines=shown)
