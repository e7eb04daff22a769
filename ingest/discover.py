"""Which files of the paths a user names are policy files to read."""

from __future__ import annotations

from pathlib import Path

from ingest.loaders import SUPPORTED_SUFFIXES


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files named directly, plus every supported file under the folders named, in a stable order."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(x for x in p.rglob("*") if x.is_file() and x.suffix.lower() in SUPPORTED_SUFFIXES)
        else:
            files.append(p)
    return files
