"""Generations as files: each successful ingest writes a complete new generation, then swaps CURRENT.

A reader opens whatever CURRENT names; a killed ingest leaves at worst an unreferenced
generation directory (removed by the next ingest), never a half-written index. In server mode the
same files are each app server's cache of the deployment's live generation (vectorstore.shared).
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    # doc_id → the server (host and index folder) whose ingest added it: only that server may remove a
    # document because its file is gone, since only there does the file's absence mean anything
    origins: dict[str, str] = field(default_factory=dict)
    # the deployment whose shared generation these files cache; "" for an index of its own
    deployment: str = ""

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


def has_generation(index_dir: Path, name: str) -> bool:
    d = generation_dir(index_dir, name)
    return (d / "catalog.json").exists() and (d / "clauses.jsonl").exists() and (d / "lexical").exists()


def load_generation(index_dir: Path, name: str | None = None) -> Generation:
    """The generation CURRENT names (or the one named), or an empty one."""
    name = name or current_name(index_dir)
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
        origins=cat.get("origins", {}),
        deployment=cat.get("deployment", ""),
    )


def write_generation(index_dir: Path, gen: Generation, extra: dict[str, str] | None = None) -> Path:
    """Write files for a new generation (not yet current)."""
    d = generation_dir(index_dir, gen.name)
    d.mkdir(parents=True, exist_ok=True)
    catalog = {
        "embedding_model": gen.embedding_model,
        "parser_version": gen.parser_version,
        "origins": gen.origins,
        "deployment": gen.deployment,
        "documents": [doc.to_dict() for doc in gen.docs.values()],
        **(extra or {}),
    }
    _fsync_write(d / "catalog.json", json.dumps(catalog, ensure_ascii=False, indent=1))
    _fsync_write(
        d / "clauses.jsonl",
        "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in gen.clauses),
    )
    return d


def write_generation_atomically(
    index_dir: Path, gen: Generation, build_extra: list[Callable[[Path], None]] | None = None
) -> Path:
    """Write a generation under a temporary name and rename it into place: a reader or a crash sees the
    whole generation folder or none of it. Returns the final folder."""
    final = generation_dir(index_dir, gen.name)
    tmp_name = f".tmp-{gen.name}-{secrets.token_hex(3)}"
    tmp = write_generation(index_dir, dataclasses.replace(gen, name=tmp_name))
    for build in build_extra or []:
        build(tmp)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


@contextmanager
def folder_lock(index_dir: Path, name: str = "cache.lock") -> Iterator[None]:
    """Serialises the writes of generation files into one folder (an ingest, a cache refresh), across
    threads and processes; waits rather than fails, since each holder is quick."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / name, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def swap_current(index_dir: Path, name: str) -> None:
    tmp = index_dir / (CURRENT + ".tmp")
    _fsync_write(tmp, name + "\n")
    os.replace(tmp, index_dir / CURRENT)
    dir_fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def prune_generations(index_dir: Path, keep: str | set[str]) -> None:
    keep = {keep} if isinstance(keep, str) else keep
    root = index_dir / GENERATIONS
    if not root.exists():
        return
    for d in root.iterdir():
        if d.is_dir() and d.name not in keep:
            shutil.rmtree(d, ignore_errors=True)
