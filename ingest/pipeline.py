"""One file → one PolicyDocument and its Clause records."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from pathlib import Path

from core.errors import LoadError
from core.records import Clause, PolicyDocument, content_hash, document_status
from ingest import fields, metadata
from ingest.loaders import load_file
from ingest.structure import Block, parse_text

log = logging.getLogger(__name__)
# Bump when parsing changes what a file yields: the next ingest then re-parses unchanged files too.
PARSER_VERSION = "5"


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
    sentences = [s for s in re.split(r"(?<=[。；;！？])", text) if s]
    parts: list[str] = []
    buf = ""
    for s in sentences:
        if buf and len(buf) + len(s) > max_chars:
            parts.append(buf)
            buf = ""
        buf += s
    if buf:
        parts.append(buf)
    return parts


def _block_units(block: Block) -> tuple[list[str], list[str]]:
    if block.kind == "task_row":
        lead = next((v for k, v in block.cells.items() if "牵头" in k), "")
        resp = next((v for k, v in block.cells.items() if "配合" in k or "责任" in k), "")
        return fields.split_units(lead), fields.split_units(resp)
    lead, resp, _ = fields.extract_unit_block(block.text)
    return lead, resp


def build_clauses(
    doc_id: str, blocks: list[Block], *, max_chars: int, today: dt.date
) -> list[Clause]:
    clauses: list[Clause] = []
    for block in blocks:
        lead, resp = _block_units(block)
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
                )
            )
    return clauses


def parse_document(
    path: Path, *, today: dt.date, max_bytes: int, max_clause_chars: int = 600, sha256: str | None = None
) -> tuple[PolicyDocument, list[Clause]]:
    """Load, parse and extract. Raises ingest.loaders.LoadError for files a user must fix."""
    loaded = load_file(path, max_bytes=max_bytes)
    sha = sha256 or file_sha256(path)
    doc_id = sha[:16]
    parsed = parse_text(loaded.text)
    title, draft = metadata.title_from(parsed)
    if not title:
        title = path.stem
    issuer = metadata.find_issuer(parsed.header, parsed.footer)
    period, p_start, p_end = metadata.find_period(title, loaded.text)
    valid_until = metadata.find_valid_until(loaded.text)
    doc = PolicyDocument(
        doc_id=doc_id,
        title=title,
        doc_number=metadata.find_doc_number(parsed.header),
        issuer=issuer,
        issued_on=metadata.find_issued_on(parsed.header, parsed.footer),
        region=metadata.find_region(issuer, title),
        period=period,
        period_start=p_start,
        period_end=p_end or (int(valid_until[:4]) if valid_until else None),
        valid_until=valid_until,
        status=document_status(
            draft=draft, period_end=p_end, valid_until=valid_until, today=today
        ),
        source_path=str(path),
        sha256=sha,
        aliases=metadata.aliases_from(title),
    )
    clauses = build_clauses(doc_id, parsed.blocks, max_chars=max_clause_chars, today=today)
    doc.clause_count = len(clauses)
    if not clauses:
        raise LoadError("no policy text found in the file")
    log.info("parsed %s: %d clauses", path.name, len(clauses))
    return doc, clauses
