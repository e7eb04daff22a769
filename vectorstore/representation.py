"""What each side of the index sees of a clause: the dense text, the lexical text, the filter metadata.

Readers and writers must agree on these, so they live here, beside the stores, and nowhere else.
"""

from __future__ import annotations

import re

from core.records import Clause, PolicyDocument
from core.regions import gazetteer


def embed_text(c: Clause, doc: PolicyDocument) -> str:
    """What the dense model sees: title and path give a bare row like a unit name its context."""
    return f"{doc.title} {' '.join(c.path)} {c.text}"


def lexical_text(c: Clause, doc: PolicyDocument) -> str:
    units = " ".join(c.lead_units + c.responsible_units)
    return f"{doc.region or ''} {doc.title} {' '.join(c.path)} {c.text} {units}"


def chroma_metadata(c: Clause, doc: PolicyDocument) -> dict[str, str | int]:
    return {
        "doc_id": c.doc_id,
        "region": doc.region or "",
        "kind": c.kind,
        "status": doc.status,
        "deadline_year": int(c.deadline.date[:4]) if c.deadline and c.deadline.date else 0,
    }


# A name a document puts in quotation marks (its programmes, slogans, coined terms) is one word to its
# readers however jieba would cut it; longer quotes are phrases, not names.
_QUOTED = re.compile(r"[“「]([0-9A-Za-z\u4e00-\u9fff+]{2,10})[”」]")


def user_words(docs: dict[str, PolicyDocument], clauses: list[Clause]) -> set[str]:
    """Words jieba must keep whole: unit names, nicknames and regions of this collection."""
    words: set[str] = set()
    for c in clauses:
        words.update(c.lead_units)
        words.update(c.responsible_units)
        words.update(_QUOTED.findall(c.text))
    for d in docs.values():
        words.update(d.aliases)
        region = gazetteer().get(d.region)
        if d.region:  # as stored (某某市某某区) and as people write it (某某区, 某某)
            words.update(n for n in (d.region, region.name if region else "", region.short if region else "") if n)
    return words
