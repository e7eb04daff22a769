"""The chat page's per-tab state: the turns answered so far, and their JSON form for the browser.

The browser keeps a copy in sessionStorage so that a reload of the tab shows the conversation again
(closing the tab or 新对话 forgets it; nothing of it is kept on the server). What comes back from
the browser is untrusted: it is parsed field by field, capped, and only ever shown escaped.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, get_args

from core.records import Answer, Citation, Mode

log = logging.getLogger(__name__)

MAX_TURNS = 20  # a tab keeps the latest turns; older ones are dropped from the stored copy
MAX_STORED_CHARS = 400_000  # sessionStorage holds a few MB; a bigger copy is refused, not truncated
MAX_TEXT = 20_000  # any one stored text (an answer, a quote)


@dataclass(frozen=True)
class ChatTurn:
    question: str
    history: list[str]  # the questions asked before this one, oldest first
    answer: Answer
    feedback_id: int | None = None  # the stored 👍/👎 row of this answer, once rated


@dataclass
class Conversation:
    """What the chat page keeps per browser tab: the turns answered so far."""

    turns: list[ChatTurn] = field(default_factory=list)

    def questions(self) -> list[str]:
        return [t.question for t in self.turns]

    def to_json(self) -> str:
        turns = [_turn_dict(t) for t in self.turns[-MAX_TURNS:]]
        return json.dumps({"v": 1, "turns": turns}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | None) -> Conversation:
        """The stored copy back from the browser; anything malformed yields an empty conversation."""
        if not raw or len(raw) > MAX_STORED_CHARS:
            return cls()
        try:
            data = json.loads(raw)
            turns = [_turn_from(t) for t in data["turns"][-MAX_TURNS:]]
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            log.info("ignoring a stored conversation that does not parse: %s", e)
            return cls()
        return cls(turns)


def _turn_dict(t: ChatTurn) -> dict[str, Any]:
    a = t.answer
    return {
        "question": t.question,
        "history": t.history,
        "answer": {
            "answer": a.answer,
            "refused": a.refused,
            "warnings": a.warnings,
            "intent": a.intent,
            "mode": a.mode,
            "citations": [{**c.to_json(), "clause_id": c.clause_id} for c in a.citations],
        },
    }


def _text(v: Any, limit: int = MAX_TEXT) -> str:
    if not isinstance(v, str):
        raise TypeError(f"expected text, got {type(v).__name__}")
    return v[:limit]


def _turn_from(d: dict[str, Any]) -> ChatTurn:
    a = d["answer"]
    mode = a.get("mode")
    cites = [
        Citation(doc_id=_text(c["doc_id"], 64), doc_title=_text(c["doc_title"], 300), clause=_text(c["clause"], 1000),
                 quote=_text(c["quote"]), source_file=_text(c.get("source_file", ""), 300),
                 clause_id=_text(c.get("clause_id", ""), 64))
        for c in a.get("citations", [])[:20]
    ]
    answer = Answer(
        question=_text(d["question"], 2000),
        answer=_text(a["answer"]),
        citations=cites,
        refused=bool(a.get("refused")),
        warnings=[_text(w, 500) for w in a.get("warnings", [])[:10]],
        intent=_text(a.get("intent", "general"), 40),
        mode=mode if mode in get_args(Mode) else "extractive",
    )
    return ChatTurn(answer.question, [_text(h, 2000) for h in d.get("history", [])[-10:]], answer)
