"""Document metadata from every place it lives: the heading lines, the 发文字号 line, a web page's
metadata block and <meta> tags, the signature and date at the end, and sentences of the text itself
(自…起施行，有效期N年 / 有效期至… / 实施期限…至…).

Region knowledge comes from core.regions (the gazetteer); names of departments from
ingest/data/agency_names.tsv. Nothing here knows any particular place.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

from core.regions import Gazetteer, Region
from core.text import DOC_NUMBER
from ingest.structure import ParsedText

_DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ISO_RE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_PERIOD_RE = re.compile(r"(20\d{2}|19\d{2})\s*[—\-－–~～至到]+\s*(20\d{2}|19\d{2})\s*年?")
DRAFT_RE = re.compile(r"征求意见稿|送审稿|草案")
_ISSUER_END_RE = re.compile(r"(人民政府办公室|人民政府办公厅|人民政府|委员会|办公室|办公厅|局|委)$")
_ORG_RE = re.compile(r"(政府|办公室|办公厅|委员会|局|委|部|厅|中心|管委会|院|会|处|办|室|科|所|站|队)$")
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

# What a document calls itself when it states its own validity: "本办法自…起施行".
_SELF = (r"本[\u4e00-\u9fa5]{0,8}?(?:办法|方案|通知|措施|规定|细则|意见|政策|计划|规划|文件|公告|指引|清单|条例|决定"
         r"|规则|标准|目录)")
_WHEN = r"(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|印发之日|发布之日|公布之日|下发之日)"
_START_RE = re.compile(_SELF + r"[^。；]{0,20}?自\s*(" + _WHEN + r")\s*起\s*(?:施行|实施|执行|生效)")
_YEARS_RE = re.compile(r"有效期(?:为|限为)?\s*([0-9]+|[一二两三四五六七八九十]+)\s*年")
_UNTIL_RE = re.compile(
    r"(?:有效期|实施期限|施行期限|执行期限|有效期限)[^。]{0,30}?至\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
)


@dataclass(frozen=True)
class Validity:
    valid_from: str | None = None  # ISO date
    valid_until: str | None = None  # ISO date, the last day in force
    text: str | None = None  # the words it rests on, as written


def _iso(y: str | int, m: str | int, d: str | int) -> str | None:
    try:
        return dt.date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return None


def date_of(text: str | None) -> str | None:
    """"2019年10月16日", "2023-08-09 23:04:15", "2023/8/9" → ISO date."""
    if not text:
        return None
    t = unicodedata.normalize("NFKC", text)
    m = _DATE_RE.search(t) or _ISO_RE.search(t)
    return _iso(*m.groups()) if m else None


def _plus_years(start: dt.date, years: int) -> dt.date:
    """The last day of a term of `years` years that starts on `start` (有效期2年 from 2025-03-01 → 2027-02-28)."""
    year = start.year + years
    day = min(start.day, calendar.monthrange(year, start.month)[1])
    return dt.date(year, start.month, day) - dt.timedelta(days=1)


def _number(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if len(s) == 2 and s[0] == "十":
        return 10 + _CN_DIGITS.get(s[1], 0)
    if len(s) == 2 and s[1] == "十":
        return _CN_DIGITS.get(s[0], 0) * 10
    return _CN_DIGITS.get(s)


def _sentence(text: str, at: int) -> str:
    # a bracket of units closing the measure before it ("…〕本方案自…") ends a sentence too
    start = max(text.rfind(c, 0, at) for c in "。；\n〕】") + 1
    ends = [i for i in (text.find(c, at) for c in "。\n") if i >= 0]
    end = min(ends) + 1 if ends else len(text)
    return text[start:end].strip()


# ---- 文号, dates -------------------------------------------------------------------------------
def find_doc_number(header: list[str], meta: dict[str, str] | None = None) -> str | None:
    """The 文号 of the metadata block, or of a header line (a cited document's 文号 in the text never)."""
    for value in ((meta or {}).get("doc_number"),):
        if value:
            m = DOC_NUMBER.search(value)
            if m:
                return re.sub(r"\s+", "", m.group(0))
    for line in header:
        m = DOC_NUMBER.search(line)
        if m:
            return re.sub(r"\s+", "", m.group(0))
    return None


def find_issued_on(header: list[str], footer: list[str], meta: dict[str, str] | None = None) -> str | None:
    """The signature's date, else the 成文日期 of the metadata block, else the footer's 印发 date, else
    the date the page was published."""
    meta = meta or {}
    for line in reversed(header):
        m = _DATE_RE.fullmatch(line.strip())
        if m:
            return _iso(*m.groups())
    if date_of(meta.get("written_on")):
        return date_of(meta.get("written_on"))
    for line in footer:
        m = re.search(_DATE_RE.pattern + r"\s*印发", line)
        if m:
            return _iso(*m.groups())
    return date_of(meta.get("published_on"))


def find_period(title: str, text: str) -> tuple[str | None, int | None, int | None]:
    period, start, end, _ = find_period_where(title, text)
    return period, start, end


def find_period_where(title: str, text: str) -> tuple[str | None, int | None, int | None, str | None]:
    """(period, first year, last year, the words that state it: the title or a sentence of the text)."""
    m = _PERIOD_RE.search(unicodedata.normalize("NFKC", title))
    words = title
    if not m:
        t = unicodedata.normalize("NFKC", text)
        m = re.search(r"(?:规划期|实施期|期限)为\s*" + _PERIOD_RE.pattern, t)
        words = _as_written(text, _sentence(t, m.start())) if m else None
    if not m:
        return None, None, None, None
    a, b = int(m.group(1)), int(m.group(2))
    return f"{a}—{b}", a, b, words


def find_validity(text: str, *, meta: dict[str, str] | None = None, issued_on: str | None = None) -> Validity:
    """When the document is in force: the metadata block's 实施日期 / 失效日期 first, then what the text
    says of itself ("本规定自2025年3月1日起施行，有效期2年", "有效期至2028年6月30日",
    "实施期限自印发之日起至2027年12月31日止")."""
    meta = meta or {}
    start, end = date_of(meta.get("valid_from")), date_of(meta.get("valid_until"))
    if start or end:
        words = [f"{label}：{meta[key]}" for key, label in (("valid_from", "实施日期"), ("valid_until", "失效日期"))
                 if meta.get(key)]
        return Validity(start, end, "；".join(words))
    t = unicodedata.normalize("NFKC", text)
    found = _START_RE.search(t)
    if found:
        when = found.group(1)
        start = date_of(when) or (issued_on if "之日" in when else None)
        sentence = _sentence(t, found.start())
        years = _YEARS_RE.search(sentence)
        until = _UNTIL_RE.search(sentence)
        if until:
            end = _iso(*until.groups())
        elif years and start and (n := _number(years.group(1))):
            end = _plus_years(dt.date.fromisoformat(start), n).isoformat()
        return Validity(start, end, _as_written(text, sentence))
    until = _UNTIL_RE.search(t)
    if until:
        return Validity(None, _iso(*until.groups()), _as_written(text, _sentence(t, until.start())))
    return Validity()


def _as_written(text: str, normalized: str) -> str:
    """The sentence as the source writes it (full-width digits and all), found from its NFKC form."""
    squashed = re.sub(r"\s+", "", normalized)
    def holds(piece: str) -> bool:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", piece)).find(squashed) >= 0

    for sentence in re.split(r"(?<=[。；\n])", text):
        if holds(sentence):
            # the sentence may follow a bracket of units with no full stop between them
            cuts = [m.end() for m in re.finditer(r"[〕】]", sentence) if holds(sentence[m.end() :])]
            return sentence[cuts[-1] if cuts else 0 :].strip()
    return normalized


# ---- issuers -----------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _agency_names() -> list[tuple[str, str]]:
    text = resources.files("ingest").joinpath("data/agency_names.tsv").read_text("utf-8")
    pairs = [tuple(line.split("\t")[:2]) for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return sorted(pairs, key=lambda p: len(p[0]), reverse=True)  # type: ignore[return-value]


def full_agency_name(name: str) -> str:
    """"某市人力资源社会保障局" → "某市人力资源和社会保障局": the name the department signs with."""
    for short, full in _agency_names():
        if name.endswith(short) and not name.endswith(full):
            return name[: -len(short)] + full
    return name


def signature_issuers(parsed: ParsedText) -> list[str]:
    """The bodies named in the 落款 (the signature above the date), in the order they sign."""
    sig = next((b.text for b in parsed.blocks if b.path == ["落款"]), "")
    names = [p for p in re.split(r"[\s\u3000]+", _DATE_RE.sub(" ", sig)) if p]
    return [n for n in names if _ORG_RE.search(n) and len(n) <= 30]


def header_issuer(header: list[str]) -> str | None:
    """A header that opens with its issuer: "XX人民政府文件", "XX办公室", "XX人民政府关于…"."""
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


_SOURCE_TAIL = re.compile(r"(官方网站|门户网站|政府网站|官网|网站|网|微信公众号|公众号)$")
_RELATIVE = {"省": ("province",), "市": ("city", "province"), "区": ("district",), "县": ("district",)}


def _site_relative(name: str, site: Region | None, g: Gazetteer) -> str:
    """"市人社局" on a district's portal → the city's bureau: "某某市人社局"."""
    head = name[:1]
    if site is None or head not in _RELATIVE or g.mentions(name):
        return name
    for r in [site, *g.ancestors(site)]:
        if r.level in _RELATIVE[head] and r.name.endswith(head):
            # a municipality's districts are named under it (display "某某市某某区"), not on their own
            return r.display + name[1:]
    return name


def source_issuers(source: str | None, site: Region | None, g: Gazetteer) -> list[str]:
    """A page's "信息来源" as issuers: "市人社局 市就业服务中心" → two bodies; a division written after
    its department ("市人社局 人才服务处") stays with it."""
    if not source:
        return []
    out: list[str] = []
    for part in re.split(r"[\s\u3000、，,；;]+", source.strip()):
        name = _SOURCE_TAIL.sub("", part)
        if not name or name in ("本网", "本站") or not _ORG_RE.search(name):
            continue
        if out and name[:1] not in _RELATIVE and not g.mentions(name):
            out[-1] = f"{out[-1]} {name}"  # an internal division of the body before it
            continue
        out.append(full_agency_name(_site_relative(name, site, g)))
    return out


def find_issuers(parsed: ParsedText, meta: dict[str, str], site: Region | None, g: Gazetteer) -> list[str]:
    """Signature first (it names every co-issuer), then the header, the metadata block's 发文机关, and
    last the page's 信息来源 (often a short form, resolved against the site's region)."""
    signed = signature_issuers(parsed)
    if signed:
        return signed
    head = header_issuer(parsed.header)
    if head:
        return [head]
    if meta.get("issuer"):
        return [p for p in re.split(r"[\s\u3000、，,；;]+", meta["issuer"]) if p]
    return source_issuers(meta.get("source"), site, g)


# ---- region ------------------------------------------------------------------------------------
def find_region(
    g: Gazetteer, *, issuers: list[str], title: str, doc_number: str | None, site: Region | None, context: str
) -> Region | None:
    """The issuers' region; else the 文号's; else the title's; else, for a page, its portal's."""
    region = g.region_of_issuer("、".join(issuers), context=context) if issuers else None
    region = region or g.region_of_doc_number(doc_number)
    region = region or g.region_of_issuer(title, context=context)
    return region or site


def site_region(meta: dict[str, str], g: Gazetteer) -> Region | None:
    """The region of the portal a page was saved from ("某某市某某区人民政府门户网站")."""
    return g.region_of_issuer(meta["site"]) if meta.get("site") else None


# ---- title -------------------------------------------------------------------------------------
def title_from(parsed: ParsedText, page_title: str | None = None) -> tuple[str, bool]:
    """(readable title, is draft). A page's own statement of its title wins; lines broken by layout
    are re-joined."""
    lines = list(parsed.title_lines)
    draft = any(DRAFT_RE.search(x) for x in [*lines, page_title or ""])
    kept = [x for x in lines if not re.fullmatch(r"[（(]\s*(征求意见稿|草案|送审稿)\s*[）)]", x.strip())]
    title = page_title or "".join(x.strip() for x in kept)
    if not title:
        notice = "".join(parsed.header)
        m = re.search(r"关于印发《(.+?)》的通知", notice) or re.search(r"关于印发(.+?)的通知", notice)
        title = m.group(1) if m else ""
    if not draft:
        draft = bool(DRAFT_RE.search("".join(parsed.header[:3])))
    return title, draft


def space_joint_issuers(title: str, issuers: list[str]) -> str:
    """"AB关于…" → "A B关于…" when A and B are the co-issuers: how joint titles are written (GB/T 9704),
    and what a page that ran the names together meant."""
    if len(issuers) < 2:
        return title
    joined = "".join(issuers)
    if title.startswith(joined):
        return " ".join(issuers) + title[len(joined) :]
    return title


def aliases_from(title: str) -> list[str]:
    """Quoted nicknames such as “某某工程”, “十四五” that users type instead of the title."""
    out = []
    for m in re.finditer(r"[“\"]([^”\"]{2,12})[”\"]", title):
        if m.group(1) not in out:
            out.append(m.group(1))
    return out
