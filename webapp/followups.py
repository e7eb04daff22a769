"""Suggested next questions under an answer, from what the cited clause holds that was not asked yet.

A clause that names a lead unit invites "牵头单位是谁？", one with a deadline "什么时候截止？", and so on.
The suggestions are short follow-ups: the bot reads them with the conversation's earlier questions.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.intents import cue_facets
from core.records import Answer, Clause

MAX_FOLLOW_UPS = 3

# (facet the question would ask for, does the clause hold it, the question)
_OFFERS: tuple[tuple[str, Callable[[Clause], bool], str], ...] = (
    ("contact", lambda c: bool(c.lead_units), "牵头单位是谁？"),
    ("contact", lambda c: bool(c.responsible_units), "配合单位有哪些？"),
    ("deadline", lambda c: c.deadline is not None, "什么时候截止？"),
    ("amount", lambda c: bool(c.amounts), "金额是多少？"),
    ("target", lambda c: bool(c.targets), "目标是多少？"),
)


def asked_facets(question: str) -> set[str]:
    """The facets a question asks for, by the same cue words the bot recognises."""
    return set(cue_facets(question))


def follow_ups(answer: Answer, clauses: list[Clause]) -> list[str]:
    """Up to three follow-up questions for an answer whose first cited clause is clauses[0]."""
    if answer.refused or not clauses:
        return []
    asked = asked_facets(answer.question) | {answer.intent}
    cited = clauses[0]
    out = [q for facet, holds, q in _OFFERS if facet not in asked and holds(cited)]
    return out[:MAX_FOLLOW_UPS]
