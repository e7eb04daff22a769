"""How people ask about policy in Chinese: cue words for what is asked, words that carry no topic, and the
marks of a question, a follow-up or a situational preamble.

This is knowledge of the language, not of any collection: nothing here names a place, a unit or a
policy. What a collection calls things (its units, nicknames, abbreviations) is learned from its
catalog and clauses at run time (bot/vocabulary.py).
"""

from __future__ import annotations

import re

# What a question asks for ("facets"); one question may ask for several ("谁牵头、什么时候完成").
FACET_CUES: dict[str, tuple[str, ...]] = {
    "metadata": (
        "文号", "发文字号", "发文", "印发日期", "发布日期", "发布时间", "印发时间", "什么时候印发", "什么时候发布",
        "哪天印发", "哪天发布", "何时印发", "何时发布", "哪个单位印发", "哪个单位发布", "谁印发", "谁发布", "发文单位",
        "发文机关", "标题", "全称", "文件名", "哪些文件", "哪些政策文件", "几个文件", "落款", "哪天发的",
        "什么时候发的", "啥时候发的", "哪个单位发的", "谁发的", "谁出的", "会议通过", "会议审议", "常务会", "落实哪个",
        "依据哪个", "根据哪个文件", "哪一天", "什么时间发", "谁制定", "制定单位", "哪个部门制定", "谁出台",
        "哪个部门出台", "成文日期", "哪个部门发的", "哪个机关",
    ),
    "validity": (
        "有效吗", "还有效", "是否有效", "有没有效", "有效性", "仍有效",
        "失效", "过期", "到期", "还能用", "还适用", "废止", "征求意见", "正式文件", "正式印发", "实施期限",
        "执行期限", "规划期", "有效期", "什么时候结束", "截止到哪", "适用期", "草案", "还在执行", "还执行", "生效",
        "实施到", "执行到", "有效到", "管到", "实施期", "执行期", "正式政策", "施行", "还作数", "还算数",
        "还管用", "还能申请吗", "现在还能", "还有没有效", "作废",
    ),
    "contact": (
        "牵头", "哪个单位", "哪个部门", "哪些单位", "哪些部门", "找谁", "找哪", "谁负责", "负责单位", "责任单位",
        "责任部门", "配合单位", "配合部门", "归谁", "归哪", "谁管", "主管", "联系", "对接", "负责", "办公室设在",
        "哪个局", "哪个机构", "电话", "热线", "咨询", "谁来抓", "谁来管", "谁在管", "交给谁", "交到哪", "向谁",
        "交给哪", "递交给",
    ),
    "deadline": (
        "什么时候完成", "何时完成", "完成时限", "时限", "截止", "最晚", "哪年完成", "什么时候建成", "何时建成",
        "几月", "什么时候之前", "完成时间", "什么时候", "何时", "哪一年", "哪年", "啥时候", "来得及", "多久完成",
        "哪年前", "期限", "多久内", "多长时间内", "多久之内", "多长时间之内", "几天内", "几个月内", "几年内",
    ),
    "amount": (
        "多少钱", "奖励多少", "奖多少", "补贴多少", "补助多少", "给多少", "能拿多少", "拿多少", "多少奖励",
        "多少补贴", "多少补助", "万元", "奖金", "金额", "最高", "上限", "封顶", "最多能", "最多给", "奖励标准",
        "补贴标准", "资助标准", "多少资金", "贷多少", "借多少", "额度", "补多少", "有补贴吗", "有奖励吗",
        "有没有补贴", "有没有奖励", "给补贴吗", "给奖励吗", "有补助吗", "几万", "多少比例", "按多少",
        "利率", "贴息", "发多少", "报销", "多少万",
    ),
    "eligibility": (
        "条件", "资格", "符合", "门槛", "要求", "哪些企业", "什么企业", "什么样的企业", "能不能享受", "可以享受",
        "能享受", "需要满足", "满足什么", "适用于", "算不算", "够不够", "够格", "能不能申请", "可以申请吗",
        "能申请吗", "能报吗", "有资格", "对象", "哪些人", "什么人", "谁可以", "谁能", "年龄", "多大", "几岁",
        "周岁", "学历要求",
    ),
    "procedure": (
        "怎么申请", "如何申请", "怎么办理", "如何办理", "流程", "程序", "步骤", "怎么办", "渠道", "先要", "先向",
        "提交", "怎么报", "如何报", "申报", "怎么做", "如何做", "机制", "材料", "咋申请", "咋办", "去哪办", "在哪办",
        "哪里办", "哪里申请", "在哪申请", "怎么弄", "第一步", "要交", "准备什么", "手续", "哪个平台", "什么平台",
        "通过什么", "通过哪",
    ),
    "target": (
        "目标", "指标", "达到多少", "要建多少", "建多少", "多少个", "多少家", "多少人", "多少户", "多少所",
        "要达到", "任务是", "规模", "比重", "占比", "覆盖率", "多少平方米", "多少亿", "增长", "要到多少",
        "定的是", "要做到", "多大面积", "多少面积",
    ),
    "list": ("哪些", "有什么", "都有", "分别", "列举", "几项", "几种", "列一下", "有哪几", "包括什么"),
}
# Cue words that also name a topic: they stay topic words ("贴息多少" is about 贴息).
TOPICAL_CUES = frozenset(
    "贴息 利率 额度 奖金 材料 对象 规模 比重 占比 覆盖率 增长 电话 热线 报销 手续 渠道 机制 资格 门槛 草案 施行 "
    "会议通过 常务会 落款 标题".split()
)
# Words that only say what kind of fact is asked: never topic words.
CUE_WORDS = frozenset(w for words in FACET_CUES.values() for w in words if w not in TOPICAL_CUES)
FACET_ORDER = ("metadata", "validity", "contact", "deadline", "amount", "eligibility", "procedure", "target", "list")

# Words documents head a kind of fact with, added to the lexical query of a question asking for it:
# "给员工申请X是个什么流程" finds the clause under "申请程序" that never says "流程".
FACET_QUERY_WORDS = {
    "procedure": "申请程序 流程 受理 提出申请",
    "contact": "牵头单位 责任单位 受理 联系电话",
    "eligibility": "申请条件 对象",
}

# Words that carry no topic of their own: dropped before judging whether a clause answers.
FILLER = frozenset(
    "公司 我司 本公司 我们 咱们 咱 俺们 企业 单位 钱 能拿 拿 奖 多少 多少钱 可以 能 给 有 没有 是否 是不是 请问 "
    "一下 政策 文件 规定 事项 这个 那个 情况 相关 具体 新 刚 想 问 知道 告诉 帮 查 查查 看看 哪 哪里 哪个 "
    "哪些 什么 怎么 怎样 如何 吗 呢 啊 呀 吧 要 需要 应该 得 就 都 还 也 又 再 呗 嘛 里 中 对 给予 享受 "
    "申请 获得 领 领取 补 奖励 补贴 资金 金额 万元 元 牵头 单位 部门 负责 责任 配合 时候 什么时候 完成 "
    "时限 截止 时间 目标 指标 条件 要求 流程 办理 区 县 市 省 现在 目前 今年 明年 去年 个 家 些 次 年 月 日 号 "
    "第 项 条 款 方面 关于 有关 所说 提到 规划 方案 计划 那 那么 它 其 这 该 里面 之前 之后 以后 以前 能不能 "
    "可不可以 有没有 多久 多长 几 几个 到底 一共 总共 分别 各 实施 实施方案 行动 行动计划 满足 什么样 哪类 "
    "哪种 主要 针对 才行 这些 那些 第一步 一步 第一 做完 完后 干啥 啥 该干 能用 可用 用 算 属于 适合 拿到 "
    "到手 发放 发 给钱 标准 多大 多高 一般 大概 左右 注册 大型 中型 小型 本地 我家 最多 最多能 能申请 申报 "
    "听说 据说 好像 请教 咨询 了解 打听 一家 一个 这边 那边 当地 本地 这里 那里 咱们 人家 朋友 同学 老板 "
    "谢谢 麻烦 您好 你好 谁 找 管 归 问问 说 讲 里边 上面 下面 这块 那块 这项 那项 这条 那条 上述 以上 以下 "
    "要是 假如 万一 已经 还没 自己 直接 亲自 交给 "
    "怎么样 咋 咋样 多久 吗 么 呐 哈 嗯 哦 诶 准备 打算 计划 想要 希望 是 的 了 在 和 与 及 或 并 从 到 被 "
    "把 让 向 跟 同 比 为 县里 区里 市里 省里 镇里 街道里 国家的 因为 所以 如果 但是 不过 然后 而且 或者 "
    "还是 其他 别的 其它 哪些 几项 一共 列 列一下 员工 的话 还要 还得 这批 那批 这次 那次 本次 这期 通常 一般来说 "
    "大约 大概要".split()
)

# The marks of a question: the clause that carries one is the ask, not the preamble.
QUESTION_MARK = re.compile(
    r"[？?]|吗|呢|多少|几[个项家万年月天种类]?|哪|什么|啥|怎么|怎样|如何|咋|谁|是否|能否|可否|有没有|是不是|能不能|"
    r"可不可以|要不要|来得及|够不够|算不算|行不行|对不对|有无"
)
# A situational clause: the asker talking about themselves before the question.
SITUATION = re.compile(
    r"了|^在.{1,16}(开|办|做|注册|成立|租|买|工作|上班|读|创业|就业)|"
    r"^(我|我们|咱|咱们|俺|本人|本公司|我司|我公司|公司|我家|敝司|家里|朋友|同学|老板|我是|我们是)|"
    r"(我们|我司|我公司|本公司|我家|咱们)(是|在|有|做|开|刚|已|去年|今年|打算|准备|想|计划)|"
    r"(去年|今年|上个月|前年|目前|现在|刚刚?)(营收|营业|销售|员工|注册|成立|搬|落户|开业|通过|被|拿到|获得)"
)
# Openings and pronouns of a follow-up: the turn leans on what was asked before.
FOLLOW_UP = re.compile(
    r"^(那|那么|这个|那个|它|其|还有|另外|再|此外|以及|并且|而|那如果|如果是|要是|换成|同样|具体|详细|第[一二三四五六七八九十\d]+[个项条])|"
    r"呢[？?]?$|它|其中|这项|该项|这条|该条|这块|那块|这事|这件|上述|上面说的|刚才|刚说的|前面说的|这个政策|这个方案|"
    r"这个文件|该文件|该方案|该政策|这份|那份"
)
# "第二个", "第3项": a turn pointing at one item of the previous answer.
ORDINAL = re.compile(r"第\s*([一二三四五六七八九十\d]+)\s*[个项条点种]")
CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

# Between the parts of a multi-part question: after a question clause, a new question starts here.
PART_SPLIT = re.compile(r"(?<=[？?])|[；;]|(?<=[吗呢])[，,]|[，,](?=另外|还有|再问|以及|同时|并且|顺便)")

# Details a question may want beyond the facet.
WANTS: dict[str, re.Pattern[str]] = {
    "联系电话": re.compile(r"电话|手机|热线|号码|座机"),
    "地址": re.compile(r"地址|在哪办|在哪里办|窗口在哪|办公地点|在什么地方办|哪栋|几号楼|哪个楼|哪层|几楼|门牌"),
    "邮箱": re.compile(r"邮箱|email|e-mail", re.IGNORECASE),
    "联系人": re.compile(r"联系人|找谁联系|叫什么名字|姓名|名字是"),
    "时长": re.compile(r"多长时间|多久|多长|几个月|几年|期限多长|几天"),
    "材料": re.compile(r"材料|资料|证明|要交什么|交哪些|提交什么|准备什么"),
}
# "找哪个部门交材料": the unit is wanted, the papers only say what for
ASKS_WHICH_UNIT = re.compile(r"(哪个|哪些|什么|哪家)(部门|单位|机构|窗口|机关)|找谁|交给谁|向谁|找哪")
# "多久办一次/举办一次" asks for a frequency, not a duration.
FREQUENCY = re.compile(r"多久(一次|办一次|举办|开展|一回)|每隔多久|多长时间一次|几年一次|一年几次")

# A yes/no eligibility question carries the asker's situation, which no clause states.
YES_NO_ELIGIBILITY = re.compile(
    r"(能|可以|可不可以|能不能|可否|能否|还能)[^，,。？?]{0,10}吗|符合(条件)?吗|算不算|够不够|够格吗|有资格吗|能不能|可不可以"
)

# Kinds of benefit that are not interchangeable: a clause about 租金 does not answer a 税收 question.
# (奖励 / 补贴 / 补助 are used loosely by askers and are left out on purpose.)
# Benefits in themselves ("贴息", "免租") and kinds that make one when a benefit word follows them
# ("租金补贴", "社保补贴"): "交着社保" names a condition, not a benefit.
BENEFIT_KINDS = ("贴息", "免租", "减免", "安家费")
BENEFIT_SUBJECTS = (
    "税收", "租金", "安家", "购房", "融资", "用地", "电价", "股权", "住房", "交通", "社保", "培训", "见习", "实习",
    "房租", "生活", "求职", "创业", "就业", "扩岗", "留用", "稳岗",
)
BENEFIT_WORDS = "补贴|补助|减免|优惠|奖励|资助|贴息|支持|奖补"
_BENEFIT_NAMED = re.compile(rf"({'|'.join(BENEFIT_SUBJECTS)})\S{{0,2}}({BENEFIT_WORDS})")


def named_benefits(text: str) -> list[str]:
    """The kinds of benefit a question names ("住房补贴" → 住房), in order."""
    named = [b for b in BENEFIT_KINDS if b in text] + [m.group(1) for m in _BENEFIT_NAMED.finditer(text)]
    return list(dict.fromkeys(named))

# How people shorten words of policy language, and how documents write them. General usage only.
ABBREVIATIONS: dict[str, str] = {
    "第一次": "首次", "规上": "规模以上", "社保": "社会保险", "营收": "营业收入", "营业额": "营业收入",
    "入统": "纳入统计", "做完": "完成", "补钱": "补贴", "扶持": "支持", "帮扶": "支持", "资助": "资助",
    "优惠政策": "政策", "研究生": "硕士", "大学生": "高校毕业生", "毕业生": "高校毕业生", "房租": "租金",
    "租房": "租金", "创业贷": "创业担保贷款", "贷款贴息": "贴息", "员工": "职工", "工人": "职工", "招人": "招用",
    "高新企业": "高新技术企业", "小巨人": "专精特新", "牌照": "许可证", "执照": "营业执照", "户口": "户籍",
    "落户": "入户", "入户": "户籍", "本科生": "本科", "中专": "中等职业", "大专": "专科", "老婆": "配偶",
    "房贷": "住房贷款", "老公": "配偶", "爱人": "配偶", "媳妇": "配偶", "套房": "住房", "房子": "住房", "买房": "购房",
    "孩子": "子女",
    "小孩": "子女", "店铺": "场地", "铺面": "场地", "门面": "场地", "办公室": "场地", "厂房": "场地",
    "应届生": "高校毕业生",
    "上班": "就业", "找工作": "求职", "开公司": "创业", "开店": "创业", "当老板": "创业", "个体户": "个体工商户",
    "岁数": "年龄", "多大": "年龄",
}
