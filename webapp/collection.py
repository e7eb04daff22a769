"""What the collection holds, said to its visitors: the coverage a refusal names, example questions.

Everything here is read from the catalog and the clauses of the live index, so the page describes
whatever collection it serves (no document, place or unit is named in code).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.records import Clause, PolicyDocument

MAX_EXAMPLE_CHARS = 24  # an example question's topic phrase: longer ones do not fit a phone's button
_PHRASE_END = re.compile(r"[，。；：,;:（(]")


def coverage_text(docs: Sequence[PolicyDocument]) -> str:
    """One sentence on what can be asked here: how many documents, which regions, which titles."""
    if not docs:
        return "目前还没有收录任何政策文件。"
    regions = sorted({d.region for d in docs if d.region})
    where = f"，涉及{'、'.join(regions)}" if regions else ""
    titles = "；".join(f"《{d.title}》" for d in docs)
    return f"本系统目前收录 {len(docs)} 份政策文件{where}：{titles}。"


def _topic(c: Clause) -> str | None:
    """The first phrase of a task row's task cell, when it is short enough to ask about."""
    phrase = _PHRASE_END.split(c.text.split("\t")[0].strip(), maxsplit=1)[0].strip()
    return phrase if 4 <= len(phrase) <= MAX_EXAMPLE_CHARS else None


def example_questions(docs: Sequence[PolicyDocument], clauses: Sequence[Clause], *, limit: int = 3) -> list[str]:
    """Questions a visitor could start with, built from the collection itself.

    A task with a lead unit and a deadline (who leads it, by when), the validity of the most recently
    issued document, and the list of documents.
    """
    out: list[str] = []
    task = next((t for c in clauses if c.kind == "task_row" and c.lead_units and c.deadline
                 and (t := _topic(c))), None)
    if task:
        out.append(f"{task}由哪个单位牵头、什么时候完成？")
    current = [d for d in docs if d.status == "effective"] or list(docs)
    if current:
        newest = max(current, key=lambda d: (d.issued_on or "", d.title))
        out.append(f"《{newest.title}》现在还有效吗？")
    if docs:
        out.append("现有哪些政策文件？")
    return out[:limit]
