"""Field extraction from one clause's text: units, deadlines, amounts, years, targets, contacts."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata

from core.records import Amount, Contact, Deadline, Target

LEAD_LABELS = ("牵头单位", "牵头部门")
RESP_LABELS = ("责任单位", "责任部门", "配合单位", "配合部门")
_LABEL_RE = re.compile(r"(牵头单位|牵头部门|责任单位|责任部门|配合单位|配合部门)\s*[：:]")
_OPEN_CLOSE = {"（": "）", "(": ")", "〔": "〕", "[": "]", "【": "】"}
_UNIT_SEPS = set("、，,；;")


def _matching_close(text: str, open_at: int) -> int:
    """Index of the bracket closing the one at open_at (nesting aware), or -1."""
    depth = 0
    for i in range(open_at, len(text)):
        ch = text[i]
        if ch in _OPEN_CLOSE:
            depth += 1
        elif ch in _OPEN_CLOSE.values():
            depth -= 1
            if depth == 0:
                return i
    return -1


def split_units(cell: str) -> list[str]:
    """'县甲局、县乙委，某某集团' → names. Nested '各乡镇（街道）' stays whole."""
    cell = re.sub(r"\s+", "", cell).strip("。；;，,")
    parts: list[str] = []
    buf = ""
    depth = 0
    for ch in cell:
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth -= 1
        if depth == 0 and ch in _UNIT_SEPS:
            parts.append(buf)
            buf = ""
            continue
        buf += ch
    parts.append(buf)
    out: list[str] = []
    for p in parts:
        # "区大数据发展局等区级有关部门" → two entries
        for q in re.split(r"(?<=[局委办部室心团院校司队会府])等(?=[\u4e00-\u9fa5])", p):
            q = q.strip()
            if q and q not in out and not _NO_UNIT.fullmatch(q):
                out.append(q)
    return out


# what a table writes in a cell that names no unit
_NO_UNIT = re.compile(r"[/／\-－—–无暂无、]+|无|暂无")
# "（县甲局、县乙局负责。列第一位者为牵头单位，下同）": units that carry out the measure
_DUTY_RE = re.compile(
    r"[（(〔【]\s*(?:由)?(?P<units>[^（）()〔〕【】：:。]{2,200}?(?:[（(][^（）()]*[）)][^（）()：:。]*?)*)"
    r"(?:共同|分别|按职责|按职能)?负责(?:[。，,；;][^（）()〔〕【】]{0,40})?[）)〕】]\s*$"
)


def units_of(text: str, *, lead_first: bool = False) -> tuple[list[str], list[str]]:
    """(lead units, responsible units) a clause states: a labelled block "（牵头单位：…；责任单位：…）",
    or a closing "（A、B负责）". The latter names no lead unit unless the document has said that the
    first unit listed leads ("列第一位者为牵头单位"), as many plans do once for all their measures."""
    lead, resp, span = extract_unit_block(text)
    if span is not None:
        return lead, resp
    m = _DUTY_RE.search(text.rstrip())
    if not m:
        return [], []
    units = split_units(m.group("units"))
    if lead_first and units:
        return units[:1], units[1:]
    return [], units


def extract_unit_block(text: str) -> tuple[list[str], list[str], tuple[int, int] | None]:
    """Find '（牵头单位：…；责任单位：…）' and return (lead, responsible, span of the block)."""
    m = _LABEL_RE.search(text)
    if not m:
        return [], [], None
    open_at = max(text.rfind(o, 0, m.start()) for o in _OPEN_CLOSE)
    span_end = len(text)
    if open_at >= 0 and m.start() - open_at <= 2:
        close = _matching_close(text, open_at)
        if close > 0:
            span_end = close
    else:
        open_at = m.start()
    inner = text[open_at:span_end].lstrip("（(〔[【")
    lead: list[str] = []
    resp: list[str] = []
    pieces = list(_LABEL_RE.finditer(inner))
    for i, pm in enumerate(pieces):
        end = pieces[i + 1].start() if i + 1 < len(pieces) else len(inner)
        units = split_units(inner[pm.end():end])
        (lead if pm.group(1) in LEAD_LABELS else resp).extend(u for u in units if u)
    return lead, resp, (open_at, span_end + 1)


def _nfkc_offsets(text: str) -> tuple[str, list[int]]:
    """NFKC form for matching ("２０２５" → "2025", "，" → ","), plus where each of its characters
    came from, so that matches are reported as written in the source."""
    parts: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        n = unicodedata.normalize("NFKC", ch)
        parts.append(n)
        offsets.extend([i] * len(n))
    offsets.append(len(text))
    return "".join(parts), offsets


def _as_written(text: str, offsets: list[int], start: int, end: int) -> str:
    return text[offsets[start] : offsets[end]].strip()


_DATE_RE = re.compile(
    r"(每年)?(?:(\d{4})\s*年)?\s*(?:(\d{1,2})\s*月)?\s*(?:(\d{1,2})\s*日|(底|末|前|中旬|上旬|下旬))?"
)


def parse_deadline(raw: str, *, today: dt.date | None = None) -> Deadline | None:
    """'2023年12月底' → 2023-12-31; '每年12月底' → recurring; other text kept as text."""
    text = re.sub(r"\s+", "", raw)
    if not text:
        return None
    t = unicodedata.normalize("NFKC", text)
    m = re.search(r"(每年)?(\d{4})?年?(\d{1,2})月(底|末|\d{1,2}日)?", t)
    recurring = t.startswith("每年")
    year_only = re.fullmatch(r"(\d{4})年(底|末)?(前)?", t)
    today = today or dt.date.today()
    if year_only:
        return Deadline(text=text, date=f"{int(year_only.group(1)):04d}-12-31")
    if m and (m.group(2) or recurring):
        year = int(m.group(2)) if m.group(2) else today.year
        month = int(m.group(3))
        if not 1 <= month <= 12:
            return Deadline(text=text)
        day_part = m.group(4) or "底"
        if day_part.endswith("日"):
            day = min(int(day_part[:-1]), calendar.monthrange(year, month)[1])
        else:
            day = calendar.monthrange(year, month)[1]
        return Deadline(text=text, date=dt.date(year, month, day).isoformat(), recurring=recurring)
    return Deadline(text=text)


_DEADLINE_LABEL = re.compile(r"完成时限\s*[：:]\s*([^；;）)〕，,。]+)")

_AMOUNT_RE = re.compile(
    # a cap word may stand before the verb: "最高给予50万元", "最高奖励20万元" are caps too
    r"((?:单个项目)?(?:最高不超过|不超过|最高)(?:给予|奖励|补助|补贴|资助)?|不低于|超过|达到|给予|奖励)?\s*"
    r"(\d+(?:\.\d+)?)\s*(亿元|万元|元)"
)
_CAP_WORDS = ("不超过", "最高")


def extract_amounts(text: str) -> list[Amount]:
    t, offsets = _nfkc_offsets(text)
    out: list[Amount] = []
    for m in _AMOUNT_RE.finditer(t):
        qualifier = m.group(1) or ""
        # "不超过30万元" is a cap; in a list "2万元、5万元、10万元" each item is its own sum
        out.append(
            Amount(
                text=_as_written(text, offsets, m.start(), m.end()),
                value=float(m.group(2)),
                unit=m.group(3),
                is_cap=any(w in qualifier for w in _CAP_WORDS),
            )
        )
    return out


def extract_years(text: str) -> list[int]:
    t = unicodedata.normalize("NFKC", text)
    years: list[int] = []
    for m in re.finditer(r"(?<!\d)(20\d{2}|19\d{2})(?=\s*(?:年|—|-|－|–))", t):
        y = int(m.group(1))
        if y not in years:
            years.append(y)
    return years


_QTY = (
    r"\d+(?:\.\d+)?\s*(?:%|个百分点|万元|亿元|元|万人|千人|人|家|户|个|件|所|座|台|万台|万户|千米|公里"
    r"|平方公里|万平方米|平方米|万亩|亩|次|项|场|部|名|级|倍|(?:G|T)(?!\w))"  # "490G" bandwidth, not "5G基站"
)
_TARGET_RE = re.compile(r"(?:到|至|在)?\s*(20\d{2})\s*年(?:底|末)?[，,]?")


def extract_targets(text: str) -> list[Target]:
    """Sentences that tie a quantity to a year: '到2027年，建成5G基站5050个'. The sentence is kept as written."""
    out: list[Target] = []
    for sent in re.split(r"(?<=[。；;])", text):
        t = unicodedata.normalize("NFKC", sent)
        ym = _TARGET_RE.search(t)
        if not ym:
            continue
        qm = re.search(_QTY, t[ym.end():])
        if qm:
            out.append(Target(text=sent.strip(), year=int(ym.group(1)), value=qm.group(0).replace(" ", "")))
    return out


_NAME = r"[\u4e00-\u9fa5·]{2,8}"
_CONTACT_PATTERNS = {
    # further names follow a separator, but "，联系电话：" is the next label, not a name
    "联系人": rf"联系人\s*[：:]\s*({_NAME}(?:[、，,]{_NAME}(?![\u4e00-\u9fa5·]*\s*[：:]))*)",
    "联系电话": r"(?:联系电话|电话|咨询电话)\s*[：:]\s*((?:\(?\d{3,4}\)?[-－—]?)?\d{7,8}(?:[-－—]\d{1,5})?|1\d{10})",
    "地址": r"(?:联系地址|地址)\s*[：:]\s*([^；;。\n，,]{4,60})",
    "邮箱": r"(?:电子邮箱|邮箱|E-?mail)\s*[：:]\s*([\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
}


def extract_contacts(text: str) -> list[Contact]:
    t, offsets = _nfkc_offsets(text)
    out: list[Contact] = []
    for kind, pat in _CONTACT_PATTERNS.items():
        for m in re.finditer(pat, t, flags=re.IGNORECASE):
            out.append(Contact(kind=kind, value=_as_written(text, offsets, m.start(1), m.end(1))))
    return out


# "申请时间：2025年8月11日至8月22日": a window for applications ends on its last day
_WINDOW_RE = re.compile(
    r"(?:申请|受理|申报|报名|办理|征集|提交)(?:时间|期限|日期)\s*[：:为]\s*"
    r"(?P<y>\d{4})\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*(?:起\s*)?(?:至|到|—|-|～|~)\s*"
    r"(?:(?P<y2>\d{4})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
)


def body_deadline(text: str, *, today: dt.date | None = None) -> Deadline | None:
    m = _DEADLINE_LABEL.search(text)
    if m:
        return parse_deadline(m.group(1), today=today)
    t, offsets = _nfkc_offsets(text)
    w = _WINDOW_RE.search(t)
    if w:
        try:
            end = dt.date(int(w.group("y2") or w.group("y")), int(w.group("m")), int(w.group("d")))
        except ValueError:
            return None
        start = t.index(w.group("y"), w.start())
        return Deadline(text=_as_written(text, offsets, start, w.end()), date=end.isoformat())
    return None
