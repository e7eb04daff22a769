"""Select evidence: which retrieved clause supports an answer to each part of the question, or none.

A clause supports a part when it states enough of what the question is about (topic words weighted by
rarity and by their role: the ask counts more than the asker's situation) and holds the kind of fact
the part asks for (an amount, a unit, a date…). Nothing else is refused: the refusal rests on this.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import cn2an

from bot import quotes
from bot.family import NUMBERED
from bot.language import YES_NO_ELIGIBILITY, named_benefits
from bot.understand import ROLE_ASK, ROLE_PREAMBLE, Part, Understanding
from bot.vocabulary import Vocabulary
from core.injection import addresses_assistant
from core.records import Clause, PolicyDocument, ScoredClause
from core.regions import gazetteer
from core.settings import AnswerTuning
from core.text import norm

HEADER_PATHS = (["标题"], ["印发通知"], ["落款"], ["印发信息"])
# "按投入的5%给予奖励": a share of something, paid as a benefit, is an amount too
_BENEFIT_SHARE = re.compile(
    r"\d+(\.\d+)?\s*%[^，,。；;]{0,12}(奖励|补贴|补助|资助|奖补)|(奖励|补贴|补助|资助)[^，,。；;]{0,12}\d+(\.\d+)?\s*%"
)
# the papers an application needs, not any use of the word ("先进材料")
_MATERIALS = re.compile(
    r"(提交|提供|报送|递交|上传|准备|所需|下列|以下|申请|证明)\S{0,6}(材料|资料)|材料清单|材料[：:]|"
    r"证书|证明|复印件|原件|申请表|登记表"
)
# an address written out without its label: "某某路8号…2号楼301室"
_ADDRESS = re.compile(r"\S{1,12}(路|街|大道)\d+号|\d+号楼|\d+(室|楼|层)(?!\S{0,2}(以上|以下))|大厦\S{0,8}\d+")
CONTACT_WANTS = {"联系电话", "地址", "邮箱", "联系人"}
_DURATION = re.compile(
    r"\d+\s*个?(工作日|自然日|年|月|天|日|周|小时)|[一二三四五六七八九十两半]+\s*个?(工作日|年|月|天|周)"
)
# a time a clause sets: a date, a period of days or months, or a word that bounds one
_WHEN = re.compile(r"\d+\s*(年|个?月|日|天|个?工作日)|[一二三四五六七八九十]+\s*(月|个月|天|年)|年底|年末|月底|季度|"
                   r"完成后|之前|以前|之日|截止|届满|期满|前完成|前提交|前申请|前报送|每年|每季|每月")
# "十个平台", "两千家": a count in Chinese numerals ("一个产业一套机制" counts nothing)
_CN_QUANTITY = re.compile(r"[二三四五六七八九十百千万两][一二三四五六七八九十百千万两]*[个家项所座]")
# Ranking lead of a document of exactly the place the question names (over its province's or districts').
PLACE_BONUS = 0.5
# The ask alone decides support when it holds at least this share of the question's topic weight. Chosen
# on the tuning sets: lower, and two-word asks of follow-ups answered from any clause naming one word.
ASK_SHARE_ALONE = 0.5
# An item up to this long is quoted whole (a material, a condition); a longer one by its best sentences.
ITEM_WHOLE = 200
# Ranking lead of a clause whose heading the question names word for word ("某某补贴…多久内申请"):
# people ask for an item by its heading. Chosen on the tuning sets.
HEADING_BONUS = 0.3
# Ranking lead of a document whose title names what the ask is about ("能申请X吗" → "关于受理X申请的
# 公告"), by the share of the ask's weight the title states. Chosen on the tuning sets.
TITLE_BONUS = 0.3
# Other ask words count this much when one part of a multi-part question is judged.
ROLE_OTHER_PART = 0.6


@dataclass
class Evidence:
    clause: Clause
    doc: PolicyDocument
    quote: str  # verbatim substring of clause.text
    coverage: float
    score: float = 0.0
    dense: float | None = None  # the dense side's cosine to the question, when it ranked the clause
    # the lead-in and items quoted along with the clause (verbatim quotes of their own clauses)
    family: list[tuple[Clause, str]] = field(default_factory=list)

    def pieces(self) -> list[tuple[Clause, str]]:
        """The clause's quote and its family's, in reading order."""
        return sorted([(self.clause, self.quote), *self.family], key=lambda x: x[0].seq)


@functools.lru_cache(maxsize=65536)  # clause texts repeat across questions; the check normalises each one
def looks_like_injection(text: str) -> bool:
    """Text addressed to a model rather than to readers: never answered from, never shown to a model."""
    return addresses_assistant(text)


def is_instruction(c: Clause) -> bool:
    """Flagged at ingest, or read so now (an index built before the flag existed)."""
    return c.addresses_assistant or looks_like_injection(c.text)


def clause_context(c: Clause, doc: PolicyDocument | None) -> str:
    parts = [c.text, " ".join(c.path), " ".join(c.lead_units + c.responsible_units)]
    if doc:
        parts += [doc.title, doc.region or "", " ".join(doc.aliases)]
    return norm(" ".join(parts)).lower()


_CN_COUNT = re.compile(r"^([一二两三四五六七八九十百]+)(个?(年|月|天|日|周|人|家|次|万元|元|万))$")


@functools.lru_cache(maxsize=4096)
def _in_digits(term: str) -> str | None:
    m = _CN_COUNT.match(term)
    if m is None:
        return None
    try:
        return f"{int(cn2an.cn2an(m.group(1), 'smart'))}{m.group(2)}"
    except ValueError:
        return None


def term_match(term: str, context: str, abbreviations: dict[str, str]) -> float:
    """1 when the context states the term or the word documents use for it, 0.5 when it states a
    two-character core of a longer colloquial word ("本科生" → "本科"), else 0."""
    t = norm(term).lower()
    if t in context:
        return 1.0
    digits = _in_digits(t)
    if digits and digits in context:  # "两年" as documents write it: "2年"
        return 1.0
    long = abbreviations.get(term)
    if long and norm(long).lower() in context:
        return 1.0
    for short, full in abbreviations.items():  # "规上企业": its abbreviation inside the word
        if len(short) >= 2 and short in t and norm(t.replace(short, full)).lower() in context:
            return 1.0
    if len(t) >= 3 and any(t[i : i + 2] in context for i in range(len(t) - 1)):
        return 0.5
    return 0.0


def coverage(u: Understanding, context: str, vocab: Vocabulary, *, focus: set[str] | None = None,
             own_text_only: bool = False) -> float:
    """Share of the question's topic weight the context states (0..1)."""
    return _coverage(u, context, vocab, focus)[0]


def _coverage(u: Understanding, context: str, vocab: Vocabulary, focus: set[str] | None,
              situation: str = "") -> tuple[float, float]:
    """(share of all topic weight stated, share of the ask's own weight stated). The second lets a clause
    that answers the ask support it although it does not repeat the asker's situation ("我们是一家规上
    高新技术企业，…找哪个部门"): the situation narrows, it is not what is asked. `situation` is text that
    may state the asker's situation but not the ask (the "补贴条件" beside a "补贴标准")."""
    total = hit = ask_total = ask_hit = 0.0
    for t in u.terms:
        w = u.weight(t)
        asked = u.roles.get(t) == ROLE_ASK
        if focus is not None and asked and t not in focus:
            w *= ROLE_OTHER_PART
        told = u.roles.get(t) == ROLE_PREAMBLE  # the asker's own situation, not the ask nor an earlier turn's
        m = w * term_match(t, context + situation if told and situation else context, vocab.abbreviations)
        total, hit = total + w, hit + m
        if asked:
            ask_total, ask_hit = ask_total + w, ask_hit + m
    if total <= 0:
        return 0.0, 0.0
    # an ask of one or two light words ("电话多少？") leans on the situation to say what it is about
    ask = ask_hit / ask_total if ask_total >= ASK_SHARE_ALONE * total else 0.0
    return hit / total, ask


def benefit_mismatch(question: str, context: str, abbreviations: dict[str, str]) -> list[str]:
    """Kinds of benefit the question names that the clause does not mention: a clause about 租金补贴 does
    not answer a question about 税收减免."""
    return [b for b in named_benefits(norm(question))
            if b not in context and norm(abbreviations.get(b, b)) not in context]


def facet_ok(part: Part, c: Clause, quote: str) -> bool:
    """Whether the clause holds the kind of fact the part asks for."""
    contact_wants = part.wants & CONTACT_WANTS
    if contact_wants and not any(x.kind in contact_wants for x in c.contacts) and not (
            "地址" in contact_wants and _ADDRESS.search(c.text)):
        return False
    if "时长" in part.wants and not _DURATION.search(c.text):
        return False
    f = part.facets
    first = f[0] if f else ""
    if first == "amount" and not quotes.amount_phrases(c.text) and not _BENEFIT_SHARE.search(c.text):
        return False
    if "材料" in part.wants and not _MATERIALS.search(c.text + c.label):
        return False
    if first == "contact" and not (c.lead_units or c.responsible_units or c.contacts or
                                   re.search(r"牵头|负责|会同|设在|设立|受理|联系|咨询|主管|组织实施|"
                                             r"向\S{1,24}(提交|递交|报送|提出)|(提交|报送)\S{0,12}至", c.text)):
        return False
    if first == "deadline" and not (c.deadline or c.years or _WHEN.search(c.text)):
        return False
    if first == "target" and not (quotes.states_quantity(c.text) or _CN_QUANTITY.search(c.text)):
        return False
    return True


def candidates(u: Understanding, part: Part, hits: list[ScoredClause], vocab: Vocabulary,
               tuning: AnswerTuning) -> list[Evidence]:
    """Every retrieved clause that could answer the part, scored; best first. An item is judged together
    with its lead-in ("符合以下条件之一的，补贴N元：" and "（三）属于某类人员"), and a lead-in together
    with its items; whichever of them states the fact asked is the one quoted first."""
    focus = set(part.terms) if len(u.parts) > 1 and part.terms else None
    fam = vocab.families
    out: dict[str, tuple[float, int, Evidence]] = {}
    n = max(1, len(hits))
    for rank, h in enumerate(hits):
        doc, c = h.document, h.clause
        if doc is None or (c.path[:1] in HEADER_PATHS and part.intent != "metadata"
                           and not (part.wants & CONTACT_WANTS and c.contacts)):
            continue  # a notice's header answers who issued it, and whom to call ("联系人：…") — nothing else
        if is_instruction(c):
            continue
        lead = fam.lead_in(c) or (c if fam.items_of(c) else None)
        items = [x for x in fam.items_of(lead) if not is_instruction(x)][: tuning.family_items] if lead else []
        context = clause_context(c, doc)
        if lead is c:
            context += norm(" ".join(x.text for x in items)).lower()
        elif lead is not None:  # an item reads with its lead-in, not with its sisters ("（二）另一项补贴")
            context += norm(lead.text).lower()
        if benefit_mismatch(part.text if len(u.parts) > 1 else u.question, context, vocab.abbreviations):
            continue
        if any(term_match(t, context, vocab.abbreviations) < 1.0 for t in part.benefit_subjects):
            continue  # "新引进人才奖励" asked, a clause of some other reward matched the rest
        main, quote = c, quotes.choose(c, u, part)
        if not facet_ok(part, c, quote):
            # the lead-in or an item the question speaks of may state what the clause itself does not
            members = [lead, *_relevant(u, lead, items, vocab, doc)] if lead is not None else []
            quoted = ((x, quotes.choose(x, u, part)) for x in members if x is not c)
            found = next(((x, q) for x, q in quoted if facet_ok(part, x, q)), None)
            if found is None:
                continue
            main, quote = found
        if quotes.other_year_only(u, part, main, quote, doc.period_end):
            continue
        family = _family_quotes(u, part, main, c, lead, items, vocab, doc) if lead is not None else []
        beside = fam.siblings_of(c)
        situation = norm(" ".join(x.text for x in beside)).lower() if beside else ""
        cov, ask_cov = _coverage(u, context, vocab, focus, situation) if u.terms else (0.0, 0.0)
        own = coverage(u, norm(" ".join([main.text, *(q for _, q in family)])).lower(), vocab, focus=focus) \
            if u.terms else 0.0
        score = cov + 0.3 * own + 0.25 * (1 - rank / n) + quotes.facet_bonus(u, part, main, quote, doc.period_end)
        if _names_heading(main, doc.title, u.question):
            score += HEADING_BONUS
        score += TITLE_BONUS * _ask_in_title(u, doc.title)
        if doc.region and gazetteer().get(doc.region) in u.places:
            score += PLACE_BONUS  # the document of the place named, before those of places around it
        ev = Evidence(main, doc, quote, max(cov, ask_cov), score, h.dense, family)
        known = out.get(main.clause_id)
        if known is None or (score, -rank) > (known[0], -known[1]):
            out[main.clause_id] = (score, rank, ev)
    ranked = sorted(out.values(), key=lambda x: (-x[0], x[1]))
    return [e for _, _, e in ranked]


@functools.lru_cache(maxsize=4096)
def _title_form(title: str) -> str:
    return norm(title).lower()


def _ask_in_title(u: Understanding, title: str) -> float:
    asked = [t for t in u.terms if u.roles.get(t) == ROLE_ASK]
    total = sum(u.weight(t) for t in asked)
    if total <= 0:
        return 0.0
    t_form = _title_form(title)
    return sum(u.weight(t) for t in asked if norm(t).lower() in t_form) / total


_ASKS_ALL = re.compile(r"哪些|哪几|什么材料|啥材料|都要|都有|所有|全部")


def _names_heading(c: Clause, title: str, question: str) -> bool:
    q = norm(question)
    for h in c.path[-2:]:
        core = norm(NUMBERED.sub("", h)).strip("：:。")
        # a heading that repeats the document's own subject ("（一）<the document's subject>") singles nothing out
        if len(core) >= 4 and core in q and core not in norm(title):
            return True
    return False


def _relevant(u: Understanding, lead: Clause, items: list[Clause], vocab: Vocabulary,
              doc: PolicyDocument) -> list[Clause]:
    """The items that state a question word their lead-in (with its document's title and place) does not:
    the ones the asker's case is about."""
    lead_ctx = clause_context(lead, doc)
    fresh = [t for t in u.terms if not term_match(t, lead_ctx, vocab.abbreviations)]
    return [x for x in items
            if any(term_match(t, norm(x.text + x.path[-1]).lower(), vocab.abbreviations) == 1.0 for t in fresh)]


def _family_quotes(u: Understanding, part: Part, main: Clause, hit: Clause, lead: Clause, items: list[Clause],
                   vocab: Vocabulary, doc: PolicyDocument) -> list[tuple[Clause, str]]:
    """What is quoted along with the main clause: the lead-in an item needs, and the items a lead-in needs —
    those the question speaks of, or all of them when the lead-in says nothing until they do and the
    question asks for them all ("要交哪些材料")."""
    chosen = _relevant(u, lead, items, vocab, doc)
    if hit is not lead and hit not in chosen:
        chosen.insert(0, hit)
    if re.search(r"[：:]\s*$", lead.text.strip()) and (not chosen or part.list_mode or _ASKS_ALL.search(part.text)):
        chosen = items
    members = [x for x in {x.clause_id: x for x in (lead, *chosen)}.values() if x is not main]
    return [(x, x.text.strip() if x is not lead and len(x.text) <= ITEM_WHOLE else quotes.choose(x, u, part))
            for x in members]


def supports(e: Evidence, u: Understanding, part: Part, tuning: AnswerTuning) -> bool:
    """Enough of the question stated. A yes/no eligibility question carries the asker's own situation, which
    no clause states; a close paraphrase (by the dense side's cosine) shares meaning, not words."""
    bar = tuning.support_threshold
    if part.intent == "eligibility" and YES_NO_ELIGIBILITY.search(part.text):
        bar = tuning.eligibility_threshold
    if e.dense is not None and e.dense >= tuning.dense_support:
        bar = min(bar, tuning.dense_support_threshold)
    return e.coverage >= bar
