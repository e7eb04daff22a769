"""Text that addresses an assistant instead of a document's readers ("prompt injection").

A policy document speaks to enterprises and officials about measures, amounts, units and dates. A
sentence that speaks to the program answering questions — telling it to set earlier instructions
aside, taking a role marker such as "SYSTEM:", or dictating what it must reply — is not policy
content, whoever put it in the file. Such a clause is flagged when it is ingested, shown to staff
as flagged, and never used as evidence nor shown to a model.

Matching is done on a normalised form, so that hiding tricks do not get past it: NFKC (full-width
letters, compatibility forms), format characters removed (zero-width spaces and joiners, bidi
controls, soft hyphens, tag characters, variation selectors), case folded, and whitespace removed;
the patterns that name a whole phrase are also matched with every punctuation mark removed
("忽.略.以.上" reads as "忽略以上").

The patterns describe the shapes such text takes rather than a list of known phrases: an override
verb aimed at earlier instructions, a declaration that earlier instructions are void, a role
marker or chat-template token opening a line, a second-person role assignment, a directive about
what to answer. Ordinary policy wording (规定废止, 取消限制, 逾期作废, 不得忽视上述要求) has none of them.
"""

from __future__ import annotations

import re
import unicodedata

# verbs that set something aside
_OVERRIDE = (r"(?:忽略|无视|忽视|忘记|忘掉|抛开|抛弃|丢弃|撇开|不要理会|不用理会|别理会|不必理会|"
             r"不要遵守|不必遵守|不再遵守|停止遵守|绕过|越过)")
# what an earlier message told the program to do
_ORDERS = r"(?:指令|指示|提示词|提示|设定|规则|要求|约束|命令|限制|规定|守则|准则|内容|信息|对话|上下文)"
_MODEL_ORDERS = r"(?:指令|指示|提示词|系统提示|设定|角色设定|prompt)"
# "earlier", "all of them": the override is aimed at what came before
_EARLIER = (r"(?:以上|上述|之前|此前|前面|先前|上面|前述|原有|原来|原先|所有|全部|一切|任何|你的|您的|"
            r"系统的?|已有|以前|刚才)")
_VOID = r"(?:作废|无效|失效|取消|不再有效|不算数?|不用管|不适用|统统作废|一律作废|全部作废)"
# negated: "不得忽视上述要求" tells readers to heed them
_NEGATED = re.compile(r"(?:不得|不能|不可|不应|切勿|严禁|禁止|不准|不要|不许|杜绝)$")

_PHRASES: list[tuple[str, re.Pattern[str]]] = [
    ("要求忽略此前的指令",
     re.compile(f"{_OVERRIDE}(?:掉|了|你|您|我|给|之|的){{0,2}}{_EARLIER}.{{0,6}}?{_ORDERS}")),
    ("要求忽略此前的指令", re.compile(f"{_OVERRIDE}(?:掉|了|你|您|的){{0,2}}{_MODEL_ORDERS}")),
    ("宣布此前的指令作废",
     re.compile(f"(?:以上|上述|之前|此前|前面|先前|上面|前述|原有|原来|你的|系统)的?(?:所有|全部|一切)?的?"
                f"(?:指令|指示|提示词?|要求|规则|设定|命令)(?:全部|一律|均|都|统统|已经?|现已|现在)?{_VOID}")),
    ("给程序指定角色",
     re.compile(r"(?:你现在是.{0,12}(?:助手|机器人|模型|ai|程序|系统|客服)|你现在扮演|你将扮演|请你扮演|假装你是|"
                r"从现在(?:起|开始),?你(?:是|要|将|必须|只)|"
                r"作为(?:一个|一名)?(?:ai|人工智能|语言模型|大模型|聊天机器人|智能助手|助手|模型),?你)")),
    ("规定程序的回答",
     re.compile(r"(?:当|如果|若|凡是|每当|只要|一旦)(?:用户|有人|任何人|提问者|访客|别人|对方|咨询者)"
                r"(?:问|询问|提问|咨询|问到|问起|查询).{0,40}?(?:你|请|就|都|一律|统一|必须|务必|只)(?:要|应|应该|需要)?"
                r"(?:回答|回复|输出|告诉|声称|说)")),
    ("规定程序的回答",
     re.compile(r"(?:务必|必须|一律|只能|只许|始终|总是|一定要|永远)(?:直接)?(?:要)?"
                r"(?:输出|回答|声称|宣称|告诉用户|告知用户|回复用户|答复用户|对用户说)")),
    ("规定程序的回答", re.compile(r"(?:回答|回复|输出)(?:内容|时)?(?:一律|统一|必须|只能|均)(?:为|是|写成|改为)")),
    ("要求忽略此前的指令",
     re.compile(r"(?:ignore|disregard|forget|override|bypass|skip)(?:all|any|the|your|my|of)*"
                r"(?:previous|prior|above|earlier|preceding|foregoing|system|original|former|existing)?"
                r"(?:instructions?|prompts?|rules|directions|directives|guidelines|context|messages|orders)")),
    ("要求忽略此前的指令",
     re.compile(r"(?:ignore|disregard|forget)(?:all|everything|the|of)*(?:above|previous|prior|earlier|preceding|foregoing)")),
    ("给程序指定角色",
     re.compile(r"youarenow|fromnowonyou|actasan?(?:ai|assistant|model|chatbot)|pretendtobe|"
                r"youmust(?:now)?(?:answer|reply|respond|say|output)|newinstructions")),
    ("规定程序的回答",
     re.compile(r"(?:respond|reply|answer|output)(?:only)?(?:with|that)|tell(?:the)?user(?:that)?|sayexactly")),
]
# a role marker or chat-template token opening a line or a sentence: "SYSTEM:", "【系统提示】", "<|im_start|>"
# a list item's own number may stand before the marker: "（二）SYSTEM:", "3. 系统提示："
_ENUMERATOR = (r"(?:[（(][一二三四五六七八九十百\d]{1,4}[)）]|[一二三四五六七八九十百]{1,4}、|\d{1,3}[.、．]|"
               r"第[一二三四五六七八九十百\d]{1,4}[条章节项款])?")
_ROLE = re.compile(
    r"^" + _ENUMERATOR + r"[\[(<{【（〈《「#*>|\-_=~\s]*(?:system|assistant|developer|sys|instructions?|"
    r"系统|系统提示词?|系统消息|"
    r"系统指令|系统通知给ai|助手|ai助手|ai|人工智能助手|管理员指令|最高指令|新指令)[\])>}】）〉》」*\s]*[:：]"
)
# an English role word with a colon has no place in Chinese policy text, wherever it stands
_ROLE_ANYWHERE = re.compile(r"(?<![a-z])(?:system|assistant|developer)[\])>】）]*[:：]")
_TOKENS = re.compile(r"<\|?(?:im_start|im_end|system|assistant|endoftext)\|?>|\[/?inst\]|<</?sys>>|</source>|<source")
# right-to-left overrides and isolates make stored text read backwards on screen
_BIDI = re.compile("[\u202d\u202e\u2066-\u2069]")
_SEGMENTS = re.compile(r"[\n\r。！？!?；;]+")
_PUNCT = re.compile(r"[^\w]+|_")
_PUNCT_KEEP_COLON = re.compile(r"[^\w:：]+|_")


def _strip_format(text: str) -> str:
    """NFKC, then without format characters (zero-width, bidi, soft hyphen, tags) and variation selectors."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf" and not _variation_selector(ch))


def _variation_selector(ch: str) -> bool:
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def normalise(text: str) -> str:
    """The form matching is done on: NFKC, no format characters, case folded, no whitespace."""
    return re.sub(r"\s+", "", _strip_format(text).casefold())


def _phrase_hit(form: str) -> str | None:
    for reason, pattern in _PHRASES:
        for m in pattern.finditer(form):
            if not _NEGATED.search(form[max(0, m.start() - 2) : m.start()]):
                return reason
    return None


def injection_reason(text: str) -> str | None:
    """Why the text reads as addressed to an assistant (a short Chinese label), or None."""
    if not text:
        return None
    plain = _strip_format(text).casefold()
    compact = re.sub(r"\s+", "", plain)
    if _TOKENS.search(compact):
        return "含对话模板标记"
    if _ROLE_ANYWHERE.search(compact) or _ROLE_ANYWHERE.search(_PUNCT_KEEP_COLON.sub("", compact)):
        return "含角色标记（如 SYSTEM:）"
    for segment in _SEGMENTS.split(plain):
        if _ROLE.match(segment.strip()):
            return "含角色标记（如 SYSTEM:）"
    forms = [compact, _PUNCT.sub("", compact)]
    if _BIDI.search(text):
        forms += [f[::-1] for f in forms]
    return next((r for f in forms if (r := _phrase_hit(f))), None)


def addresses_assistant(text: str) -> bool:
    """True for text written to steer an assistant rather than to inform a reader."""
    return injection_reason(text) is not None
