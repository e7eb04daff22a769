"""The public page: 政策问答 for enterprises (chat with streamed, cited answers and feedback)."""

from __future__ import annotations

import logging
import queue
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import gradio as gr

from core.records import Answer
from webapp import render
from webapp.collection import coverage_text, example_questions
from webapp.conversation import ChatTurn, Conversation
from webapp.followups import follow_ups
from webapp.sources import Source, sources_for
from webapp.state import AppState, QuestionError

log = logging.getLogger(__name__)

STREAM_CHUNK = 12  # characters per streamed update of an answer that arrived in one piece
STREAM_PAUSE_S = 0.015
ASK_TIMEOUT_S = 180.0
STORAGE_KEY = "policybot-conversation"  # sessionStorage: this tab only, gone when the tab closes
SAVE_JS = ("(saved) => { try { if (saved) sessionStorage.setItem('" + STORAGE_KEY + "', saved);"
           " else sessionStorage.removeItem('" + STORAGE_KEY + "'); } catch (e) { console.warn(e); } }")
LOAD_JS = "(saved) => { try { return sessionStorage.getItem('" + STORAGE_KEY + "') || ''; } catch (e) { return ''; } }"
_TURN = re.compile(r"pb-turn-(\d+)")

Message = dict[str, Any]  # gradio's chat message: {"role", "content", "options"?}
Outputs = tuple[Any, list[Message], Conversation, Any]  # input box, chat, conversation, stored copy


def _content_text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else message
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content or "")


class ChatHandlers:
    def __init__(self, state: AppState) -> None:
        self.state = state
        # bot.ask runs here so the gradio worker can stream the deltas it reports while it works
        self._pool = ThreadPoolExecutor(max_workers=max(1, state.settings.concurrency_limit),
                                        thread_name_prefix="ask")

    # ---- rendering ---------------------------------------------------------------------------
    def _sources(self, ans: Answer) -> list[Source]:
        with self.state.reading() as idx:
            return sources_for(idx, ans.citations)

    def examples(self) -> list[str]:
        with self.state.reading() as idx:
            docs = sorted(idx.docs.values(), key=lambda d: (d.region or "", d.title))
            return example_questions(docs, idx.clauses)

    def _reply(self, turn_no: int, turn: ChatTurn, *, last: bool) -> Message:
        ans = turn.answer
        sources = self._sources(ans)
        coverage = coverage_text(self.state.documents()) if ans.refused else ""
        msg: Message = {"role": "assistant",
                        "content": render.answer_html(ans, sources, turn=turn_no, coverage=coverage)}
        if last:
            cited = [s.clause for s in sources if s.clause is not None]
            msg["options"] = [{"value": q, "label": q} for q in follow_ups(ans, cited)]
        return msg

    def render_chat(self, conv: Conversation) -> list[Message]:
        chat: list[Message] = []
        for i, t in enumerate(conv.turns):
            chat += [{"role": "user", "content": render.question_html(t.question)},
                     self._reply(i, t, last=i == len(conv.turns) - 1)]
        return chat

    # ---- asking ------------------------------------------------------------------------------
    def respond(self, message: str, chat: list[Message] | None, conv: Conversation | None) -> Iterator[Outputs]:
        """Typed question: the input box is emptied once, then left alone so the next question can be
        typed while this answer streams."""
        yield from self._answer(message, chat, conv, from_input=True)

    def respond_api(self, message: str, chat: list[Message] | None, conv: Conversation | None
                    ) -> Iterator[tuple[str, list[Message], Conversation]]:
        """The `/ask` API (gradio_client): (input box, chat) as before; the tab's stored copy is the page's."""
        box = message or ""  # what the input box holds: emptied when the question is taken
        for new_box, chat_now, conv_now, _saved in self._answer(message, chat, conv, from_input=True):
            box = new_box if isinstance(new_box, str) else box
            yield box, chat_now, conv_now

    def ask_option(self, chat: list[Message] | None, conv: Conversation | None, evt: gr.SelectData
                   ) -> Iterator[Outputs]:
        """A suggested follow-up was clicked: ask it, leaving whatever is typed in the input box."""
        yield from self._answer(str(evt.value or ""), chat, conv, from_input=False)

    def ask_example(self, chat: list[Message] | None, conv: Conversation | None, evt: gr.SelectData
                    ) -> Iterator[Outputs]:
        value = evt.value.get("text", "") if isinstance(evt.value, dict) else str(evt.value or "")
        yield from self._answer(value, chat, conv, from_input=False)

    def _answer(self, message: str, chat: list[Message] | None, conv: Conversation | None, *,
                from_input: bool) -> Iterator[Outputs]:
        keep = gr.skip()
        chat = [{k: v for k, v in m.items() if k != "options"} if isinstance(m, dict) else m for m in chat or []]
        conv = Conversation(list(conv.turns)) if conv else Conversation()
        try:
            q = self.state.check_question(message)
        except QuestionError as e:
            if e.status_code == 422:  # nothing typed: nothing to show
                yield keep, chat, conv, keep
                return
            shown = (message or "").strip()
            shown = shown[:80] + "…" if len(shown) > 80 else shown
            chat += [{"role": "user", "content": render.question_html(shown)},
                     {"role": "assistant", "content": render.notice_html(str(e))}]
            yield keep, chat, conv, keep  # the text stays in the box so the user can shorten it
            return
        history = conv.questions()
        checking = self.state.llm is not None  # a model's sentences show only once verified: say so meanwhile
        chat += [{"role": "user", "content": render.question_html(q)},
                 {"role": "assistant", "content": render.streaming_html("", checking=checking)}]
        yield ("" if from_input else keep), chat, conv, keep

        deltas: queue.Queue[str] = queue.Queue()
        fut = self._pool.submit(self.state.ask, q, history, deltas.put)
        shown_text = ""
        deadline = time.monotonic() + ASK_TIMEOUT_S
        while not (fut.done() and deltas.empty()) and time.monotonic() < deadline:
            try:
                delta = deltas.get(timeout=0.05)
            except queue.Empty:
                continue
            # an extractive answer arrives as one delta: show it in pieces so it reads as a reply
            # (a model's token deltas are already small and are passed on without a pause)
            pause = STREAM_PAUSE_S if len(delta) > STREAM_CHUNK else 0.0
            for i in range(0, len(delta), STREAM_CHUNK):
                shown_text += delta[i : i + STREAM_CHUNK]
                chat[-1] = {"role": "assistant", "content": render.streaming_html(shown_text, checking=checking)}
                yield keep, chat, conv, keep
                if pause:
                    time.sleep(pause)
        try:
            ans = fut.result(timeout=max(0.0, deadline - time.monotonic()))
        except Exception:
            log.exception("answering failed")
            chat[-1] = {"role": "assistant", "content": render.notice_html("抱歉，系统暂时无法回答，请稍后再试。")}
            yield keep, chat, conv, keep
            return
        # the final text replaces what was streamed: an LLM answer may be corrected by verification
        conv.turns.append(ChatTurn(q, history, ans))
        chat[-1] = self._reply(len(conv.turns) - 1, conv.turns[-1], last=True)
        yield keep, chat, conv, conv.to_json()

    # ---- the tab's stored copy ---------------------------------------------------------------
    def restore(self, saved: str | None) -> tuple[Any, Conversation, str]:
        """The conversation this tab stored before a reload, rendered afresh from the index."""
        conv = Conversation.from_json(saved)
        examples = [{"text": q} for q in self.examples()]
        return gr.Chatbot(value=self.render_chat(conv), examples=examples), conv, conv.to_json() if conv.turns else ""

    @staticmethod
    def new_conversation() -> tuple[list[Message], Conversation, str, str, str, Any]:
        """新对话: the chat, the input box, the reason box and the tab's stored copy are all cleared."""
        return [], Conversation(), "", "", "", gr.update(visible=False)

    # ---- feedback ----------------------------------------------------------------------------
    def _store(self, turn: ChatTurn, rating: str, comment: str) -> int:
        a = turn.answer
        return self.state.feedback.add(question=turn.question, history=turn.history, answer=a.to_json(),
                                       rating="up" if rating == "up" else "down", comment=comment or "",
                                       clause_ids=[c.clause_id for c in a.citations if c.clause_id])

    def rate(self, chat: list[Message] | None, conv: Conversation | None, evt: gr.LikeData
             ) -> tuple[Conversation, str, Any, str]:
        """👍/👎 on an answer: stored at once; the reason box opens for an optional reason."""
        conv = conv or Conversation()
        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        msg = (chat or [])[index] if isinstance(index, int) and 0 <= index < len(chat or []) else evt.value
        m = _TURN.search(_content_text(msg))
        if evt.liked not in (True, False) or m is None or int(m.group(1)) >= len(conv.turns):
            return conv, gr.skip(), gr.skip(), gr.skip()
        n = int(m.group(1))
        rating = "up" if evt.liked else "down"
        fid = self._store(conv.turns[n], rating, "")
        turns = list(conv.turns)
        turns[n] = replace(turns[n], feedback_id=fid)
        thanks = "感谢您的肯定！" if rating == "up" else "感谢反馈，我们会改进这个回答。"
        return Conversation(turns), "", gr.update(visible=True), f"{thanks}可以补充原因（选填）："

    def give_reason(self, reason: str, conv: Conversation | None) -> tuple[str, Any, str]:
        rated = [t for t in (conv.turns if conv else []) if t.feedback_id is not None]
        if not rated or not (reason or "").strip():
            return reason, gr.skip(), "请先填写原因，或直接关闭。"
        self.state.feedback.set_comment(rated[-1].feedback_id or 0, reason)
        return "", gr.update(visible=False), "已记录，谢谢！"

    def feedback(self, rating: str, comment: str, conv: Conversation | None) -> tuple[str, str]:
        """Rate the latest answer with a comment in one call (the `feedback_up` / `feedback_down` API)."""
        if not conv or not conv.turns:
            return comment, "还没有可以评价的回答。"
        self._store(conv.turns[-1], rating, comment)
        return "", "感谢反馈！" + ("我们会改进这个回答。" if rating != "up" else "")

    def feedback_up(self, comment: str, conv: Conversation | None) -> tuple[str, str]:
        return self.feedback("up", comment, conv)

    def feedback_down(self, comment: str, conv: Conversation | None) -> tuple[str, str]:
        return self.feedback("down", comment, conv)


def build_chat_blocks(state: AppState) -> gr.Blocks:
    h = ChatHandlers(state)
    limit = state.settings.max_question_chars
    # delete_cache: gradio keeps a copy of every returned file; drop them after an hour
    with gr.Blocks(title="政策问答", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown("## 政策问答\n输入您的问题，回答摘自政策文件原文；点击 [1] 等编号可查看条款原文。"
                    "请以文件原文为准。")
        conv = gr.State(Conversation())
        chat = gr.Chatbot(label="对话", show_label=False, height="62vh", min_height=360, elem_id="chat",
                          buttons=[], feedback_options=("Like", "Dislike"),
                          examples=[{"text": q} for q in h.examples()],
                          placeholder="您可以这样问（点击即问）：")
        with gr.Row(elem_id="ask-row"):
            msg = gr.Textbox(placeholder=f"请输入问题（{limit} 字以内），按回车发送", show_label=False,
                             label="问题", scale=5, elem_id="question", lines=1, max_lines=4, min_width=160)
            send = gr.Button("发送", variant="primary", scale=1, elem_id="send", min_width=64)
            new = gr.Button("新对话", scale=1, elem_id="new-conversation", min_width=64)
        with gr.Row(visible=False, elem_id="feedback-reason") as reason_row:
            reason = gr.Textbox(label="原因（选填）", lines=1, max_length=2000, scale=4, elem_id="reason")
            reason_btn = gr.Button("提交原因", size="sm", scale=1, min_width=80, elem_id="reason-submit")
        fb_status = gr.Markdown(elem_id="feedback-status")
        # the tab's stored copy of the conversation (sessionStorage), as JSON
        saved = gr.Textbox(visible=False, elem_id="saved-conversation")
        # API-only: rate the latest answer with a comment in one call
        api_comment = gr.Textbox(visible=False)
        api_status = gr.Textbox(visible=False)
        api_up = gr.Button(visible=False)
        api_down = gr.Button(visible=False)

        def save() -> dict[str, Any]:
            return {"fn": None, "inputs": [saved], "outputs": None, "js": SAVE_JS, "api_visibility": "private"}

        ask_io: dict[str, Any] = {"fn": h.respond, "inputs": [msg, chat, conv], "outputs": [msg, chat, conv, saved]}
        msg.submit(**ask_io, api_visibility="private").then(**save())
        api_ask = gr.Button(visible=False)
        api_ask.click(h.respond_api, [msg, chat, conv], [msg, chat, conv], api_name="ask")
        send.click(**ask_io, api_visibility="private").then(**save())
        chat.option_select(h.ask_option, [chat, conv], [msg, chat, conv, saved], api_visibility="private").then(
            **save())
        chat.example_select(h.ask_example, [chat, conv], [msg, chat, conv, saved], api_visibility="private").then(
            **save())
        cleared = [chat, conv, msg, saved, reason, reason_row]
        new.click(h.new_conversation, None, cleared, api_name="new_conversation").then(**save())
        chat.clear(h.new_conversation, None, cleared, api_visibility="private").then(**save())
        chat.like(h.rate, [chat, conv], [conv, reason, reason_row, fb_status], api_visibility="private")
        reason_btn.click(h.give_reason, [reason, conv], [reason, reason_row, fb_status], api_visibility="private")
        reason.submit(h.give_reason, [reason, conv], [reason, reason_row, fb_status], api_visibility="private")
        api_up.click(h.feedback_up, [api_comment, conv], [api_comment, api_status], api_name="feedback_up")
        api_down.click(h.feedback_down, [api_comment, conv], [api_comment, api_status], api_name="feedback_down")
        demo.load(h.restore, [saved], [chat, conv, saved], js=LOAD_JS, api_visibility="private")
    demo.queue(max_size=state.settings.queue_max_size,
               default_concurrency_limit=state.settings.concurrency_limit)
    return demo
