"""One file → one PolicyDocument and its Clause records."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from pathlib import Path

from core.errors import LoadError
from core.injection import addresses_assistant
from core.records import Clause, PageRegion, PolicyDocument, content_hash, document_status
from core.regions import gazetteer
from core.settings import IngestTuning
from ingest import coverage, fields, metadata
from ingest.archive import UnpackLimits
from ingest.layout import Region
from ingest.loaders import load_file
from ingest.structure import Block, parse_text

log = logging.getLogger(__name__)
# Bump when parsing changes what a file yields: the next ingest then re-parses unchanged files too.
PARSER_VERSION = "10"
META_BLOCK = "基本信息"  # path of the clause that shows a web page's metadata block


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def split_long(text: str, max_chars: int) -> list[str]:
    """Split at sentence ends (。；) so that no piece exceeds max_chars when avoidable."""
    if len(text) <= max_chars:
        return [text]
    sentences = [s for s in re.split(r"(?<=[。；;！？\n])", text) if s]
    parts: list[str] = []
    buf = ""
    for s in sentences:
        if buf and len(buf) + len(s) > max_chars:
            parts.append(buf.strip("\n"))
            buf = ""
        buf += s
    if buf:
        parts.append(buf.strip("\n"))
    return [p for p in parts if p]


def _block_units(block: Block, *, lead_first: bool) -> tuple[list[str], list[str]]:
    if block.kind == "task_row":
        lead = next((v for k, v in block.cells.items() if "牵头" in k), "")
        resp = next((v for k, v in block.cells.items() if "配合" in k or "责任" in k), "")
        return fields.split_units(lead), fields.split_units(resp)
    lead, resp = fields.units_of(block.text, lead_first=lead_first)
    if not (lead or resp) and block.duty:  # a unit line closing several measures gives each its units
        lead, resp = fields.units_of(block.duty, lead_first=lead_first)
    return lead, resp


def build_clauses(
    doc_id: str, blocks: list[Block], *, max_chars: int, today: dt.date, lead_first: bool = False
) -> list[Clause]:
    clauses: list[Clause] = []
    for block in blocks:
        lead, resp = _block_units(block, lead_first=lead_first)
        if block.kind == "task_row":
            raw_deadline = next((v for k, v in block.cells.items() if "时限" in k or "时间" in k), "")
            deadline = fields.parse_deadline(raw_deadline, today=today)
        else:
            deadline = fields.body_deadline(block.text, today=today)
        for part in split_long(block.text, max_chars):
            seq = len(clauses)
            clauses.append(
                Clause(
                    clause_id=content_hash(doc_id, str(seq), "/".join(block.path), part),
                    doc_id=doc_id,
                    seq=seq,
                    path=list(block.path),
                    text=part,
                    kind=block.kind,  # type: ignore[arg-type]
                    lead_units=lead,
                    responsible_units=resp,
                    deadline=deadline,
                    amounts=fields.extract_amounts(part),
                    years=fields.extract_years(part),
                    targets=fields.extract_targets(part),
                    contacts=fields.extract_contacts(part),
                    addresses_assistant=addresses_assistant(part),
                )
            )
    return clauses


def mark_ocr(clauses: list[Clause], regions: tuple[Region, ...] | list[Region]) -> None:
    """Clauses whose text was read by OCR are marked, with the box on each page it came from."""
    if not regions:
        return
    lines = [(r, _squash(r.text)) for r in regions]
    scanned = "".join(t for _, t in lines)
    for c in clauses:
        text = _squash(c.text)
        if not text or text not in scanned:
            continue  # a page of the document with a text layer
        boxes: dict[int, list[Region]] = {}
        for r, t in lines:
            if t and (t in text or (len(text) >= 4 and text in t)):
                boxes.setdefault(r.page, []).append(r)
        c.ocr = True
        c.regions = [PageRegion(page, min(r.x0 for r in rs), min(r.top for r in rs), max(r.x1 for r in rs),
                                max(r.bottom for r in rs), rs[0].unit) for page, rs in sorted(boxes.items())]


def _status_words(draft: bool, title_lines: list[str], period_words: str | None) -> str | None:
    """What a status rests on when no sentence states the validity: the draft's marker
    ("（征求意见稿）"), or the plan period of the title."""
    if draft:
        return next((x.strip() for x in title_lines if metadata.DRAFT_RE.search(x)), None)
    return period_words


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _clause_stating(clauses: list[Clause], words: str | None, *, meta_block: bool) -> str | None:
    if not words:
        return None
    if meta_block:
        return next((c.clause_id for c in clauses if c.path == [META_BLOCK]), None)
    # the sentence may have been cut where a long clause was split: its opening is enough to find it
    key = _squash(words)[:30]
    return next((c.clause_id for c in clauses if key in _squash(c.text)), None)


def parse_document(
    path: Path,
    *,
    today: dt.date,
    max_bytes: int,
    max_clause_chars: int = 600,
    sha256: str | None = None,
    tuning: IngestTuning | None = None,
    unpack: UnpackLimits | None = None,
) -> tuple[PolicyDocument, list[Clause]]:
    """Load, parse and extract. Raises ingest.loaders.LoadError for files a user must fix."""
    tuning = tuning or IngestTuning()
    limits = {"max_unpacked_bytes": unpack.total_bytes, "max_member_bytes": unpack.member_bytes} if unpack else {}
    loaded = load_file(path, max_bytes=max_bytes, tuning=tuning, **limits)
    sha = sha256 or file_sha256(path)
    doc_id = sha[:16]
    parsed = parse_text(loaded.text)
    g = gazetteer()
    meta = loaded.metadata
    site = metadata.site_region(meta, g)
    issuers = metadata.find_issuers(parsed, meta, site, g)
    title, draft = metadata.title_from(parsed, loaded.title)
    title = metadata.space_joint_issuers(title or path.stem, issuers)
    doc_number = metadata.find_doc_number(parsed.header, meta)
    issued_on = metadata.find_issued_on(parsed.header, parsed.footer, meta)
    period, p_start, p_end, period_words = metadata.find_period_where(title, loaded.text)
    validity = metadata.find_validity(loaded.text, meta=meta, issued_on=issued_on)
    region = metadata.find_region(
        g, issuers=issuers, title=title, doc_number=doc_number, site=site, context=loaded.text[:500]
    )
    valid_until = validity.valid_until
    doc = PolicyDocument(
        doc_id=doc_id,
        title=title,
        doc_number=doc_number,
        issuer="、".join(issuers) or None,
        issued_on=issued_on,
        region=region.display if region else None,
        period=period,
        period_start=p_start,
        period_end=p_end or (int(valid_until[:4]) if valid_until else None),
        valid_until=valid_until,
        status=document_status(
            draft=draft, period_end=p_end, valid_until=valid_until, today=today, valid_from=validity.valid_from
        ),
        source_path=str(path),
        sha256=sha,
        aliases=metadata.aliases_from(title),
        valid_from=validity.valid_from,
        published_on=metadata.date_of(meta.get("published_on")),
        issuers=issuers,
        validity_text=validity.text or _status_words(draft, parsed.title_lines, period_words),
    )
    blocks = list(parsed.blocks)
    if loaded.metadata_lines:
        at = 1 if blocks and blocks[0].path == ["标题"] else 0
        blocks.insert(at, Block([META_BLOCK], "\n".join(loaded.metadata_lines)))
    clauses = build_clauses(doc_id, blocks, max_chars=max_clause_chars, today=today, lead_first=parsed.lead_first)
    mark_ocr(clauses, loaded.regions)
    if not clauses:
        raise LoadError("no policy text found in the file")
    doc.clause_count = len(clauses)
    from_meta = bool(meta.get("valid_from") or meta.get("valid_until"))
    doc.validity_clause_id = _clause_stating(clauses, doc.validity_text, meta_block=from_meta)
    flagged = [c.label for c in clauses if c.addresses_assistant]
    if flagged:
        log.warning("%s: %d clause(s) read as instructions to an assistant and are never used as evidence: %s",
                    path.name, len(flagged), "; ".join(flagged[:5]))
    cov = coverage.measure(loaded.text, clauses, parsed.consumed)
    doc.coverage = round(cov.ratio, 4)
    if cov.ratio < tuning.min_coverage:
        log.warning(
            "%s: only %.1f%% of its %d characters landed in clauses; missing, e.g.: %s",
            path.name, 100 * cov.ratio, cov.chars, " | ".join(cov.missing),
        )
    log.info("parsed %s: %d clauses, coverage %.1f%%, %d lines of page chrome removed",
             path.name, len(clauses), 100 * cov.ratio, len(loaded.removed))
    return doc, clauses
