"""What the bot learns from the collection it serves, once per index generation: the regions its documents
cover, the abbreviations its documents define ("（以下简称X）"), the units that lead its tasks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.family import Families, learn_families
from bot.language import ABBREVIATIONS, FACET_CUES
from bot.typos import MIN_CLAUSES, Homophones
from core.records import PolicyDocument
from core.regions import Gazetteer, Region, gazetteer
from core.retrieval import Retriever

# "新能源汽车产业（以下简称“新车产业”）": a document defining its own short word for a longer one.
_DEFINED = re.compile(r"[（(]\s*(?:以下)?简称\s*[“\"「]?([^”\"」）)，,]{1,12})[”\"」]?\s*[）)]")
_GENERIC_TAIL = re.compile(r"(产业|企业|行业|业)$")


def long_form(before: str, short: str) -> str | None:
    """The words a short form stands for: the shortest ending of `before` that starts with the short
    form's first character and holds its characters in order ("新车" ← "新能源汽车产业")."""
    core = _GENERIC_TAIL.sub("", short) or short
    for i in range(len(before) - 1, -1, -1):
        if before[i] != core[0]:
            continue
        rest = iter(before[i:])
        if all(ch in rest for ch in core[1:]):
            return before[i:]
    return None


@dataclass
class Vocabulary:
    generation: str = ""
    regions: dict[str, Region] = field(default_factory=dict)  # a document's region name → its Region
    abbreviations: dict[str, str] = field(default_factory=dict)  # short word → how documents write it
    units: list[str] = field(default_factory=list)  # lead unit names, longest first
    region_words: set[str] = field(default_factory=set)  # names people type for the collection's regions
    families: Families = field(default_factory=Families)  # lead-ins and the items under them
    homophones: Homophones = field(default_factory=Homophones)  # what a pinyin slip was meant to say

    @property
    def covered(self) -> list[Region]:
        return list(self.regions.values())


def region_of(doc: PolicyDocument, g: Gazetteer) -> Region | None:
    return g.get(doc.region) if doc.region else None


def learn(index: Retriever) -> Vocabulary:
    g = gazetteer()
    v = Vocabulary(generation=index.generation, abbreviations=dict(ABBREVIATIONS))
    for d in index.docs.values():
        r = region_of(d, g)
        if r is not None and d.region:
            v.regions[d.region] = r
    for r in v.regions.values():
        for x in (r, *g.ancestors(r)):
            if x.level != "national":
                v.region_words.update({x.name, x.short, x.display})
    for c in index.clauses:
        if "简称" in c.text:
            for m in _DEFINED.finditer(c.text):
                short = m.group(1).strip()
                long = long_form(re.split(r"[，,。；;、（(]", c.text[max(0, m.start() - 30) : m.start()])[-1], short)
                if long and 2 <= len(short) < len(long):
                    v.abbreviations.setdefault(short, long)
                    # "软信产业" for "软件和信息服务业": its stem "软信" stands for "软件和信息服务" too
                    s_core, l_core = _GENERIC_TAIL.sub("", short), _GENERIC_TAIL.sub("", long)
                    if len(s_core) >= 2 and s_core != short:
                        v.abbreviations.setdefault(s_core, l_core)
    v.families = learn_families(index.clauses)
    v.homophones = Homophones.build([*index.words(MIN_CLAUSES), *(w for ws in FACET_CUES.values() for w in ws)])
    v.units = sorted({u for c in index.clauses for u in c.lead_units if len(u) >= 3}, key=len, reverse=True)
    return v
