"""The public page: 政策问答 for enterprises (chat with streamed, cited answers and feedback)."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from core.records import Answer, Clause, PolicyDocument
from webapp import render
from webapp.state import AppState, QuestionError

log = logging.getLogger(__name__)

EXAMPLES = [
    "奉节县“无废奉节”信息化平台由哪个单位牵头、什么时候完成？",
    "我们在万州新注册的软件企业，首次纳入规上统计能拿多少奖励？",
    "5G基站要建多少个？",
]
STREAM_CHUNK = 12  # characters per streamed update of an answer that arrived in one piece
STREAM_PAUSE_S = 0.015
ASK_TIMEOUT_S = 180.0

Message = dict[str, Any]  # gradio's chat message: {"role", "content"}


@dataclass(frozen=True)
class ChatTurn:
    question: str
    history: list[str]  # the questions asked before this one, oldest first
    answer: Answer


@dataclass
class Conversation:
    """What the chat page keeps per browser session: the turns answered so far."""

    turns: list[ChatTurn] = field(default_factory=list)

    def questions(self) -> list[str]:
        return [t.question for t in self.turns]


def _sources(state: AppState, ans: Answer) -> list[tuple[Clause | None, PolicyDocument | None]]:
    out: list[tuple[Clause | None, PolicyDocument | None]] = []
    with state.reading() as idx:
        for c in ans.citations:
            out.append((idx.clause(c.clause_id) if c.clause_id else None, idx.docs.get(c.doc_id)))
    return out


class ChatHandlers:
    def __init__(self, state: AppState) -> None:
        self.state = state
        # bot.ask runs here so the gradio worker can stream the deltas it reports while it works
        self._pool = ThreadPoolExecutor(max_workers=max(1, state.settings.concurrency_limit),
                                        thread_name_prefix="ask")

    def respond(self, message: str, chat: list[Message] | None, conv: Conversation | None
                ) -> Iterator[tuple[str, list[Message], Conversation]]:
        chat = list(chat or [])
        conv = Conversation(list(conv.turns)) if conv else Conversation()
        try:
            q = self.state.check_question(message)
        except QuestionError as e:
            if e.status_code == 422:  # nothing typed: nothing to show
                yield "", chat, conv
                return
            shown = (message or "").strip()
            shown = shown[:80] + "…" if len(shown) > 80 else shown
            chat += [{"role": "user", "content": render.question_html(shown)},
                     {"role": "assistant", "content": render.notice_html(str(e))}]
            yield message, chat, conv  # keep the text so the user can shorten it
            return
        history = conv.questions()
        chat += [{"role": "user", "content": render.question_html(q)},
                 {"role": "assistant", "content": render.streaming_html("")}]
        yield "", chat, conv

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
                chat[-1] = {"role": "assistant", "content": render.streaming_html(shown_text)}
                yield "", chat, conv
                if pause:
                    time.sleep(pause)
        try:
            ans = fut.result(timeout=max(0.0, deadline - time.monotonic()))
        except Exception:
            log.exception("answering failed")
            chat[-1] = {"role": "assistant", "content": render.notice_html("抱歉，系统暂时无法回答，请稍后再试。")}
            yield "", chat, conv
            return
        # the final text replaces what was streamed: an LLM answer may be corrected by verification
        chat[-1] = {"role": "assistant", "content": render.answer_html(ans, _sources(self.state, ans))}
        conv.turns.append(ChatTurn(q, history, ans))
        yield "", chat, conv

    def feedback(self, rating: str, comment: str, conv: Conversation | None) -> tuple[str, str]:
        if not conv or not conv.turns:
            return comment, "还没有可以评价的回答。"
        last = conv.turns[-1]
        self.state.feedback.add(question=last.question, history=last.history, answer=last.answer.to_json(),
                                rating="up" if rating == "up" else "down", comment=comment or "")
        return "", "感谢反馈！" + ("我们会改进这个回答。" if rating != "up" else "")

    def feedback_up(self, comment: str, conv: Conversation | None) -> tuple[str, str]:
        return self.feedback("up", comment, conv)

    def feedback_down(self, comment: str, conv: Conversation | None) -> tuple[str, str]:
        return self.feedback("down", comment, conv)

    @staticmethod
    def new_conversation() -> tuple[list[Message], Conversation, str, str]:
        return [], Conversation(), "", ""


def build_chat_blocks(state: AppState) -> gr.Blocks:
    h = ChatHandlers(state)
    limit = state.settings.max_question_chars
    # delete_cache: gradio keeps a copy of every returned file; drop them after an hour
    with gr.Blocks(title="政策问答", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown("## 政策问答\n输入您的问题，回答摘自政策文件原文并附出处；请以文件原文为准。"
                    "　[工作人员入口](/staff/)")
        conv = gr.State(Conversation())
        with gr.Tab("政策问答"):
            chat = gr.Chatbot(label="对话", height="62vh", min_height=420, elem_id="chat", feedback_options=None,
                              buttons=["copy"], placeholder="例如：某项任务由哪个单位牵头？奖励标准是多少？")
            with gr.Row():
                msg = gr.Textbox(placeholder=f"请输入问题（{limit} 字以内），按回车发送", show_label=False,
                                 scale=5, elem_id="question", lines=1, max_lines=4)
                send = gr.Button("发送", variant="primary", scale=1, elem_id="send", min_width=80)
                new = gr.Button("新对话", scale=1, elem_id="new-conversation", min_width=80)
            gr.Markdown("示例问题（点击即问）：")
            with gr.Row():
                example_buttons = [gr.Button(q, size="sm", elem_classes="pb-example") for q in EXAMPLES]
            with gr.Accordion("对最近的回答提出反馈", open=False):
                comment = gr.Textbox(label="意见（选填）", lines=2, max_length=2000)
                with gr.Row():
                    up = gr.Button("👍 有帮助", size="sm")
                    down = gr.Button("👎 没帮助", size="sm")
                fb_status = gr.Markdown()

        ask_io: dict[str, Any] = {"fn": h.respond, "inputs": [msg, chat, conv], "outputs": [msg, chat, conv]}
        msg.submit(**ask_io, api_name="ask")
        send.click(**ask_io, api_visibility="private")
        for b, q in zip(example_buttons, EXAMPLES, strict=True):
            b.click(lambda q=q: q, None, msg, api_visibility="private", queue=False).then(
                **ask_io, api_visibility="private")
        new.click(h.new_conversation, None, [chat, conv, comment, fb_status], api_name="new_conversation")
        chat.clear(Conversation, None, conv, api_visibility="private")
        up.click(h.feedback_up, [comment, conv], [comment, fb_status], api_name="feedback_up")
        down.click(h.feedback_down, [comment, conv], [comment, fb_status], api_name="feedback_down")
    demo.queue(max_size=state.settings.queue_max_size,
               default_concurrency_limit=state.settings.concurrency_limit)
    return demo
