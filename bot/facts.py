"""The meaning-bearing tokens of a piece of text: figures with their units, dates, 文号, unit names and
negations. A generated answer may state only tokens that a clause it cites states too; comparing these
tokens (not substrings: "2万元" is not "20万元") is what bot/verify.py does with them.

Figures are normalised to one value and one base unit: "二十五万元", "25万元" and "250000元" are all
(250000, 元); "10—20万元" is two figures of 万元. Chinese numerals are read with cn2an.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import cn2an

from core.text import DOC_NUMBER

# ---- figures ------------------------------------------------------------------------------------
_CN = "零〇一二两三四五六七八九十百千万亿"
_MAGNITUDE = {"十": 10, "百": 100, "千": 1000, "万": 1e4, "十万": 1e5, "百万": 1e6, "千万": 1e7, "亿": 1e8,
              "十亿": 1e9, "百亿": 1e10, "千亿": 1e11, "万亿": 1e12}
# Base units a figure may carry, longest first so that "个月" is not read as "个". Knowledge of the
# language (measure words and units of measurement), not of any collection.
_UNITS = sorted(
    ["元", "美元", "%", "‰", "个月", "个", "家", "人次", "人", "名", "户", "项", "次", "倍", "所", "座", "条", "台",
     "套", "批", "件", "栋", "辆", "年", "月", "日", "天", "周", "小时", "分钟", "平方米", "平方公里", "亩", "公顷",
     "公里", "千米", "米", "吨", "千瓦", "兆瓦", "瓦", "张", "本", "篇", "场", "期", "届", "位", "类", "款", "种",
     "间", "层", "处", "片", "块", "轮", "支", "只", "笔", "份", "门", "级", "星", "G", "GB", "TB", "MW", "kW"],
    key=len, reverse=True,
)
_UNIT_RE = "|".join(re.escape(u) for u in _UNITS)
_ARABIC = r"\d+(?:\.\d+)?"
_FIGURE = re.compile(
    rf"(?P<ar>{_ARABIC})\s*(?P<mag>[十百千]?[万亿]|[十百千](?=元))?"
    rf"|(?P<cn>[{_CN}]+(?:点[零〇一二三四五六七八九]+)?)"
)
_PERCENT_CN = re.compile(rf"(?P<kind>百分之|千分之)(?P<num>{_ARABIC}|[{_CN}]+(?:点[零〇一二三四五六七八九]+)?)")
_AFTER_UNIT = re.compile(rf"\s*(?P<unit>{_UNIT_RE})")
_RANGE = re.compile(r"\s*(?:—|–|-|－|~|～|至|到)\s*$")
_CN_DIGITS = re.compile(r"[零〇一二两三四五六七八九十]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


# Words that make a figure a ceiling or a floor: "不超过30万元" is not "30万元".
_CEILING_BEFORE = re.compile(r"(?:不超过|不高于|不多于|最高|最多|至多|上限为?|封顶)\s*[为是达可给予奖励补贴助]{0,4}$")
_FLOOR_BEFORE = re.compile(r"(?:不低于|不少于|至少|最低|超过|高于|大于)\s*$")
_CEILING_AFTER = re.compile(r"^\s*(?:以内|以下|封顶|为限|上限)")
_FLOOR_AFTER = re.compile(r"^\s*(?:以上|及以上|起)")


@dataclass(frozen=True)
class Figure:
    value: float  # magnitude applied: 20万元 → 200000
    unit: str  # the base unit ("元", "%", "家"), "" when none is written
    text: str  # as written
    bound: str = ""  # "ceiling" (不超过、最高…), "floor" (不低于、以上…) or "" for the figure itself

    def same(self, other: Figure) -> bool:
        close = abs(self.value - other.value) <= 1e-9 * max(1.0, abs(self.value))
        units = not self.unit or not other.unit or self.unit == other.unit
        return close and units and self.bound == other.bound


# ---- dates and 文号 ------------------------------------------------------------------------------
_CN_DIGIT = {"零": "0", "〇": "0", "○": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6",
             "七": "7", "八": "8", "九": "9"}
_CN_YEAR = re.compile(r"[零〇○一二三四五六七八九]{4}(?=年)")
_CN_MD = re.compile(r"(?<=[年\d])([一二三四五六七八九十]{1,3})(?=月)|(?<=月)([一二三四五六七八九十]{1,3})(?=日|号)")
_DATE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*年\s*(?:(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})\s*[日号])?|(?P<end>底|末))"
    r"|(?P<y2>(?:19|20)\d{2})[-./](?P<m2>\d{1,2})(?:[-./](?P<d2>\d{1,2}))?(?!\d)"
    r"|(?<![\d年])(?P<m3>\d{1,2})\s*月\s*(?P<d3>\d{1,2})\s*[日号]"
)


@dataclass(frozen=True)
class Date:
    year: int | None
    month: int | None
    day: int | None
    text: str

    def within(self, other: Date) -> bool:
        """Whether this date, as far as it is stated, is the other one ("2025年12月" within "2025年12月31日")."""
        return all(a is None or a == b for a, b in ((self.year, other.year), (self.month, other.month),
                                                    (self.day, other.day)))


@dataclass(frozen=True)
class DocNumber:
    prefix: str
    year: int
    number: int
    text: str

    def same(self, other: DocNumber) -> bool:
        # the prefix is read greedily ("印发X府发"): one of the two must end with the other
        short, long = sorted((self.prefix, other.prefix), key=len)
        return (self.year, self.number) == (other.year, other.number) and long.endswith(short)


# ---- unit names -----------------------------------------------------------------------------------
# Endings of an organisation's name, longest first. A word that only looks like one ("布局", "办理",
# "委托", "大厅") is excluded by the neighbouring character (below).
_ORG_SUFFIXES = sorted(
    ["委员会", "管委会", "办公室", "办公厅", "办事处", "领导小组", "人民政府", "政府", "局", "委", "厅", "署", "办",
     "中心", "公司", "集团", "协会", "商会", "联合会", "银行", "大学", "学院", "研究院", "研究所", "医院"],
    key=len, reverse=True,
)
_ORG_END = re.compile("|".join(re.escape(s) for s in _ORG_SUFFIXES))
_NOT_ORG_BEFORE = {
    "局": set("布格大全结开时骗饭棋变破残终出入平战僵危邮"),
    "委": set(),
    "办": set("举创承主协合开兴代督包查筹试申帮难去来怎可能即网掌联集通上近好快马就速"),
    "厅": set("大餐客展舞门歌"),
    "署": set("部签公"),
    "中心": set("为核重圆震"),
}
_NOT_ORG_AFTER = {
    "局": set("面势部限长"),
    "委": set("托派屈任婉身员"),
    "办": set("理法事学好成结证件照妥完"),
    "中心": set("城区镇点"),
    "政府": set(),
}
# Words that end the run of characters before a unit's name: what introduces a name, not part of it.
_BEFORE_NAME = re.compile(
    r"(?:由|是|为|向|找|到|在|请|报送|送交|跟|会同|协同|联合|配合|负责|牵头|指导|组织|委托|通过|归口|属于|归|的|了|即"
    r"|称|等|均|分别|以及|并|或|主管|主办|承办|具体|单位|部门|机构|按照|根据|依据|对|给|从|至|把|将|联系|咨询|包括"
    r"|其中|还有|另有|前往|去)"
)
# Characters that also occur inside names ("发展和改革委员会", "经济", "交通"): they end the run only after
# a complete name ("某局和某委").
_JOINING = re.compile(r"(?<=局|委|办|厅|署|心|司|团|会|室|府|组|行|学|院|所)(?:和|与|及|、|同|经|交|报)")
# A determiner in front of a generic ending ("贵公司", "所在地政府") names no particular unit.
_GENERIC = re.compile(r"(?:贵|本|该|你|您|我|我们|你们|各|每|相关|有关|上级|所在地|所在|当地|属地|主管|各级|其|此|这"
                      r"|那|哪|任何|所有|其他|其它|同级|上述|以上|下列|对应|辖区|所属|本级|各地)[\u4e00-\u9fff]{0,2}$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
NAME_WINDOW = 16  # longest unit name read back from its ending; names in the sample corpora are ≤ 14


# ---- negation -------------------------------------------------------------------------------------
_NEGATION = re.compile(r"不|没有|没|未|无|非|勿|禁止|严禁|否")
# Words built on a negating character that deny nothing: caps and floors ("不超过"), conjunctions,
# time words and names.
_NOT_NEGATION = re.compile(
    r"不超过|不低于|不少于|不高于|不多于|不大于|不小于|不足|不断|不仅|不但|不管|不论|不同|不久|不良|不定期|不动产|不等"
    r"|不一定|不变价|未来|无论|无废|无线|无人|无纸|无感|无缝|无障碍|非遗|非常|非公|非物质|是否|能否|可否|与否|否则"
    r"|不少|毫不|无偿"
)
NEGATION_SCOPE = 6  # characters after a negation that say what is denied ("不能获得任何奖励")


@dataclass
class Facts:
    figures: list[Figure] = field(default_factory=list)
    dates: list[Date] = field(default_factory=list)
    doc_numbers: list[DocNumber] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    negations: list[tuple[str, str]] = field(default_factory=list)  # each negation and the words it denies


def normalize(text: str) -> str:
    """Half-width digits and brackets, no thousands separators, Chinese digits of dates as Arabic ones."""
    t = unicodedata.normalize("NFKC", text)
    t = _THOUSANDS.sub("", t)
    t = _CN_YEAR.sub(lambda m: "".join(_CN_DIGIT[c] for c in m.group(0)), t)
    return _CN_MD.sub(lambda m: str(int(_cn_value(m.group(0)) or 0)) or m.group(0), t)


def _cn_value(run: str) -> float | None:
    try:
        return float(cn2an.cn2an(run, "smart"))
    except ValueError:  # not a numeral after all ("十四五")
        return None


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    out = list(text)
    for a, b in spans:
        out[a:b] = " " * (b - a)
    return "".join(out)


def doc_numbers(text: str) -> tuple[list[DocNumber], list[tuple[int, int]]]:
    found = [DocNumber(m.group("prefix"), int(m.group("y")), int(m.group("n")), m.group(0))
             for m in DOC_NUMBER.finditer(text)]
    return found, [m.span() for m in DOC_NUMBER.finditer(text)]


def dates(text: str) -> tuple[list[Date], list[tuple[int, int]]]:
    out, spans = [], []
    for m in _DATE.finditer(text):
        g = m.groupdict()
        if g["y"]:
            y, mo, d = int(g["y"]), g["m"], g["d"]
            if g["end"]:
                mo = "12"  # 年底 / 年末
        elif g["y2"]:
            y, mo, d = int(g["y2"]), g["m2"], g["d2"]
        else:
            y, mo, d = None, g["m3"], g["d3"]
        month, day = int(mo), int(d) if d else None
        if not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
            continue
        out.append(Date(y, month, day, m.group(0)))
        spans.append(m.span())
    return out, spans


def figures(text: str) -> list[Figure]:
    """Every figure with its unit. Chinese numerals count only with a unit after them, and a bare 一 only
    as money or a share: "一次性", "统一", "十四五" are words, not figures."""
    raw: list[tuple[int, int, float, float, str, bool]] = []  # start, end, number, magnitude, unit, chinese
    for m in _PERCENT_CN.finditer(text):
        num = m.group("num")
        v = float(num) if num[0].isdigit() else _cn_value(num)
        if v is not None:
            raw.append((m.start(), m.end(), v, 1.0, "%" if m.group("kind") == "百分之" else "‰", False))
    text = _mask(text, [(a, b) for a, b, *_ in raw])
    for m in _FIGURE.finditer(text):
        after = _AFTER_UNIT.match(text, m.end())
        unit = after.group("unit") if after else ""
        end = after.end() if after else m.end()
        if m.group("ar"):
            mag = _MAGNITUDE.get(m.group("mag") or "", 1.0)
            raw.append((m.start(), end, float(m.group("ar")), mag, unit, False))
            continue
        run = m.group("cn")
        if not _CN_DIGITS.search(run) or (not unit and run[-1] not in "万亿"):
            continue  # "千万" and "万" alone are words; a numeral without a unit is a word too ("十四五")
        v = _cn_value(run)
        if v is None or (v == 1 and unit not in ("元", "美元", "%")):
            continue
        raw.append((m.start(), end, v, 1.0, unit, True))
    raw.sort()
    out: list[Figure] = []
    for i, (start, end, num, mag, unit, _cn) in enumerate(raw):
        nxt = raw[i + 1] if i + 1 < len(raw) else None
        # "10—20万元": the first figure of a range takes the magnitude and unit of the second
        if nxt and not unit and mag == 1.0 and _RANGE.match(text[end : nxt[0]]):
            mag, unit = nxt[3], nxt[4]
        out.append(Figure(num * mag, unit, text[start:end].strip(), _bound(text, start, end)))
    return out


def _bound(text: str, start: int, end: int) -> str:
    before, after = text[max(0, start - 8) : start], text[end : end + 4]
    if _CEILING_BEFORE.search(before) or _CEILING_AFTER.match(after):
        return "ceiling"
    if _FLOOR_BEFORE.search(before) or _FLOOR_AFTER.match(after):
        return "floor"
    return ""


def unit_names(text: str, known: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Names of units (organisations) the text mentions: the known names it contains, then names read
    back from an organisation's ending ("…局", "…委员会") to the word that introduces them."""
    found: list[str] = []
    taken = [False] * len(text)
    for name in sorted(set(known), key=len, reverse=True):
        for m in re.finditer(re.escape(name), text):
            if not any(taken[m.start() : m.end()]):
                found.append(name)
                taken[m.start() : m.end()] = [True] * len(name)
    # right to left, so that a name holding an ending ("县委改革办") is read whole from its last one
    for m in reversed(list(_ORG_END.finditer(text))):
        if any(taken[m.start() : m.end()]):
            continue
        suffix = m.group(0)
        before = text[m.start() - 1] if m.start() else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if before in _NOT_ORG_BEFORE.get(suffix, set()) or after in _NOT_ORG_AFTER.get(suffix, set()):
            continue
        start = m.start()
        while start > 0 and m.end() - start < NAME_WINDOW and _CJK.match(text[start - 1]) and not taken[start - 1]:
            start -= 1
        run = text[start : m.end()]
        head = run[: -len(suffix)]
        if _GENERIC.search(head):
            continue
        cuts = [m.end() for m in _BEFORE_NAME.finditer(head)] + [m.end() for m in _JOINING.finditer(head)]
        name = run[max(cuts, default=0) :]
        if len(name) <= len(suffix):
            continue
        found.append(name)
        taken[m.end() - len(name) : m.end()] = [True] * len(name)
    return found


def negations(text: str) -> list[tuple[str, str]]:
    """Each negation with the words after it ("不能获得任何奖励" → ("不", "能获得任何"))."""
    allowed = [m.span() for m in _NOT_NEGATION.finditer(text)]
    out = []
    for m in _NEGATION.finditer(text):
        if any(a <= m.start() < b for a, b in allowed):
            continue
        scope = "".join(_CJK.findall(text[m.end() : m.end() + NEGATION_SCOPE * 2]))[:NEGATION_SCOPE]
        out.append((m.group(0), scope))
    return out


def facts_in(text: str, *, known_units: list[str] | tuple[str, ...] = ()) -> Facts:
    t = normalize(text)
    numbers, spans = doc_numbers(t)
    t = _mask(t, spans)
    found_dates, date_spans = dates(t)
    # a date's year stays a figure ("2025年"), so that "2025年" in an answer matches "2025年12月底"
    years = [Figure(float(d.year), "年", str(d.year)) for d in found_dates if d.year]
    t_figs = _mask(t, date_spans)
    return Facts(
        figures=years + figures(t_figs),
        dates=found_dates,
        doc_numbers=numbers,
        units=unit_names(t, known_units),
        negations=negations(t),
    )
