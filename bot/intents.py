"""What a question asks for: cue words where they are precise, the nearest example questions where no cue
word speaks (a paraphrase like "营收要到多少" still finds the target examples)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import numpy as np

from bot.language import FACET_CUES, FACET_ORDER, YES_NO_ELIGIBILITY

_MONEY = re.compile(r"钱|奖|补|资助|贷|借|额度|万元|元|封顶|利率|贴息|报销|费|租金|房租|价格|工资|薪")
_COUNTED = re.compile(r"(多少|几)(个|家|人|户|所|座|台|名|项|场|次|平方|亩|公里|千米|亿元?|万人|万户|%|倍)")
# cue words of the amount facet that name money themselves (the rest, "最高"/"上限"/"最多能", may not)
_MONEY_CUES = (
    "多少钱", "金额", "奖金", "资金", "额度", "利率", "贴息", "报销", "万元", "补贴标准", "奖励标准", "资助标准",
    "拿多少", "给多少", "补多少", "发多少", "奖多少",
)
_TASK = re.compile(r"完成|建成|时限|截止|任务")
_ISSUED_WHEN = re.compile(
    r"(什么时候|啥时候|何时|哪天|哪年|几月|哪一天)\S{0,2}(印发|发布|出台|发的|出的|颁布|下发|公布)"
)
# "哪个部门出的", "谁发布的": who issued the document, not whom to contact
_ISSUED_BY = re.compile(r"(哪个|哪家|什么|哪些)(部门|单位|机关|机构)\S{0,2}(印发|发布|出台|制定|出的|颁布|下发|发文)|"
                        r"谁(印发|发布|出台|制定|出的|颁布|下发)")
# "有啥入统奖励", "补贴吗": asking about a benefit is asking for its amount
_BENEFIT_ASK = re.compile(r"(啥|什么|哪些|哪种|有没有|多少|几)[^，,。？?]{0,8}(奖励|补贴|补助|资助|奖补|奖金)|"
                          r"(奖励|补贴|补助|资助|奖补)\s*(吗|呢|多少|几)")


def cue_facets(text: str) -> list[str]:
    """Facets whose cue words the text uses, in FACET_ORDER, with the overlaps people's wording creates
    settled: "什么时候印发" is about the document, not a deadline; "奖励多少" names an amount, not a target."""
    found = [f for f in FACET_ORDER if f != "list" and any(w in text for w in FACET_CUES[f])]
    if "metadata" not in found and _ISSUED_WHEN.search(text):
        found.insert(0, "metadata")
    if _ISSUED_BY.search(text) and not _TASK.search(text):
        found = ["metadata", *(f for f in found if f not in ("metadata", "contact"))]
    if "metadata" in found and "deadline" in found and not _TASK.search(text):
        found.remove("deadline")
    if "validity" in found and "deadline" in found and not _TASK.search(text):
        found.remove("deadline")
    if "amount" in found and not _MONEY.search(text) and not any(w in text for w in _MONEY_CUES):
        found.remove("amount")  # "最多能开几个月": a limit, but not of money
    if "amount" in found and "target" in found:
        found.remove("target" if _MONEY.search(text) else "amount")
    if not found and YES_NO_ELIGIBILITY.search(text):
        found.append("eligibility")  # "能申请某某奖励吗": whether, not how much
    if "amount" not in found and _BENEFIT_ASK.search(text) and not {"eligibility", "procedure"} & set(found):
        found.append("amount")
    if "多少" in text and not {"amount", "target"} & set(found):
        # a bare "多少": money words make it an amount, counted things a target
        if _MONEY.search(text):
            found.append("amount")
        elif _COUNTED.search(text):
            found.append("target")
    return sorted(found, key=FACET_ORDER.index)


def names_money(text: str) -> bool:
    return bool(_MONEY.search(text))


def is_list_question(text: str) -> bool:
    return any(w in text for w in FACET_CUES["list"])


def load_exemplars() -> list[tuple[str, str]]:
    text = resources.files("bot").joinpath("data/intent_exemplars.tsv").read_text("utf-8")
    out = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            facet, question = line.split("\t", 1)
            out.append((facet.strip(), question.strip()))
    return out


@dataclass
class ExemplarIndex:
    facets: list[str]
    vectors: np.ndarray  # unit vectors, one row per example

    def nearest(self, vector: np.ndarray, *, k: int, min_similarity: float, margin: float) -> str | None:
        """The facet of the k nearest examples (mean similarity), if it is close enough and leads the runner-up
        by the margin; else None (the question stays without a facet rather than getting a guessed one)."""
        if not len(self.facets):
            return None
        v = vector / (np.linalg.norm(vector) or 1.0)
        sims = self.vectors @ v
        per: dict[str, float] = {}
        for f in set(self.facets):
            s = np.sort(sims[[i for i, x in enumerate(self.facets) if x == f]])[::-1][:k]
            per[f] = float(s.mean())
        ranked = sorted(per.items(), key=lambda x: -x[1])
        best, score = ranked[0]
        runner = ranked[1][1] if len(ranked) > 1 else -1.0
        if score < min_similarity or score - runner < margin:
            return None
        return best
