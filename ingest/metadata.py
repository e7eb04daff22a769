"""Document metadata from the header, title and footer: 文号, issuer, date, region, period, status."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from ingest.structure import ParsedText

_DOC_NO_RE = re.compile(r"[\u4e00-\u9fa5]{1,12}\s*[〔\[［【(（]\s*(?:19|20)\d{2}\s*[〕\]］】)）]\s*\d{1,4}\s*号")
_DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_PERIOD_RE = re.compile(r"(20\d{2}|19\d{2})\s*[—\-－–~～至到]+\s*(20\d{2}|19\d{2})\s*年?")
_VALID_UNTIL_RE = re.compile(
    r"(?:有效期|实施期限|施行期限|执行期限)[^。]{0,30}?至\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
)
_DRAFT_RE = re.compile(r"征求意见稿|送审稿|草案")
_REGION_RE = re.compile(r"^([\u4e00-\u9fa5]{1,6}?(?:自治县|新区|区|县))")
_ISSUER_END_RE = re.compile(r"(人民政府办公室|人民政府办公厅|人民政府|委员会|办公室|办公厅|局|委)$")


def _iso(y: str, m: str, d: str) -> str | None:
    try:
        return dt.date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return None


def find_doc_number(header: list[str]) -> str | None:
    for line in header:
        m = _DOC_NO_RE.search(line)
        if m:
            return re.sub(r"\s+", "", m.group(0))
    return None


def find_issuer(header: list[str], footer: list[str]) -> str | None:
    for i, line in enumerate(header):
        if _DATE_RE.fullmatch(line.strip()) and i > 0 and _ISSUER_END_RE.search(header[i - 1].strip()):
            return header[i - 1].strip()
    for line in header[:3]:
        s = re.sub(r"\s+", "", line)
        if s.endswith("文件") and len(s) <= 20:
            return s[: -len("文件")]
        if _ISSUER_END_RE.search(s) and len(s) <= 20:
            return s
        m = re.match(r"(.{2,20}?(?:人民政府办公室|人民政府办公厅|人民政府))关于", s)
        if m:
            return m.group(1)
    return None


def find_issued_on(header: list[str], footer: list[str]) -> str | None:
    for line in reversed(header):
        m = _DATE_RE.fullmatch(line.strip())
        if m:
            return _iso(*m.groups())
    for line in footer:
        m = re.search(_DATE_RE.pattern + r"\s*印发", line)
        if m:
            return _iso(*m.groups())
    return None


def find_region(issuer: str | None, title: str) -> str | None:
    for src in (issuer or "", title):
        s = unicodedata.normalize("NFKC", src).replace(" ", "")
        rest = s[3:] if s.startswith("重庆市") else s
        m = _REGION_RE.match(rest)
        if m and not m.group(1).startswith(("关于", "进一步", "深入")):
            return m.group(1)
        if s.startswith("重庆市") or s.startswith("重庆"):
            return "重庆市"
    return None


def find_period(title: str, text: str) -> tuple[str | None, int | None, int | None]:
    t = unicodedata.normalize("NFKC", title)
    m = _PERIOD_RE.search(t)
    if not m:
        m = re.search(r"(?:规划期|实施期|期限)为\s*" + _PERIOD_RE.pattern, unicodedata.normalize("NFKC", text))
    if not m:
        return None, None, None
    a, b = int(m.group(1)), int(m.group(2))
    return f"{a}—{b}", a, b


def find_valid_until(text: str) -> str | None:
    m = _VALID_UNTIL_RE.search(unicodedata.normalize("NFKC", text))
    return _iso(*m.groups()) if m else None



def title_from(parsed: ParsedText) -> tuple[str, bool]:
    """(readable title, is draft). Lines broken by layout are re-joined."""
    lines = list(parsed.title_lines)
    draft = any(_DRAFT_RE.search(x) for x in lines)
    kept = [x for x in lines if not re.fullmatch(r"[（(]\s*(征求意见稿|草案|送审稿)\s*[）)]", x.strip())]
    title = "".join(x.strip() for x in kept)
    if not title:
        notice = "".join(parsed.header)
        m = re.search(r"关于印发《(.+?)》的通知", notice) or re.search(r"关于印发(.+?)的通知", notice)
        title = m.group(1) if m else ""
    if not draft:
        draft = bool(_DRAFT_RE.search("".join(parsed.header[:3])))
    return title, draft


def aliases_from(title: str) -> list[str]:
    """Quoted nicknames such as “四网一数”, “满天星”, “十四五” that users type instead of the title."""
    out = []
    for m in re.finditer(r"[“\"]([^”\"]{2,12})[”\"]", title):
        if m.group(1) not in out:
            out.append(m.group(1))
    return out
