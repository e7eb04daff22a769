"""Which words of a clause state the fact asked for: the quote, the phrases with an amount or a target,
and the fields line. Everything returned is verbatim text of the clause."""

from __future__ import annotations

import datetime as dt
import re

from bot.language import ABBREVIATIONS, BENEFIT_WORDS, named_benefits
from bot.understand import Part, Understanding
from core.records import TABLE_HEADER_PREFIX, Clause
from core.text import norm

PREFER = {
    "amount": re.compile(r"万元|亿元|元|奖励|补贴|补助|资助|%"),
    "deadline": re.compile(
        r"\d{4}\s*年|底前|之前|完成时限|截止|前完成|日前|月底|完成后|之后|后给予|后拨付|后兑现|起\d"
    ),
    "target": re.compile(r"\d+(?:\.\d+)?\s*(?:%|万|亿|个|家|人|户|件|所|座|台|千米|公里|平方|亩|次|项|场|名)"),
    "eligibility": re.compile(
        r"对|符合|条件|达到|以上|且|满足|的，|具有|须|应当|不超过|未满|满|周岁|岁以下|岁以上|年龄"
    ),
    "procedure": re.compile(r"提交|申请|受理|流程|审批|办理|通过|首先|经|登录|网上|线上|窗口|材料|报送|审核"),
    "contact": re.compile(r"牵头|责任|配合|负责|会同|设在|电话|联系"),
    "validity": re.compile(r"征求意见稿|送审稿|草案|有效期|施行|实施期限|失效"),
}
_UNIT_BLOCK = re.compile(
    r"^[（(〔\[【]\s*(牵头单位|牵头部门|责任单位|责任部门|配合单位|配合部门|[^）)〕\]】]{0,40}负责)"
)
_DURATION = re.compile(
    r"\d+\s*(个月|年|天|日|周|个工作日)(内|以内|以上)?|[一二三四五六七八九十两半]+\s*(个月|年|天|周)"
)
_TIME_LIMIT = re.compile(
    r"(之日起|起|后)[^，。；;]{0,10}?(\d+|[一二三四五六七八九十两半]+)\s*个?(工作日|自然日|年|月|天|日|周)\s*(内|以内)|"
    r"(\d+|[一二三四五六七八九十两半]+)\s*个?(工作日|自然日|年|月|天|日|周)\s*(内|以内)\s*(向|提出|申请|提交|办理|报送)"
)
_QUOTED_ITEM = re.compile(r"[“\"‘']\s*([^”\"’']{1,6})\s*[”\"’']")


def sentences(text: str) -> list[str]:
    """Verbatim sentence pieces of a clause (split after 。；！？, table cells apart). A bracket that names
    the units of the sentence before it ("……平台。（牵头单位：…）") stays with that sentence."""
    out: list[str] = []
    for cell in text.split("\t"):
        for s in _split_outside_brackets(cell):
            if not s.strip():
                continue
            if out and _UNIT_BLOCK.match(s.strip()) and not out[-1].endswith("\t"):
                out[-1] += s
            else:
                out.append(s)
    return out


_OPEN, _CLOSE = "（(〔【[「“", "）)〕】]」”"


def _split_outside_brackets(text: str) -> list[str]:
    """Split after 。；！？ — but not inside brackets: "〔牵头单位：…；责任单位：…〕" is one piece."""
    out, buf, depth = [], "", 0
    for ch in text:
        buf += ch
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
        elif ch in "。；;！？!?" and depth == 0:
            out.append(buf)
            buf = ""
    if buf:
        out.append(buf)
    return out


def _is_restatement(s: str, label: str) -> bool:
    """A heading in question form, or a lead-in that only names the topic: it answers nothing."""
    st = s.strip()
    return st.endswith(("？", "?")) or (bool(label) and label in st and len(norm(st)) <= len(norm(label)) + 4)


def best_sentences(c: Clause, u: Understanding, part: Part, *, prefer: re.Pattern[str] | None, limit: int,
                   prefer_share: float = 0.5) -> list[str]:
    """The sentences that speak to the question, best first: its words (the part's own count more), the
    kind of fact asked (prefer, worth prefer_share of the question's weight), its figures, year and benefit."""
    sents = sentences(c.text)
    if not sents:
        return [c.text]
    label = c.path[-1] if c.path else ""
    useful = [s for s in sents if not _is_restatement(s, label)] or sents
    total = sum(u.weight(t) for t in u.terms) or 1.0
    focus = set(part.terms)
    figures = asker_numbers(u)
    years = asked_years(u, part)
    benefits = named_benefits(norm(part.text))
    # "A指标目标是多少？B指标呢？": for the second part, the first part's words say little
    other = 0.5 if len(u.parts) > 1 and part.terms else 1.0
    scored = []
    for i, s in enumerate(useful):
        sn = norm(s).lower()
        score = sum(u.weight(t) * (1.5 if t in focus else other) for t in u.terms if _says(t, sn))
        if prefer is not None and prefer.search(s):
            score += prefer_share * total
        if figures and any(rx.search(sn) for rx in figures):
            score += FIGURE_SHARE * total  # "招了5个人" → the sentence of the 5-person bracket
        if years and any(y in sn for y in years):
            score += FIGURE_SHARE * total  # the year the question names
        if benefits and any(_names_benefit(b, sn) for b in benefits):
            score += 0.5 * total  # "某某补贴每个月多少": the sentence of that benefit, not of the asker's situation
        scored.append((score, -i, s))
    scored.sort(reverse=True)
    return [s for sc, _, s in scored[:limit] if sc > 0] or [useful[0]]


# Share of the question's weight a sentence gains by stating a number the asker typed ("招了3个人" →
# "招用3人以下的…", a bracket): the bracket a figure falls in. Chosen on the tuning sets.
FIGURE_SHARE = 0.3


def asker_numbers(u: Understanding) -> list[re.Pattern[str]]:
    """The asker's own figures (not years), each as a pattern that finds it in a text with its unit when it
    has one ("5个人" finds "5人及以上", not "5年内")."""
    out = []
    for f in dict.fromkeys(u.figures):
        m = re.match(r"(\d+(?:\.\d+)?)\s*个?(\S?)", f.strip())
        if m is None or re.match(r"^(19|20)\d\d$", m.group(1)):
            continue
        unit = {"周": "周?岁"}.get(m.group(2), re.escape(m.group(2)))
        out.append(re.compile(rf"(?<![\d.]){re.escape(m.group(1))}\s*个?{unit}"))
    return out


def _says(term: str, text: str) -> bool:
    """The text states the term, or the word documents use for it ("老婆" → "配偶")."""
    t = norm(term).lower()
    return t in text or (term in ABBREVIATIONS and norm(ABBREVIATIONS[term]).lower() in text)


def _names_benefit(subject: str, sentence: str) -> bool:
    return bool(re.search(rf"{re.escape(subject)}\S{{0,2}}({BENEFIT_WORDS})", sentence))


def layout_item(c: Clause, u: Understanding) -> str | None:
    """"“1+2+N”…，“1”即……，“2”即……": for a question about one item, the piece that defines that item."""
    for m in _QUOTED_ITEM.finditer(u.question):
        item = m.group(1)
        for piece in re.split(r"(?<=[，。；;])", c.text):
            p = piece.strip()
            if re.match(rf"^[“\"‘']?\s*{re.escape(item)}\s*[”\"’']?\s*(即|是|指|为|：|:)", p):
                return p
    return None


def choose(c: Clause, u: Understanding, part: Part) -> str:
    """The verbatim words of the clause that state what the part asks."""
    if c.kind == "task_row" and "\t" in c.text:
        # the task cell, or the cell of the row that states what is asked ("开通某某服务热线");
        # units and deadline go in the fields line
        cells = [x for x in c.text.split("\t") if x.strip()]
        scored = [(sum(u.weight(t) for t in part.terms if norm(t).lower() in norm(x).lower()), -i, x)
                  for i, x in enumerate(cells[:2])]
        return max(scored)[2] if scored else c.text.split("\t")[0]
    if "\t" in c.text:
        return c.text  # an indicator row: its cells only make sense together
    item = layout_item(c, u)
    if item:
        return item
    prefer = next((PREFER[f] for f in part.facets if f in PREFER), None)
    if prefer is None and re.search(r"多少|几|比例|比重|百分", part.text):
        prefer = PREFER["target"]
    unit = part_unit(u, part)
    share = 0.5
    if unit and ("target" in part.facets or unit in ("岁", "个月", "年", "天")):
        prefer = re.compile(rf"\d+(?:\.\d+)?\s*(?:周)?{unit}")
        share = 1.0  # "年龄有限制吗": the sentence with the age, whatever else the asker's case matches
    elif "时长" in part.wants:
        # "多久内申请": the period counted from an event ("之日起2年内向…申请"), before any period the clause names
        prefer = _TIME_LIMIT if _TIME_LIMIT.search(c.text) else _DURATION
    limit = 4 if part.list_mode or part.intent in ("eligibility", "procedure") else 2
    picked = best_sentences(c, u, part, prefer=prefer, limit=limit, prefer_share=share)
    in_order = sorted(picked, key=c.text.find)
    # several sentences are quoted together only when they stand together in the clause
    joined = "".join(in_order)
    return (joined if joined in c.text else picked[0]).strip()


def states_quantity(text: str) -> bool:
    return bool(PREFER["target"].search(text))


def part_unit(u: Understanding, part: Part) -> str | None:
    """The unit the part asks in, or, for a follow-up that only changes the place ("那某某区呢？"), the
    unit the turn before asked in."""
    unit = asked_unit(part.text)
    if unit is None and u.follow_up and u.carried is not None:
        unit = asked_unit(u.carried.ask)
    return unit


def asked_unit(question: str) -> str | None:
    """'多少家' → 家: the unit the asker expects, used to pick the sentence that states it."""
    if re.search(r"多大年龄|几岁|多少岁|年龄\S{0,2}(限制|要求|上限|规定|门槛)|多大岁数", question):
        return "岁"
    m = re.search(r"(?:多少|几)(万元|亿元|万人|平方米|家|个|人|户|件|所|部|名|场|次|项|座|台|亩)", question)
    if m:
        return m.group(1)
    m = re.search(r"(?:多少|几)[^，。？?]{0,8}?(人员|人才|人|企业|机构|团队|平台|基站|园区|学校|景区)", question)
    if m:
        return {"人员": "人", "人才": "人", "人": "人", "企业": "家", "机构": "家", "团队": "家"}.get(m.group(1), "个")
    return None


# Ranking lead of a quote of the year the question names, and loss of one of other years only. Chosen on
# the tuning sets.
YEAR_BONUS = 0.2


def asked_years(u: Understanding, part: Part) -> list[str]:
    return re.findall(r"(?:19|20)\d{2}", part.text) or re.findall(r"(?:19|20)\d{2}", u.question)


def stated_years(c: Clause, quote: str, plan_end: int | None) -> set[str]:
    """The years a quote speaks of: those it or its clause names, or, for a plan's 目标 section that names
    none, the plan's end year."""
    stated = set(re.findall(r"(?:19|20)\d{2}", quote)) | {str(y) for y in c.years}
    if not stated and (c.kind == "target" or any("目标" in h for h in c.path)) and plan_end:
        stated = {str(plan_end)}
    return stated


def other_year_only(u: Understanding, part: Part, c: Clause, quote: str, plan_end: int | None) -> bool:
    """A target asked for one year ("某年要培育多少家") and a clause that sets targets for other years
    only: it does not answer, however well its words match ("每年" targets answer any year)."""
    years = asked_years(u, part)
    asks_target = part.intent == "target" or "目标" in part.text  # "2023年的目标是多少亿元" counts money
    if not years or not asks_target or "每年" in quote:
        return False
    stated = stated_years(c, quote, plan_end)
    return bool(stated) and not stated & set(years)


def facet_bonus(u: Understanding, part: Part, c: Clause, quote: str, plan_end: int | None = None) -> float:
    """A target question is best answered by prose that states a quantity in the unit asked for; a
    contact question by a clause that names its units."""
    bonus = 0.0
    years = asked_years(u, part)
    stated = stated_years(c, quote, plan_end)
    if years and part.intent in ("target", "amount", "deadline", "general") and stated:
        # "某年收入有多少": the sentence of that year, not the one of the plan's end year
        bonus += YEAR_BONUS if stated & set(years) else -YEAR_BONUS
    if part.intent == "target":
        unit = part_unit(u, part)
        if unit and re.search(rf"\d+(?:\.\d+)?\s*{unit}", quote):
            bonus += 0.2
        elif states_quantity(quote):
            bonus += 0.1
        if c.kind == "target":
            bonus += 0.1  # the document's own 目标 section
        if "\t" in c.text:
            bonus -= 0.15  # an indicator row's bare numbers are a fallback to the sentence that states them
    elif part.intent == "contact" and (c.lead_units or c.responsible_units):
        bonus += 0.1
    elif part.intent == "amount" and amount_phrases(quote):
        bonus += 0.1
    elif part.intent == "deadline" and (c.deadline or _CALENDAR_DATE.search(quote)):
        bonus += 0.3  # a day on the calendar, before clauses that merely mention a year or a month
    elif part.intent == "eligibility":
        if _THRESHOLD.search(quote):
            bonus += 0.1  # "连续两年每年超过N人": a bar to reach
    elif part.intent == "deadline" and "时长" in part.wants and _TIME_LIMIT.search(quote):
        bonus += 0.2  # "多久内申请": a period counted from an event, before periods that only qualify someone
    heading = _FACET_HEADINGS.get(part.intent)
    if heading is not None and any(heading.search(h) for h in c.path[-2:]):
        bonus += 0.2  # the clause under "申请条件" states who qualifies, under "申请程序" how to apply
    return bonus


# Headings under which documents state each kind of fact ("补贴对象", "申请程序", "补贴标准", "受理部门").
_FACET_HEADINGS = {
    "eligibility": re.compile(r"条件|对象|资格|要求|范围"),
    "procedure": re.compile(r"程序|流程|步骤|办理|申请方式|申领方式|申报方式|受理"),
    "amount": re.compile(r"标准|金额|额度"),
    "contact": re.compile(r"受理|责任部门|责任单位|联系|咨询"),
}
_THRESHOLD = re.compile(r"(达到|超过|不低于|不少于|不超过|以上|满)\S{0,4}\d|\d+(\.\d+)?\s*\S{0,3}(以上|以下|以内)")
_CALENDAR_DATE = re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}\s*年\s*\d{1,2}\s*月")


def amount_phrases(text: str) -> list[str]:
    """Comma-delimited pieces that carry a sum of money, verbatim."""
    out = []
    for piece in re.split(r"[，,；;。]", text):
        if re.search(r"\d\s*(万元|亿元|元)", piece) and re.search(
            r"奖励|补贴|补助|资助|给予|不超过|最高|贷款|额度|支持|发放|标准|每人|每户|每家|每个|租金|费用|收费|价格|元\s*/",
            piece,
        ):
            out.append(piece.strip())
    return out


def target_phrases(quote: str) -> list[str]:
    return [p.strip() for p in re.split(r"[，,；;。：:]", quote) if PREFER["target"].search(p)]


def key_phrases(phrases: list[str], u: Understanding, part: Part, quote: str = "", limit: int = 3) -> list[str]:
    """The phrases that speak to the question's own words, in their order. Words elsewhere in the phrase's
    sentence count half ("2027年，…营收3000万元"); a year the question names must match."""
    if not phrases or not u.terms:
        return phrases[:limit]
    sents = [norm(x).lower() for x in sentences(quote)] if quote else []
    asked_years = set(re.findall(r"20\d{2}", part.text)) or set(re.findall(r"20\d{2}", u.question))
    focus = set(part.terms)
    figures = asker_numbers(u)
    scored = []
    for i, p in enumerate(phrases):
        pn = norm(p).lower()
        sent = next((x for x in sents if pn in x), pn)
        score = sum(u.weight(t) * (1.5 if t in focus else 1.0) for t in u.terms if norm(t).lower() in pn)
        score += 0.5 * sum(u.weight(t) for t in u.terms if norm(t).lower() in sent)
        sent_years = set(re.findall(r"20\d{2}", sent))
        if asked_years and sent_years and not asked_years & sent_years:
            score *= 0.3  # the question names 2026; this phrase is about 2027
        scored.append((score, -i, p))
    benefits = named_benefits(norm(part.text))
    if benefits:  # "某某补贴每个月多少": the phrases of that benefit, not of others the sentence names
        named = [x for x in scored if any(_names_benefit(b, norm(x[2]).lower()) for b in benefits)]
        scored = named or scored
    if figures:  # the asker's figure falls in one bracket: the phrases of the sentences that state it
        hit = [x for x in scored if any(rx.search(next((y for y in sents if norm(x[2]).lower() in y), ""))
                                        for rx in figures)]
        scored = hit or scored
    best = max(s for s, _, _ in scored)
    if best <= 0:
        return phrases[:limit]
    keep = sorted((x for x in scored if x[0] >= best * 0.8), reverse=True)[:limit]
    return [p for _, _, p in sorted(keep, key=lambda x: -x[1])]


def unit_line(c: Clause) -> str:
    parts = []
    if c.lead_units:
        parts.append("牵头单位：" + "、".join(c.lead_units))
    if c.responsible_units:
        label = "配合单位" if c.kind == "task_row" or "配合单位" in c.text else (
            "责任部门" if "责任部门" in c.text and "责任单位" not in c.text else "责任单位")
        parts.append(f"{label}：" + "、".join(c.responsible_units))
    return "；".join(parts)


def fields_line(c: Clause, u: Understanding, part: Part, quote: str) -> str:
    """The direct answer line, from fields the parser extracted from this clause."""
    out: list[str] = []
    facets = part.facets
    if ("contact" in facets or c.kind == "task_row") and (c.lead_units or c.responsible_units):
        out.append(unit_line(c))
    wanted = part.wants & {"联系电话", "地址", "邮箱", "联系人"}
    for ct in c.contacts:
        if ct.kind in wanted:
            out.append(f"{ct.kind}：{ct.value}")
    if c.deadline and ("deadline" in facets or c.kind == "task_row"):
        out.append(f"完成时限：{c.deadline.text}")
    if "amount" in facets:
        amounts = key_phrases(amount_phrases(quote), u, part, quote)
        if amounts:
            out.append("金额：" + "；".join(amounts))
    if "target" in facets and "\t" not in c.text:
        out += key_phrases(target_phrases(quote), u, part, quote)
    header = c.path[-1][len(TABLE_HEADER_PREFIX):].split("｜") if c.path and c.path[-1].startswith(
        TABLE_HEADER_PREFIX) else []
    if header and "\t" in c.text:
        cells = c.text.split("\t")
        out.append("；".join(f"{h}：{v}" for h, v in zip(header, cells, strict=False) if v.strip()))
    return "；".join(x for x in out if x)


def cn_date(iso: str | None) -> str | None:
    if not iso:
        return None
    d = dt.date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"
