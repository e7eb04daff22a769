"""The typed records that flow through every floor: ingest → index → bot → entry points.

Floor 1: this package imports nothing from the project, so that every other floor can depend on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

Status = Literal["effective", "expired", "draft", "not_yet"]
ClauseKind = Literal["body", "task_row", "box", "table_row", "target"]
Mode = Literal["extractive", "llm"]

# The one place status names become words: short labels for lists and badges, phrases for answers.
STATUS_LABELS: dict[str, str] = {"effective": "有效", "expired": "已到期", "draft": "征求意见稿", "not_yet": "尚未施行"}
STATUS_PHRASES: dict[str, str] = {
    "effective": "现行有效",
    "expired": "执行期已结束",
    "draft": "征求意见稿，尚未正式印发",
    "not_yet": "尚未开始施行",
}
KIND_LABELS: dict[str, str] = {
    "body": "正文", "task_row": "任务分解表", "box": "专栏", "table_row": "表格行", "target": "目标指标",
}

PATH_SEP = " › "
# Shown with every answer a generative model wrote (page, CLI, API): people must know what they read.
GENERATED_LABEL = "AI生成"
# Said after the path of a clause whose text was read by OCR from a scan, so that every citation of it
# (answers, source panels, staff lists) tells the reader the wording may carry recognition errors.
OCR_NOTE = "（扫描件OCR识别）"
# A table row's path ends with its column names, so that a bare row "70%  75%" keeps its meaning.
TABLE_HEADER_PREFIX = "表头："


def document_status(
    *, draft: bool, period_end: int | None, valid_until: str | None, today: dt.date, valid_from: str | None = None
) -> Status:
    """A document's status on `today`: drafts stay drafts; otherwise its end date (or the end of its
    period) and its start date decide."""
    if draft:
        return "draft"
    if valid_from and dt.date.fromisoformat(valid_from) > today:
        return "not_yet"
    end = dt.date.fromisoformat(valid_until) if valid_until else None
    if end is None and period_end:
        end = dt.date(period_end, 12, 31)
    if end and end < today:
        return "expired"
    return "effective"


def content_hash(*parts: str, length: int = 16) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:length]


@dataclass(frozen=True)
class Deadline:
    text: str  # as written: "2023年12月底", "每年12月底", "以系统规定时间为准"
    date: str | None = None  # ISO date when one can be derived
    recurring: bool = False  # "每年…": a yearly deadline, date is this year's occurrence


@dataclass(frozen=True)
class Amount:
    text: str  # as written, e.g. "不超过30万元"
    value: float
    unit: str  # 元 | 万元 | 亿元
    is_cap: bool = False  # "不超过" / "最高" limits, not fixed sums

    @property
    def yuan(self) -> float:
        return self.value * {"元": 1, "万元": 1e4, "亿元": 1e8}.get(self.unit, 1)


@dataclass(frozen=True)
class Target:
    text: str  # the sentence fragment stating the target
    year: int | None
    value: str  # "1000万元以上", "5050个"


@dataclass(frozen=True)
class Contact:
    kind: str  # 联系人 | 联系电话 | 地址 | 邮箱
    value: str


@dataclass(frozen=True)
class PageRegion:
    """Where a clause's text stands on the source page: a box from the page's top-left corner, in
    points (PDF pages) or pixels (images)."""

    page: int
    x0: float
    top: float
    x1: float
    bottom: float
    unit: str = "pt"

    def label(self) -> str:
        if self.unit == "pt":  # as staff measure a printed page: millimetres from the top-left corner
            mm = [round(v * 25.4 / 72) for v in (self.x0, self.top, self.x1, self.bottom)]
            return f"第{self.page}页 左{mm[0]}–{mm[2]}毫米 上{mm[1]}–{mm[3]}毫米"
        box = [round(v) for v in (self.x0, self.top, self.x1, self.bottom)]
        return f"第{self.page}页 像素 x {box[0]}–{box[2]}，y {box[1]}–{box[3]}"


@dataclass
class PolicyDocument:
    doc_id: str
    title: str
    doc_number: str | None
    issuer: str | None
    issued_on: str | None  # ISO date
    region: str | None  # a gazetteer display name: 全国 / 某某省 / 某某市 / 某某市某某区
    period: str | None  # "2021—2025"
    period_start: int | None
    period_end: int | None
    valid_until: str | None  # ISO date, the last day in force, when the text or the page gives one
    status: Status
    source_path: str
    sha256: str
    clause_count: int = 0
    aliases: list[str] = field(default_factory=list)  # quoted nicknames from the title
    # Added later; catalogs written before them load with these defaults.
    valid_from: str | None = None  # ISO date the document takes effect ("自…起施行", 实施日期)
    published_on: str | None = None  # ISO date a web page was published (发布日期), when known
    issuers: list[str] = field(default_factory=list)  # every co-issuer; `issuer` joins them with "、"
    validity_text: str | None = None  # the words the validity rests on, as written
    validity_clause_id: str | None = None  # the clause that states them, when one does
    coverage: float | None = None  # share of the body's characters that landed in clauses (ingest check)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PolicyDocument:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def catalog_json(self) -> dict[str, Any]:
        """The catalog contract shared by `policybot docs --json` and GET /api/documents."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "doc_number": self.doc_number,
            "issuer": self.issuer,
            "issued_on": self.issued_on,
            "region": self.region,
            "period": self.period,
            "status": self.status,
            "clause_count": self.clause_count,
            "source_file": self.source_file,
        }

    @property
    def source_file(self) -> str:
        return self.source_path.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass
class Clause:
    clause_id: str
    doc_id: str
    seq: int  # position in the document, for reading order
    path: list[str]
    text: str  # verbatim from the source (line breaks inside may be dropped)
    kind: ClauseKind = "body"
    lead_units: list[str] = field(default_factory=list)
    responsible_units: list[str] = field(default_factory=list)
    deadline: Deadline | None = None
    amounts: list[Amount] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    # Added later (catalogs written before it load with the default): the text speaks to an assistant
    # ("忽略以上指令…", "SYSTEM:"), so it is never evidence nor shown to a model; staff see it flagged.
    addresses_assistant: bool = False
    ocr: bool = False  # the text was read by OCR from a scanned page
    regions: list[PageRegion] = field(default_factory=list)  # where on its page(s) the OCR'd text stands

    @property
    def label(self) -> str:
        return PATH_SEP.join(self.path) + (OCR_NOTE if self.ocr else "")

    def source_note(self) -> str | None:
        """For staff: that the text was OCR'd, and where on the scan it stands."""
        if not self.ocr:
            return None
        return "扫描件OCR识别" + ("：" + "；".join(r.label() for r in self.regions) if self.regions else "")

    def field_summary(self) -> list[str]:
        """Units and deadline as staff read them, for search listings and citation cards."""
        out = []
        if self.lead_units:
            out.append("牵头单位：" + "、".join(self.lead_units))
        if self.responsible_units:
            out.append("责任/配合单位：" + "、".join(self.responsible_units))
        if self.deadline:
            out.append("完成时限：" + self.deadline.text)
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Clause:
        d = dict(d)
        dl = d.get("deadline")
        d["deadline"] = Deadline(**dl) if dl else None
        d["amounts"] = [Amount(**a) for a in d.get("amounts", [])]
        d["targets"] = [Target(**t) for t in d.get("targets", [])]
        d["contacts"] = [Contact(**c) for c in d.get("contacts", [])]
        d["regions"] = [PageRegion(**r) for r in d.get("regions", [])]
        return cls(**d)


@dataclass
class Citation:
    doc_id: str
    doc_title: str
    clause: str  # readable path label
    quote: str  # verbatim substring of the clause text
    source_file: str
    clause_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "doc_title": self.doc_title,
            "clause": self.clause,
            "quote": self.quote,
            "source_file": self.source_file,
        }


@dataclass
class Answer:
    question: str
    answer: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    warnings: list[str] = field(default_factory=list)
    intent: str = "general"
    mode: Mode = "extractive"
    timings: dict[str, float] = field(default_factory=dict)
    clause_ids: list[str] = field(default_factory=list)  # retrieved, in rank order (for evaluation)
    # Why a configured generative model's answer was not used (server failed, reply failed verification…);
    # None when the model's answer stands or no model was asked.
    fallback_reason: str | None = None

    @property
    def label(self) -> str | None:
        """The generated-content label, for answers a generative model wrote."""
        return GENERATED_LABEL if self.mode == "llm" else None

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "warnings": list(self.warnings),
            "intent": self.intent,
            "mode": self.mode,
            "label": self.label,
            "fallback_reason": self.fallback_reason,
        }


@dataclass
class ScoredClause:
    clause: Clause
    score: float
    document: PolicyDocument | None = None
    dense: float | None = None  # cosine similarity to the query, when the dense side ranked the clause

    def to_json(self) -> dict[str, Any]:
        c = self.clause
        return {
            "clause_id": c.clause_id,
            "doc_id": c.doc_id,
            "doc_title": self.document.title if self.document else "",
            "path": c.label,
            "text": c.text,
            "kind": c.kind,
            "lead_units": c.lead_units,
            "responsible_units": c.responsible_units,
            "deadline": asdict(c.deadline) if c.deadline else None,
            "amounts": [asdict(a) for a in c.amounts],
            "score": round(float(self.score), 6),
            # only for text read from a scan, so that the contract of other clauses stays as it was
            **({"ocr": True, "source_regions": [asdict(r) for r in c.regions]} if c.ocr else {}),
        }
