"""Lead-ins and their items: "提交下列材料：" says nothing until its items do, and "（三）属于某类人员。"
means nothing without the lead-in that names the subsidy and its amount. Learned from the clause paths
once per index generation, so a clause is judged and quoted together with the family it belongs to."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.records import Clause

# A clause that announces items below it: it ends with a colon, or points at "以下/下列" items.
_ANNOUNCES = re.compile(r"[：:]\s*$|(以下|下列|如下)[^。；;]{0,16}([：:]|之一|条件|情形|材料)")


# A section of up to this many clauses is one matter told in parts ("补贴条件 / 补贴标准 / 补贴期限 /
# 申领方式"); a larger one is a chapter of matters. The benefit sections of both sample corpora have 3–5.
SECTION_MAX = 6


# A heading that numbers its matter ("1.", "（二）", "第三条", "①"): a matter of its own, not an aspect of one
NUMBERED = re.compile(r"^\s*(第[一二三四五六七八九十百零\d]+[条章节]|[（(]?[一二三四五六七八九十\d]+[）)、.．]|[①-⑳])")


def announces_items(text: str) -> bool:
    return bool(_ANNOUNCES.search(text.strip()))


@dataclass
class Families:
    parent: dict[str, Clause] = field(default_factory=dict)  # item's id → the lead-in above it
    items: dict[str, list[Clause]] = field(default_factory=dict)  # lead-in's id → its items, in reading order
    # the other clauses of a small section ("补贴条件", "补贴标准", "申领方式" under one benefit's heading)
    siblings: dict[str, list[Clause]] = field(default_factory=dict)

    def lead_in(self, c: Clause) -> Clause | None:
        return self.parent.get(c.clause_id)

    def items_of(self, c: Clause) -> list[Clause]:
        return self.items.get(c.clause_id, [])

    def siblings_of(self, c: Clause) -> list[Clause]:
        return self.siblings.get(c.clause_id, [])


def learn_families(clauses: Iterable[Clause]) -> Families:
    """An item is a clause whose heading path extends a lead-in's path, read after it and before the
    document leaves that heading; the lead-in is the last clause of the shorter path that announces items."""
    fam = Families()
    by_doc: dict[str, list[Clause]] = {}
    for c in clauses:
        by_doc.setdefault(c.doc_id, []).append(c)
    for doc_clauses in by_doc.values():
        open_leads: list[Clause] = []  # lead-ins whose heading the reading is still under
        for c in sorted(doc_clauses, key=lambda x: x.seq):
            open_leads = [x for x in open_leads if _under(c.path, x.path)]
            if open_leads and len(c.path) > len(open_leads[-1].path):
                lead = open_leads[-1]
                fam.parent[c.clause_id] = lead
                fam.items.setdefault(lead.clause_id, []).append(c)
            if c.path and announces_items(c.text):
                open_leads = [x for x in open_leads if x.path != c.path] + [c]
        sections: dict[tuple[str, ...], list[Clause]] = {}
        for c in doc_clauses:
            if len(c.path) >= 2:
                sections.setdefault(tuple(c.path[:-1]), []).append(c)
        for members in sections.values():
            # aspects of one matter ("补贴条件", "补贴标准"), not numbered matters of their own
            if 2 <= len(members) <= SECTION_MAX and not any(NUMBERED.match(x.path[-1]) for x in members):
                for c in members:
                    fam.siblings[c.clause_id] = [x for x in members if x is not c]
    return fam


def _under(path: list[str], head: list[str]) -> bool:
    return len(path) >= len(head) and path[: len(head)] == head
