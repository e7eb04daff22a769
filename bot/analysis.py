"""Question analysis without a model: intent facets, region and document, follow-up resolution."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from core.records import PolicyDocument
from core.regions import gazetteer

# Facets a question can ask for; a question may ask for several ("谁牵头、什么时候完成").
FACET_WORDS: dict[str, tuple[str, ...]] = {
    "metadata": ("文号", "发文", "印发日期", "发布日期", "发布时间", "印发时间", "什么时候印发", "什么时候发布",
                 "哪天印发", "哪天发布", "何时印发", "何时发布", "哪个单位印发", "哪个单位发布", "谁印发", "谁发布",
                 "发文单位", "发文机关", "标题", "全称", "文件名", "哪些文件", "哪些政策文件", "几个文件", "落款",
                 "哪天发布", "哪天发的", "什么时候发的", "哪个单位发的", "谁发的", "会议通过", "会议审议", "常务会议",
                 "落实哪个", "依据哪个", "根据哪个文件", "哪一天", "什么时间发", "谁制定", "制定单位", "哪个部门制定",
                 "谁出台", "哪个部门出台"),
    "validity": ("有效", "失效", "过期", "到期", "还能用", "还适用", "废止", "征求意见", "正式文件", "正式印发",
                 "实施期限", "执行期限", "规划期", "有效期", "期限是", "什么时候结束", "截止到哪", "适用期", "草案",
                 "还在执行", "还执行", "生效", "实施到", "执行到", "有效到", "管到什么时候", "实施期", "执行期",
                 "正式政策", "政策依据", "依据去申报"),
    "contact": ("牵头", "哪个单位", "哪个部门", "哪些单位", "哪些部门", "找谁", "找哪", "谁负责", "负责单位",
                "责任单位", "责任部门", "配合单位", "配合部门", "归谁", "归哪", "谁管", "主管", "联系", "对接",
                "负责", "办公室设在"),
    "deadline": ("什么时候完成", "何时完成", "完成时限", "时限", "截止", "最晚", "哪年完成", "什么时候建成",
                 "何时建成", "几月", "什么时候之前", "完成时间", "什么时候", "何时", "哪一年", "哪年"),
    "amount": ("多少钱", "奖励多少", "奖多少", "补贴多少", "补助多少", "给多少", "能拿多少", "拿多少", "多少奖励",
               "多少补贴", "多少补助", "万元", "奖金", "金额", "最高", "上限", "最多能奖", "奖励标准", "补贴标准",
               "多少资金", "贷多少", "有多大", "规模有多", "补多少", "有补贴吗", "有奖励吗", "有没有补贴",
               "有没有奖励", "给补贴吗", "给奖励吗", "有补助吗"),
    "eligibility": ("条件", "资格", "符合", "门槛", "要求", "哪些企业", "什么企业", "什么样的企业", "能不能享受",
                    "可以享受", "能享受", "需要满足", "满足什么", "适用于", "算不算", "够不够"),
    "procedure": ("怎么申请", "如何申请", "怎么办理", "如何办理", "流程", "程序", "步骤", "怎么办", "渠道",
                  "先要", "先向", "提交", "怎么报", "如何报", "申报", "怎么做", "如何做", "机制"),
    "target": ("目标", "指标", "达到多少", "要建多少", "建多少", "多少个", "多少家", "多少人", "多少户", "多少所",
               "要达到", "任务是", "规模", "比重", "占比", "覆盖率", "多少平方米", "多少亿", "增长"),
}
FACET_ORDER = ("metadata", "validity", "contact", "deadline", "amount", "eligibility", "procedure", "target")

FOLLOW_UP_RE = re.compile(
    r"^(那|那么|这个|那个|它|其|还有|另外|再|此外|以及|并且|而|那如果)|[呢吗]？?$|它|其中|这项|该项|这条"
)

# Regions users name that the corpus may not cover: a question about them must not be answered
# from another region's document.
KNOWN_PLACES = (
    "万州", "黔江", "涪陵", "渝中", "大渡口", "江北", "沙坪坝", "九龙坡", "南岸", "北碚", "綦江", "大足", "渝北",
    "巴南", "长寿", "江津", "合川", "永川", "南川", "璧山", "铜梁", "潼南", "荣昌", "开州", "梁平", "武隆", "城口",
    "丰都", "垫江", "忠县", "云阳", "奉节", "巫山", "巫溪", "石柱", "秀山", "酉阳", "彭水", "两江新区",
    "北京", "上海", "天津", "成都", "四川", "贵州", "云南", "广东", "深圳", "广州", "杭州", "浙江", "江苏", "南京",
    "武汉", "湖北", "湖南", "长沙", "西安", "陕西", "山东", "济南", "青岛", "福建", "厦门", "河南", "郑州", "全国",
)


@dataclass
class Analysis:
    question: str
    effective_question: str  # the question with what a follow-up leaves implicit filled in from history
    facets: list[str]
    regions: list[str]  # catalog regions named (or carried over from history)
    doc_ids: list[str]  # documents named by title, nickname or 文号
    foreign_places: list[str]  # places named that no document covers
    follow_up: bool = False
    history_terms: str = ""
    list_mode: bool = False
    wants: set[str] = field(default_factory=set)  # specific details: 电话, 地址, 邮箱, 联系人, 时长
    history: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # topic words, set once the index's tokenizer has run
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def intent(self) -> str:
        return self.facets[0] if self.facets else "general"


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s).replace(" ", "")


def detect_facets(q: str) -> list[str]:
    found = []
    for facet in FACET_ORDER:
        if any(w in q for w in FACET_WORDS[facet]):
            found.append(facet)
    # "什么时候印发/发布" is about the document, not a task deadline
    if "metadata" in found and "deadline" in found and not re.search(r"完成|建成|时限|截止", q):
        found.remove("deadline")
    # "奖励多少" names the amount; "有哪些奖励" with 条件 words is eligibility first
    if "amount" in found and "target" in found and re.search(r"奖|补|钱|资金", q):
        found.remove("target")
    if "validity" in found and "deadline" in found and not re.search(r"完成|建成|任务", q):
        found.remove("deadline")
    return found


def place_names(doc: PolicyDocument) -> list[str]:
    """The document's region as people write it: "某某市某某县", "某某县", "某某" (from the gazetteer)."""
    r = doc.region or ""
    if not r:
        return []
    found = gazetteer().get(r)
    if found is None:
        short = re.sub(r"(自治县|区|县|市)$", "", r)
        return [r, short] if short and short != r else [r]
    return list(dict.fromkeys(n for n in (r, found.name, found.short) if n))


def region_names(doc: PolicyDocument) -> list[str]:
    r = doc.region or ""
    names = place_names(doc)
    if r == "重庆市":
        names += ["全市", "市级规划", "重庆市级"]
    return names


def detect_regions(q: str, docs: list[PolicyDocument]) -> list[str]:
    qn = _norm(q)
    found: list[str] = []
    for d in docs:
        for name in region_names(d):
            if name and name in qn and d.region and d.region not in found:
                if name == "重庆" and any(x in qn for x in ("重庆赤甲", "重庆白盐", "重庆三峡", "重庆卫视")):
                    continue
                found.append(d.region)
    if "重庆市" not in found and "重庆" in qn and not found:
        for d in docs:
            if d.region == "重庆市":
                found.append("重庆市")
                break
    return found


def detect_foreign_places(q: str, docs: list[PolicyDocument]) -> list[str]:
    qn = _norm(q)
    covered = {n for d in docs for n in region_names(d)}
    return [p for p in KNOWN_PLACES if p in qn and not any(p in c or c in p for c in covered)]


def detect_docs(q: str, docs: list[PolicyDocument], regions: list[str] | None = None) -> list[str]:
    qn = _norm(q)
    out = []
    for d in docs:
        keys = [*d.aliases, d.doc_number or ""]
        if any(k and _norm(k) in qn for k in keys) and d.doc_id not in out:
            out.append(d.doc_id)
        elif len(d.title) >= 6 and _norm(d.title)[:10] in qn:
            out.append(d.doc_id)
    if regions and len(out) > 1:
        # "万州满天星方案": the nickname is shared, the region decides
        narrowed = [i for i in out if next((d.region for d in docs if d.doc_id == i), None) in regions]
        out = narrowed or out
    return out


def detect_wants(q: str) -> set[str]:
    wants = set()
    if re.search(r"电话|手机|热线|号码", q):
        wants.add("联系电话")
    if re.search(r"地址|在哪办|在哪里办|窗口在哪", q):
        wants.add("地址")
    if re.search(r"邮箱|email|e-mail", q, re.IGNORECASE):
        wants.add("邮箱")
    if re.search(r"联系人|找谁联系", q):
        wants.add("联系人")
    if re.search(r"多长时间|多久|多长|几个月", q) and not re.search(r"多久办|多久举办|多久开展", q):
        wants.add("时长")
    return wants


def is_follow_up(q: str, history: list[str]) -> bool:
    if not history:
        return False
    qs = q.strip()
    return bool(FOLLOW_UP_RE.search(qs)) or len(_norm(qs)) <= 8


def analyze(
    question: str, history: list[str], docs: list[PolicyDocument], *, force_follow_up: bool = False
) -> Analysis:
    q = question.strip()
    follow = bool(history) and (force_follow_up or is_follow_up(q, history))
    facets = detect_facets(q)
    regions = detect_regions(q, docs)
    doc_ids = detect_docs(q, docs, regions)
    foreign = detect_foreign_places(q, docs)
    history_terms = ""
    if follow:
        # carry region, document and topic of the earlier turns; the current turn's own words win
        for h in reversed(history[-3:]):
            if not regions:
                regions = detect_regions(h, docs)
            if not doc_ids:
                doc_ids = detect_docs(h, docs, regions)
            if not facets:
                facets = detect_facets(h)
            if not foreign:
                foreign = detect_foreign_places(h, docs)
        history_terms = " ".join(history[-2:])
    effective = f"{q} {history_terms}".strip() if follow else q
    list_mode = bool(re.search(r"哪些|有什么|都有|分别|列举|几项|几种|包括", q)) and "contact" not in facets[:1]
    return Analysis(
        question=q,
        effective_question=effective,
        facets=facets,
        regions=regions,
        doc_ids=doc_ids,
        foreign_places=foreign,
        follow_up=follow,
        history_terms=history_terms,
        list_mode=list_mode,
        wants=detect_wants(q),
        history=list(history),
    )
