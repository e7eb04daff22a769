"""A scripted chat model: replies from a queue, records every prompt it was sent.

A reply is a string, a function of the prompt (to cite a source by what it holds, whatever number the
ranking gave it), or an exception to raise as a failing server would. `first_token_delay_s` holds the
first piece back, as a silent server does; `piece_delay_s` slows the rest, as a slow one does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

Reply = str | Callable[[list[BaseMessage]], str] | BaseException


class ScriptedChatModel(BaseChatModel):
    replies: list[Any]  # Reply
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    first_token_delay_s: float = 0.0
    piece_delay_s: float = 0.0  # between the pieces after the first: a slow server

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next(self, messages: list[BaseMessage]) -> str:
        self.prompts.append(list(messages))
        if not self.replies:
            raise RuntimeError("scripted model ran out of replies")
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply(messages) if callable(reply) else reply

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._next(messages)))])

    def _stream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        text = self._next(messages)
        if self.first_token_delay_s:
            time.sleep(self.first_token_delay_s)
        for i in range(0, len(text), 8):  # tokens arrive in pieces, as from a server
            if i and self.piece_delay_s:
                time.sleep(self.piece_delay_s)
            yield ChatGenerationChunk(message=AIMessageChunk(content=text[i : i + 8]))


_SOURCE = re.compile(r'<source id="(\d+)"[^>]*>\n(.*?)\n</source>', re.S)


def sources_sent(messages: list[BaseMessage]) -> dict[int, str]:
    """The numbered clauses a prompt carried: {n: clause text}."""
    return {int(n): text for n, text in _SOURCE.findall(str(messages[-1].content))}


def source_with(needle: str, messages: list[BaseMessage], *, holding: bool = True) -> int:
    """The number of the first source that holds (or, with holding=False, lacks) the needle."""
    for n, text in sources_sent(messages).items():
        if (needle in text) == holding:
            return n
    raise AssertionError(f"no source {'holds' if holding else 'lacks'} {needle!r}")
