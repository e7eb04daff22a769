"""Does a batch of parsed files look like policy documents at all?

A careless ingest (a folder of log lines, a data export, a mailbox) turns every file into a
"policy document" that the chat then cites. Each such file may parse fine on its own; only the
batch shows it: most of its documents are a line or two long. The ingest goes on, with a warning.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.records import Clause, PolicyDocument
from core.settings import IngestTuning


def thin(clauses: list[Clause], tuning: IngestTuning) -> bool:
    """A document with less text than a short notice has."""
    return sum(len(c.text) for c in clauses) < tuning.thin_document_chars


def batch_warning(parsed: Iterable[tuple[PolicyDocument, list[Clause]]], tuning: IngestTuning) -> str | None:
    """A warning for a batch most of whose documents are too short to be policies, else None."""
    items = list(parsed)
    if len(items) < tuning.batch_min_files:
        return None
    short = [d for d, cl in items if thin(cl, tuning)]
    if len(short) < tuning.thin_share * len(items):
        return None
    examples = "、".join(d.source_file for d in short[:3])
    return (f"本批 {len(items)} 个文件中有 {len(short)} 个不足 {tuning.thin_document_chars} 字（如 {examples}），"
            f"看起来不是政策文件，请确认所选文件夹 / {len(short)} of {len(items)} files are under "
            f"{tuning.thin_document_chars} characters: this does not look like a batch of policy documents "
            "(they were ingested; `policybot remove` takes them out)")
