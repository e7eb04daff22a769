"""Checks that keep answers honest: term support, verbatim quotes, numbers that the cited clauses state."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from core.records import Clause, PolicyDocument
from core.text import norm

# Words enterprises type that carry no topic: dropped before judging whether a clause answers.
FILLER = set(
    "公司 我司 本公司 我们 咱们 企业 单位 钱 能拿 拿 奖 多少 多少钱 可以 能 给 有 没有 是否 是不是 请问 "
    "一下 政策 文件 规定 事项 这个 那个 情况 相关 具体 新 刚 想 问 知道 告诉 帮 查 查查 看看 哪 哪里 哪个 "
    "哪些 什么 怎么 怎样 如何 吗 呢 啊 呀 吧 要 需要 应该 得 就 都 还 也 又 再 呗 嘛 里 中 对 给予 享受 "
    "申请 获得 领 领取 补 奖励 补贴 资金 金额 万元 元 牵头 单位 部门 负责 责任 配合 时候 什么时候 完成 "
    "时限 截止 时间 目标 指标 条件 要求 流程 办理 区 县 市 重庆 重庆市 全市 现在 目前 今年 明年 去年 个 "
    "家 些 次 年 月 日 号 第 项 条 款 方面 关于 有关 所说 提到 规划 方案 计划 那 那么 它 其 这 该 里面 "
    "之前 之后 以后 以前 能不能 可不可以 有没有 多久 多长 几 几个 到底 一共 总共 分别 各 实施 实施方案 "
    "行动 行动计划 满足 什么样 哪类 哪种 主要 针对 才行 这些 那些 第一步 一步 第一 做完 完后 干啥 啥 该干 "
    "能用 可用 用 算 属于 适合 拿到 到手 发放 发 给钱 标准 多大 多长 多高 一般 大概 左右 目前 新 注册 "
    "大型 中型 小型 本地 我家 人能 后能 最多 最多能 能申请 申报".split()
)
# How enterprises say it → how the documents say it.
SYNONYMS = {
    "第一次": "首次", "规上": "规模以上", "最多": "最高", "社保": "社会保险", "本科生": "本科", "研究生": "本科以上",
    "做完": "完成", "新招": "新引进", "招聘": "引进", "补钱": "奖励", "营收": "营业", "入统": "纳入统计",
    "软信": "软件和信息服务", "合同期": "合同", "劳动合同": "劳动", "扶持": "支持", "帮扶": "支持",
    "资助": "奖励", "优惠政策": "政策",
}
_NUM_RE = re.compile(r"\d+(?:\.\d+)?")


_LEAD_FN = "要能可会该需得想给让把被都还再也就请"
_TAIL_FN = "了的吗呢吧啊呀么才"
_QUESTION_WORD = re.compile(r"^(几|多少|哪|啥|什么|怎)")


def content_terms(tokens: Iterable[str], extra_stop: Iterable[str] = ()) -> list[str]:
    """Topic words of a question: fillers, question words and a leading '要/能…' dropped ('要建' → '建')."""
    stop = FILLER | set(extra_stop)
    out: list[str] = []
    for t in tokens:
        if len(t) >= 2 and t not in stop:
            t = t.lstrip(_LEAD_FN).rstrip(_TAIL_FN) or t
        if t in stop or t in out or _QUESTION_WORD.match(t):
            continue
        if len(t) < 2 and not re.fullmatch(r"[0-9a-z]+", t):
            continue
        out.append(t)
    return out



def clause_context(c: Clause, doc: PolicyDocument | None) -> str:
    parts = [c.text, " ".join(c.path), " ".join(c.lead_units + c.responsible_units)]
    if doc:
        parts += [doc.title, doc.region or "", " ".join(doc.aliases)]
    return norm(" ".join(parts)).lower()


def term_match(term: str, context_norm: str) -> float:
    """1 when the context states the term (or its documentary synonym), 0.5 for a 2-character core of
    a longer colloquial word ('本科生' → '本科'), else 0."""
    t = norm(term).lower()
    if t in context_norm:
        return 1.0
    syn = SYNONYMS.get(term)
    if syn and norm(syn).lower() in context_norm:
        return 1.0
    if len(t) >= 3 and any(t[i : i + 2] in context_norm for i in range(len(t) - 1)):
        return 0.5
    return 0.0


def coverage(terms: list[str], weights: dict[str, float], context_norm: str) -> float:
    total = sum(weights.get(t, 1.0) for t in terms)
    if total <= 0:
        return 0.0
    hit = sum(weights.get(t, 1.0) * term_match(t, context_norm) for t in terms)
    return hit / total


def numbers_in(text: str) -> list[str]:
    return _NUM_RE.findall(unicodedata.normalize("NFKC", text))


def unsupported_numbers(answer_body: str, sources: list[str]) -> list[str]:
    """Numbers in the answer that none of the cited sources state (citation markers excluded)."""
    body = re.sub(r"\[\d+\]", "", answer_body)
    src = norm(" ".join(sources))
    src_numbers = set(numbers_in(src))
    bad = []
    for n in numbers_in(body):
        if n not in src_numbers and n not in src:
            bad.append(n)
    return bad


def sentences(text: str) -> list[str]:
    """Verbatim sentence pieces of a clause (split after 。；, tab-separated cells kept apart)."""
    out = []
    for cell in text.split("\t"):
        out += [s for s in re.split(r"(?<=[。；;！？!?])", cell) if s.strip()]
    return out


def best_sentences(
    text: str,
    terms: list[str],
    weights: dict[str, float],
    *,
    prefer: re.Pattern[str] | None,
    limit: int = 2,
    skip: str = "",
) -> list[str]:
    sents = sentences(text)
    if len(sents) > 1 and skip:
        # the numbered heading sentence ("3.开展“揭榜挂帅”。") names the topic but answers nothing
        sents = [s for s in sents if not (skip in s and len(norm(s)) <= len(norm(skip)) + 4)] or sents
    total = sum(weights.get(t, 1.0) for t in terms) or 1.0
    if not sents:
        return [text]
    scored = []
    for i, s in enumerate(sents):
        sn = norm(s).lower()
        score = sum(weights.get(t, 1.0) for t in terms if norm(t).lower() in sn)
        if prefer is not None and prefer.search(s):
            score += 0.5 * total
        scored.append((score, -i, s))
    scored.sort(reverse=True)
    return [s for sc, _, s in scored[:limit] if sc > 0] or [sents[0]]  # best first


_INJECTION = re.compile(
    r"忽略(以上|上述|之前|前面|所有)?(的)?(指令|指示|提示|规则|要求)|无视(以上|上述)?(指令|规则)|你现在是|请你扮演|"
    r"系统提示|ignore (all |the )?(previous|above|prior) (instructions|prompts)|disregard (the )?above|"
    r"you are now|system prompt",
    re.IGNORECASE,
)


def looks_like_injection(text: str) -> bool:
    """Text addressed to a model rather than to readers: never answered from, never shown to a model."""
    return bool(_INJECTION.search(text))


# Kinds of benefit that are not interchangeable: a clause about 租金 does not answer a 税收 question.
# (奖励 / 补贴 / 补助 are used loosely by askers and are left out on purpose.)
BENEFIT_KINDS = ("税收", "减免", "贴息", "租金", "免租", "安家", "购房", "贷款", "担保", "融资", "用地", "电价", "股权")


def benefit_mismatch(question: str, context_norm: str) -> list[str]:
    """Benefit kinds the question names that the clause does not mention."""
    q = norm(question)
    return [b for b in BENEFIT_KINDS if b in q and b not in context_norm]
