"""Understand: question (+ what the conversation carried) → what is asked, about what, where, in which document.

A question typed the way people talk has a situational preamble ("我们是…的公司，去年…"), then the ask;
the ask may hold several questions. The preamble's facts set the region (a filter) and add topic words of
lesser weight; the places it names are read with the gazetteer; its figures are the asker's own numbers,
never something a clause must state.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from bot import intents, wordclass
from bot.language import (
    ASKS_WHICH_UNIT,
    CN_DIGITS,
    CUE_WORDS,
    FILLER,
    FOLLOW_UP,
    FREQUENCY,
    ORDINAL,
    PART_SPLIT,
    QUESTION_MARK,
    SITUATION,
    TOPICAL_CUES,
    WANTS,
)
from bot.vocabulary import Vocabulary
from core.errors import BackendUnavailable
from core.records import PolicyDocument
from core.regions import Region, gazetteer
from core.retrieval import Retriever
from core.settings import AnswerTuning
from core.text import DOC_NUMBER, norm

# Role weights of topic words: what the ask names counts fully; the asker's situation and what earlier
# turns were about count for less. Chosen on the tuning sets (support threshold swept with them).
ROLE_ASK = 1.0
ROLE_PREAMBLE = 0.35
ROLE_CARRIED = 0.5

# Clauses that must use a two-character place name before it counts as an ordinary word of the collection.
ORDINARY_WORD_CLAUSES = 3
_LEAD_FN = "要能可会该需得想给让把被都还再也就请"
_TAIL_FN = "了的吗呢吧啊呀么"
_QUESTION_WORD = re.compile(r"^(几|多少|哪|啥|什么|怎|咋|多长|多久|多大|多高|长时间)")
_NUMBER = re.compile(r"^\d+(\.\d+)?[%万亿千百]*$")
_YEAR = re.compile(r"^(19|20)\d{2}$")
# The asker's own figures ("招了3个人", "营收800万", "58岁"): masked before topic words are read.
_FIGURE = re.compile(
    r"\d+(?:\.\d+)?\s*(?:%|万元|亿元|元|万|亿|个人|个月|人|名|位|家|个|套|次|周岁|岁|年|月|倍|平方米|平米)?"
)
_COUNTING = re.compile(r"(多少|几)(个|家|项|名|所|座|台|次|户|件|条|种|类|批|位)")
_ORIGIN = re.compile(r"(人(?![才民力员口事大])|籍|户口|户籍|居民|同胞)")
# A part that leaves its ask unsaid: "…呢？", "要是…", "那…" — it asks what the part before it asked.
_ELLIPTICAL = re.compile(r"呢[?？]?\s*$|^(那|要是|如果|假如|若是|若|换成|万一)")


@dataclass
class Part:
    """One thing asked. A question of several parts is answered part by part, each with its citation."""

    text: str
    facets: list[str]
    wants: set[str]
    terms: list[str]  # the part's own topic words
    list_mode: bool = False
    # what the benefits the part names are for ("住房补贴" → 住房): a clause about another benefit does not answer
    benefit_subjects: list[str] = field(default_factory=list)

    @property
    def intent(self) -> str:
        return self.facets[0] if self.facets else "general"


@dataclass
class Carried:
    """What earlier turns leave to a follow-up: where, which document, what about, which clauses."""

    regions: list[Region] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    terms: dict[str, float] = field(default_factory=dict)  # topic word → its role in the earlier turn
    facets: list[str] = field(default_factory=list)
    clause_ids: list[str] = field(default_factory=list)  # the clauses the last answer cited, in order
    ask: str = ""  # what the last turn asked, as typed


@dataclass
class Understanding:
    question: str
    preamble: str
    ask: str
    parts: list[Part]
    places: list[Region]  # named in the question, or carried from the conversation
    scope: list[str] | None  # document regions the answer may come from; None: any
    local_scope: list[str] | None  # the places named and the places inside them, without those above
    uncovered: list[Region]  # places named that no document of the collection applies to
    doc_ids: list[str]  # documents named, or carried
    roles: dict[str, float]  # topic word → role weight
    weights: dict[str, float]  # topic word → inverse document frequency
    figures: list[str]  # the asker's own numbers
    follow_up: bool
    carried: Carried | None
    query: str  # what retrieval searches with
    ordinal: int | None = None  # "第二个呢": an item of the previous answer
    vector: np.ndarray | None = None

    @property
    def facets(self) -> list[str]:
        seen: list[str] = []
        for p in self.parts:
            seen += [f for f in p.facets if f not in seen]
        return seen

    @property
    def intent(self) -> str:
        return self.facets[0] if self.facets else "general"

    @property
    def terms(self) -> list[str]:
        return list(self.roles)

    def weight(self, term: str) -> float:
        return self.roles.get(term, ROLE_ASK) * self.weights.get(term, 1.0)


# ---- text pieces ---------------------------------------------------------------------------------
def clean(question: str) -> str:
    """NFKC-normalised, single-spaced: full-width digits and letters become half-width."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", question)).strip()


def split_preamble(text: str) -> tuple[str, str]:
    """(situational preamble, ask). The preamble is the run of leading clauses in which the asker talks
    about themselves and asks nothing; the ask is everything from the first other clause on."""
    clauses = re.split(r"(?<=[，,。；;！!？?\n])", text)
    cut = 0
    for c in clauses:
        body = c.strip(" ，,。；;！!？?\n")
        if not body:
            cut += 1
            continue
        if QUESTION_MARK.search(body) or not SITUATION.search(body):
            break
        cut += 1
    if cut >= len(clauses):  # nothing but situation: it is the whole question
        return "", text
    return "".join(clauses[:cut]).strip(), "".join(clauses[cut:]).strip()


def split_parts(ask: str) -> list[str]:
    """The separate questions of one message; pieces that ask nothing attach to the question after them."""
    pieces = [p.strip(" ，,；;") for p in PART_SPLIT.split(ask) if p and p.strip(" ，,；;")]
    parts: list[str] = []
    pending = ""
    for p in pieces:
        if QUESTION_MARK.search(p):
            parts.append((pending + "，" + p) if pending else p)
            pending = ""
        else:
            pending = (pending + "，" + p) if pending else p
    if pending:
        if parts:
            parts[-1] += "，" + pending
        else:
            parts.append(pending)
    return parts or [ask]


def wants_of(text: str) -> set[str]:
    out = {k for k, rx in WANTS.items() if rx.search(text)}
    if "时长" in out and FREQUENCY.search(text):
        out.discard("时长")
    if "材料" in out and ASKS_WHICH_UNIT.search(text):
        out.discard("材料")
    return out


def content_terms(tokens: list[str], stop: set[str]) -> list[str]:
    """Topic words: fillers, question words and numbers dropped, a leading '要/能…' cut ('要建' → '建')."""
    out: list[str] = []
    for t in tokens:
        if len(t) >= 2 and t not in FILLER and t not in stop:
            cut = t.lstrip(_LEAD_FN).rstrip(_TAIL_FN)
            # "要建多少" → "建": a modal glued to a verb by the segmenter; a real word ("人才") is left whole
            if len(cut) >= 2 or (cut != t and not wordclass.known(t)):
                t = cut or t
        if t in FILLER or t in stop or t in out or _QUESTION_WORD.match(t):
            continue
        if _NUMBER.match(t) and not _YEAR.match(t):
            continue  # the asker's own figures are not topic words
        if len(t) < 2 and not re.fullmatch(r"[a-z]+", t):
            continue
        out.append(t)
    return out


def ordinal_of(text: str) -> int | None:
    m = ORDINAL.search(text)
    if not m:
        return None
    n = m.group(1)
    if n.isdigit():
        return int(n)
    if n in CN_DIGITS:
        return CN_DIGITS[n]
    return 10 + CN_DIGITS.get(n[-1], 0) if n.startswith("十") else None


# ---- places and documents ---------------------------------------------------------------------------
def read_places(text: str, vocab: Vocabulary, index: Retriever) -> tuple[list[Region], list[tuple[int, int]]]:
    """Regions the text names, and where (so their names are not taken for topic words)."""
    g = gazetteer()

    def ordinary(word: str) -> bool:
        # a word the collection uses again and again is one of its words (惠民政策), not a place it names once
        return word not in vocab.region_words and index.doc_freq(word) >= ORDINARY_WORD_CLAUSES

    # "香港人", "外省户籍": where the asker comes from, not where the policy is asked about
    found = [m for m in g.mentions(text, known=vocab.covered, ordinary=ordinary) if not _ORIGIN.match(text, m.end)]
    regions: list[Region] = []
    for m in found:
        if m.region not in regions:
            regions.append(m.region)
    # "某省某市某县": keep the deepest of a chain, not both links
    deepest = [r for r in regions if not any(o != r and g.contains(r, o) for o in regions)]
    return deepest, [(m.start, m.end) for m in found]


def scope_for(places: list[Region], vocab: Vocabulary) -> tuple[list[str] | None, list[str] | None, list[Region]]:
    """Which document regions apply to the places named: the places themselves, the regions above them (a
    province's or city's policy applies in its districts) and those inside them (a city-wide question sees
    its districts' documents). The local scope leaves out the regions above: a city's own target or lead
    unit is not a district's. A place no document applies to is uncovered."""
    if not places:
        return None, None, []
    g = gazetteer()
    scope: list[str] = []
    local: list[str] = []
    uncovered: list[Region] = []
    for p in places:
        names = [name for name, r in vocab.regions.items() if g.contains(r, p) or g.contains(p, r)]
        if not names:
            uncovered.append(p)
        scope += [n for n in names if n not in scope]
        local += [n for n, r in vocab.regions.items() if g.contains(p, r) and n not in local]
    return scope, local, uncovered


def named_documents(text: str, docs: list[PolicyDocument], vocab: Vocabulary, places: list[Region]) -> list[str]:
    """Documents the text names by 文号, by title or by a nickname from the title."""
    t = norm(text)
    out: list[str] = []
    for d in docs:
        keys, core = _naming_keys(d.doc_number or "", tuple(d.aliases), d.title)
        hit = next((k for k in keys if k in t), None)
        if hit is None and len(core) >= 6 and core[:8] in t:
            hit = core[:8]
        if hit and d.doc_id not in out:
            out.append(d.doc_id)
    if len(out) > 1 and places:
        # a nickname several documents share (one plan name, two districts): the place named decides
        g = gazetteer()
        by_id = {d.doc_id: d for d in docs}
        narrowed = [i for i in out if (r := vocab.regions.get(by_id[i].region or "")) is not None
                    and any(g.contains(r, p) or g.contains(p, r) for p in places)]
        out = narrowed or out
    return out


@functools.lru_cache(maxsize=200_000)  # asked of every document on every question: computed once per document
def _naming_keys(doc_number: str, aliases: tuple[str, ...], title: str) -> tuple[list[str], str]:
    keys = [norm(k) for k in (doc_number, *aliases) if k and len(norm(k)) >= 2]
    return keys, _title_core(title)


def _title_core(title: str) -> str:
    """A title without its notice wrapping ("关于印发…的通知") and its issuer prefix."""
    t = norm(title)
    t = re.sub(r"^.*?关于印发", "", t)
    t = re.sub(r"的通知$", "", t)
    return t.strip("《》<>〈〉")


# ---- the whole -------------------------------------------------------------------------------------
def understand(
    question: str,
    *,
    index: Retriever,
    vocab: Vocabulary,
    tuning: AnswerTuning,
    carried: Carried | None = None,
    exemplars: intents.ExemplarIndex | None = None,
) -> Understanding:
    q = vocab.homophones.correct(clean(question))
    preamble, ask = split_preamble(q)
    docs = list(index.docs.values())
    places, place_spans = read_places(q, vocab, index)
    names_place = bool(places)
    if not places and carried is not None and carried.regions:
        places = list(carried.regions)  # the conversation stays where the asker is
    doc_ids = named_documents(q, docs, vocab, places)
    stop = set(vocab.region_words) | CUE_WORDS
    own = content_terms(index.tokenize(_mask(q, place_spans + _figure_spans(q))), stop)
    number_in_q = DOC_NUMBER.search(q)
    if number_in_q:
        own = [t for t in own if t not in index.tokenize(number_in_q.group(0))]
    ask_terms = set(content_terms(index.tokenize(_mask(ask, _shift(place_spans + _figure_spans(q), q, ask))), stop))
    roles: dict[str, float] = {t: (ROLE_ASK if t in ask_terms else ROLE_PREAMBLE) for t in own}

    parts = []
    for text in split_parts(ask):
        facets = intents.cue_facets(text)
        parts.append(Part(text=text, facets=facets, wants=wants_of(text),
                          terms=[t for t in content_terms(index.tokenize(text), stop) if t in roles],
                          list_mode=intents.is_list_question(text)))
    for p in parts:
        p.benefit_subjects = _benefit_subjects(p.text, list(roles))
    for prev, p in itertools.pairwise(parts):
        if not p.facets and _ELLIPTICAL.search(p.text):
            p.facets = list(prev.facets)  # "能拿多少？要是规模翻倍呢？": the same ask, of another case
    # words like 材料/电话 name what is asked about a topic, not the topic ("找哪个部门交材料？")
    has_own_topic = any(r == ROLE_ASK and t not in TOPICAL_CUES for t, r in roles.items()) or bool(doc_ids)
    follow_up = carried is not None and (bool(FOLLOW_UP.search(q)) or not has_own_topic or len(norm(q)) <= 8)
    if carried is not None:
        if follow_up:
            if not doc_ids and not names_place:  # "那某某区呢？" leaves the last document behind
                doc_ids = list(carried.doc_ids)
            for t, r in carried.terms.items():
                roles.setdefault(t, min(r, ROLE_CARRIED))
            for p in parts:
                if not p.facets:  # "那某县的某产业呢？" asks what the last turn asked, about something else
                    p.facets = list(carried.facets)
    scope, local_scope, uncovered = scope_for(places, vocab)
    carried_text = " ".join(t for t in roles if carried is not None and t in carried.terms and t not in own)
    # how documents write what the asker typed colloquially ("老婆" → "配偶"), so retrieval finds it too
    formal = " ".join(dict.fromkeys(vocab.abbreviations[t] for t in roles if t in vocab.abbreviations))
    query = f"{q} {carried_text} {formal}".strip()
    u = Understanding(
        question=q, preamble=preamble, ask=ask, parts=parts, places=places, scope=scope, local_scope=local_scope,
        uncovered=uncovered,
        doc_ids=doc_ids, roles=roles, weights=_weights(index, list(roles)),
        figures=_FIGURE.findall(q), follow_up=follow_up, carried=carried if follow_up else None, query=query,
        ordinal=ordinal_of(q) if follow_up else None,
    )
    if exemplars is not None and any(not p.facets for p in u.parts):
        try:
            u.vector = index.embed_query(query)
        except BackendUnavailable:  # an embeddings endpoint is down: the search says so, BM25 answers
            return u
        guess = exemplars.nearest(u.vector, k=tuning.intent_k, min_similarity=tuning.intent_min_similarity,
                                  margin=tuning.intent_margin)
        for p in u.parts:
            if not p.facets and guess and (guess != "amount" or intents.names_money(p.text)):
                p.facets = [guess]
    return u


_BENEFIT = re.compile(r"奖励|补贴|补助|资助|奖补|奖金")


def _benefit_subjects(text: str, terms: list[str]) -> list[str]:
    """The topic word just before each benefit the text names ("新引进人才奖励" → 引进人才), longest first."""
    out = []
    for m in _BENEFIT.finditer(text):
        before = text[: m.start()]
        ending = [t for t in terms if len(t) >= 2 and before.endswith(t)]
        if ending:
            out.append(max(ending, key=len))
    return list(dict.fromkeys(out))


def _figure_spans(text: str) -> list[tuple[int, int]]:
    """The asker's own figures, and the counting words of the question ("多少家", "几个"): a measure word
    glued to the word after it makes another word ("多少家电商" → 家电)."""
    spans = [(m.start(), m.end()) for m in _FIGURE.finditer(text) if not _YEAR.match(m.group(0).strip())
             and not re.match(r"[A-Za-z]", text[m.end() : m.end() + 1])]  # "5G" is a name, not a figure
    return spans + [(m.start(), m.end()) for m in _COUNTING.finditer(text)]


def _weights(index: Retriever, terms: list[str]) -> dict[str, float]:
    """Rarity in the collection, times what the word's class says about the topic (bot/wordclass.py)."""
    idf = index.term_weights(terms)
    used = {t: index.doc_freq(t) > 0 for t in terms}
    # A word no document uses has the highest rarity of all; when no dictionary knows it either (a typo,
    # two characters glued together) that rarity says nothing about the topic, so it weighs no more than
    # the question's typical word the collection does use. A known verb ("报名") keeps its rarity: what
    # it asks about may be just what the documents lack.
    # An adverb or pronoun ("已经", "这个") is capped the same way: its rarity is the documents' style.
    seen = sorted(idf[t] for t in terms if used[t])
    typical = seen[len(seen) // 2] if seen else 1.0
    out = {}
    for t in terms:
        cls = wordclass.weight(t, used_by_collection=used[t])
        unknown = not used[t] and not t.isascii() and not wordclass.known(t)
        out[t] = (min(idf[t], typical) if unknown or wordclass.is_function_word(t) else idf[t]) * cls
    return out


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for s, e in spans:
        for i in range(s, min(e, len(chars))):
            chars[i] = " "
    return "".join(chars)


def _shift(spans: list[tuple[int, int]], whole: str, part: str) -> list[tuple[int, int]]:
    off = whole.find(part)
    if off < 0:
        return []
    return [(s - off, e - off) for s, e in spans if s >= off and e <= off + len(part)]
