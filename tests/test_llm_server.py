"""Against a real OpenAI-compatible server, when one is configured; skipped otherwise.

    POLICYBOT_TEST_LLM_URL=http://127.0.0.1:8080/v1      the server (required to run)
    POLICYBOT_TEST_LLM_MODEL=name                       default: the first model the server lists
    POLICYBOT_TEST_LLM_CONTEXT=4096                     its context, when the server does not report one
    POLICYBOT_TEST_LLM_REPORT=llm-run.json              where to write what was measured

The help-desk limits are the settings' (POLICYBOT_LLM_FIRST_TOKEN_S, POLICYBOT_LLM_TIMEOUT_S from the
environment, as for the app), so a slow server can also be measured with longer ones.

The checks hold whatever the model writes: an answer is either the model's, every sentence of it passing
verification against the clauses it cites, under the AI生成 label; or the extractive one, with the reason.
Either way the model's part stays within the help-desk limits. How many answers were the model's is a
property of the model, written to the report, not asserted.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from bot import verify
from bot.llm import LLMAnswerer, probe_server

URL = os.environ.get("POLICYBOT_TEST_LLM_URL", "")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not URL, reason="POLICYBOT_TEST_LLM_URL is not set: no real LLM server to test")]

QUESTIONS = [
    "万州首次纳入规上统计的软件企业奖励多少？",
    "万州国家专精特新小巨人软件企业奖励多少？",
    "奉节数据产业归哪个单位牵头？",
    "无废奉节信息化平台什么时候完成？",
    "奉节县对科技型企业研发投入有什么奖励？",
    "重庆市数字产业发展规划的目标是什么？",
]
# What the model's part of an answer may take beyond the configured limit: the thread hand-over and
# the last check, on a busy 2-core machine.
SLACK_MS = 1500


@pytest.fixture(scope="module")
def llm_settings(settings_factory, sample_index_dir):
    info = probe_server(URL, "not-needed", timeout=5)
    assert info.reachable, f"POLICYBOT_TEST_LLM_URL={URL} does not answer: {info.error}"
    model = os.environ.get("POLICYBOT_TEST_LLM_MODEL") or (info.models[0] if info.models else "default")
    # every question goes to the server (no skipping after a failure): each answer is measured
    kw: dict[str, Any] = {"llm_base_url": URL, "llm_model": model, "llm_cooldown_s": 0}
    if os.environ.get("POLICYBOT_TEST_LLM_CONTEXT"):
        kw["llm_context_window"] = int(os.environ["POLICYBOT_TEST_LLM_CONTEXT"])
    return settings_factory(sample_index_dir, **kw)


def _report(key: str, value: Any) -> None:
    path = os.environ.get("POLICYBOT_TEST_LLM_REPORT")
    if not path:
        return
    p = Path(path)
    data = json.loads(p.read_text("utf-8")) if p.is_file() else {}
    data[key] = value
    p.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")


def test_the_start_up_probe_names_the_model_and_the_context(llm_settings):
    llm = LLMAnswerer.from_settings(llm_settings)
    status = llm.status()
    _report("status", status)
    assert status["reachable"] is True and status["last_error"] is None
    assert llm_settings.llm_model in status["served_models"]
    assert status["context_window"], "the server reports no context: set POLICYBOT_TEST_LLM_CONTEXT"
    assert llm.fixed_prompt_tokens() + llm_settings.llm_context_tokens + llm_settings.llm_max_tokens \
        <= status["context_window"]


def test_the_server_stops_a_reply_at_max_tokens(llm_settings):
    # a long first-token wait: a one-slot server may still be finishing a reply an earlier test gave up on
    settings = llm_settings.model_copy(update={"llm_max_tokens": 16, "llm_first_token_s": 120.0})
    llm = LLMAnswerer.from_settings(settings)
    reply = llm.model.invoke("请用五百字介绍一下企业申请政府补贴的一般流程。")
    usage = reply.response_metadata.get("token_usage") or {}
    _report("max_tokens_16", {"completion_tokens": usage.get("completion_tokens"),
                              "finish_reason": reply.response_metadata.get("finish_reason")})
    assert 0 < usage["completion_tokens"] <= 16


def test_each_answer_is_verified_or_falls_back_with_its_reason_within_the_limits(
        llm_settings, sample_index, sample_index_dir):
    from bot.chat import PolicyBot

    extractive_bot = PolicyBot(sample_index, settings=llm_settings)
    bot = PolicyBot(sample_index, settings=llm_settings, llm=LLMAnswerer.from_settings(llm_settings))
    limit_ms = llm_settings.llm_timeout_s * 1000 + SLACK_MS
    rows = []
    for q in QUESTIONS:
        streamed: list[tuple[float, str]] = []
        t = time.monotonic()
        ans = bot.ask(q, stream=lambda s, t=t, out=streamed: out.append((time.monotonic() - t, s)))
        took_ms = (time.monotonic() - t) * 1000
        extractive = extractive_bot.ask(q)
        row = {"question": q, "mode": ans.mode, "fallback_reason": ans.fallback_reason,
               "first_token_ms": ans.timings.get("llm_first_token_ms"), "llm_ms": ans.timings.get("llm_ms"),
               "answer_ms": took_ms, "first_shown_ms": streamed[0][0] * 1000 if streamed else None,
               "answer": ans.answer}
        rows.append(row)
        _report("answers", rows)
        if extractive.refused:
            assert ans.mode == "extractive" and ans.answer == extractive.answer  # nothing to write from
            continue
        assert ans.timings["llm_ms"] <= limit_ms, row
        first = ans.timings.get("llm_first_token_ms")
        # counted from the question: a try without a first token in time is given up, one more is allowed
        tries = 1 + llm_settings.llm_retries
        assert first is None or first <= tries * llm_settings.llm_first_token_s * 1000 + SLACK_MS, row
        if ans.mode == "llm":
            assert ans.label == "AI生成" and ans.fallback_reason is None
            body, _, refs = ans.answer.partition("\n\n")
            # the answer's [n] are its citations in order: each sentence checked again against them
            sources = [verify.source_of(sample_index.clause(c.clause_id), sample_index.docs.get(c.doc_id))
                       for c in ans.citations]
            assert verify.reply_problems(body, sources, min_support=llm_settings.verify.min_support) == [], row
            assert all(c.quote in sample_index.clause(c.clause_id).text for c in ans.citations)
            # what streamed is what the answer holds, sentence by sentence, before the source list
            assert "".join(s for _, s in streamed[:-1]).strip() == body.strip() and refs
        else:
            assert ans.label is None and ans.fallback_reason, row
            assert ans.answer == extractive.answer
    _report("summary", {
        "model_answers": sum(r["mode"] == "llm" for r in rows),
        "fallbacks": sum(r["mode"] != "llm" for r in rows),
        "reasons": [r["fallback_reason"] for r in rows if r["fallback_reason"]],
    })
