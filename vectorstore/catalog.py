"""Generations: each successful ingest writes a complete new generation, then swaps CURRENT.

A reader opens whatever CURRENT names; a killed ingest leaves at worst an unreferenced
generation directory (removed by the next ingest), never a half-written index.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from core.records import Clause, PolicyDocument

CURRENT = "CURRENT"
GENERATIONS = "generations"


@dataclass
class Generation:
    name: str = ""
    docs: dict[str, PolicyDocument] = field(default_factory=dict)
    clauses: list[Clause] = field(default_factory=list)
    embedding_model: str = ""
    parser_version: str = ""

    def clauses_of(self, doc_id: str) -> list[Clause]:
        return [c for c in self.clauses if c.doc_id == doc_id]


def _fsync_write(path: Path, data: str) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def current_name(index_dir: Path) -> str | None:
    p = index_dir / CURRENT
    if not p.exists():
        return None
    name = p.read_text("utf-8").strip()
    return name if name and (index_dir / GENERATIONS / name / "catalog.json").exists() else None


def generation_dir(index_dir: Path, name: str) -> Path:
    return index_dir / GENERATIONS / name


def load_generation(index_dir: Path) -> Generation:
    name = current_name(index_dir)
    if name is None:
        return Generation()
    d = generation_dir(index_dir, name)
    cat = json.loads((d / "catalog.json").read_text("utf-8"))
    docs = {x["doc_id"]: PolicyDocument.from_dict(x) for x in cat["documents"]}
    clauses = []
    with (d / "clauses.jsonl").open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                clauses.append(Clause.from_dict(json.loads(line)))
    return Generation(
        name=name,
        docs=docs,
        clauses=clauses,
        embedding_model=cat.get("embedding_model", ""),
        parser_version=cat.get("parser_version", ""),
    )


def write_generation(index_dir: Path, gen: Generation, extra: dict[str, str] | None = None) -> Path:
    """Write files for a new generation (not yet current)."""
    d = generation_dir(index_dir, gen.name)
    d.mkdir(parents=True, exist_ok=True)
    catalog = {
        "embedding_model": gen.embedding_model,
        "parser_version": gen.parser_version,
        "documents": [doc.to_dict() for doc in gen.docs.values()],
        **(extra or {}),
    }
    _fsync_write(d / "catalog.json", json.dumps(catalog, ensure_ascii=False, indent=1))
    _fsync_write(
        d / "clauses.jsonl",
        "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in gen.clauses),
    )
    return d


def swap_current(index_dir: Path, name: str) -> None:
    tmp = index_dir / (CURRENT + ".tmp")
    _fsync_write(tmp, name + "\n")
    os.replace(tmp, index_dir / CURRENT)
    dir_fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def prune_generations(index_dir: Path, keep: str) -> None:
    root = index_dir / GENERATIONS
    if not root.exists():
        return
    for d in root.iterdir():
        if d.is_dir() and d.name != keep:
            shutil.rmtree(d, ignore_errors=True)
