"""Which files of the paths a user names are policy files to read.

A file named directly is read whatever its name. In a folder, only policy file types are read (images,
which are scans only sometimes, when an `include` pattern names them), and
files that describe the folder rather than being policy documents (README, SOURCES, index pages,
licences) are skipped with a note — unless an `include` pattern names them.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest.loaders import IMAGE_SUFFIXES, SUPPORTED_SUFFIXES

# Names of files that document a folder: "README.md", "SOURCES.md", "index.html", "LICENSE.txt" …
NOT_POLICY = re.compile(
    r"^(readme|sources?|index|changelog|license|licence|contributing)([._-].*)?$",
    re.IGNORECASE,
)


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (path, why it was not read)


def _included(path: Path, root: Path, include: tuple[str, ...]) -> bool:
    rel = path.relative_to(root).as_posix()
    return any(fnmatch.fnmatch(path.name, pat) or fnmatch.fnmatch(rel, pat) for pat in include)


def discover(paths: list[Path], *, include: tuple[str, ...] | list[str] = ()) -> Discovery:
    """Files named directly, plus the policy files under the folders named, in a stable order."""
    include = tuple(include)
    out = Discovery()
    for p in paths:
        if not p.is_dir():
            out.files.append(p)
            continue
        for x in sorted(p.rglob("*")):
            if not x.is_file():
                continue
            rel = x.relative_to(p)
            if any(part.startswith(".") for part in rel.parts) or x.name.startswith("~$"):
                continue  # hidden files and office lock files are nobody's documents
            if _included(x, p, include):
                out.files.append(x)
            elif x.suffix.lower() not in SUPPORTED_SUFFIXES:
                out.ignored.append((str(x), f"not a policy file type ({x.suffix or 'no extension'})"))
            elif x.suffix.lower() in IMAGE_SUFFIXES:
                # folders of saved pages hold logos and photos: a scan is read when named or included
                why = f"an image ({x.suffix}): read by OCR when named directly or with --include"
                out.ignored.append((str(x), why))
            elif NOT_POLICY.match(x.name):
                out.ignored.append((str(x), "describes the folder, not a policy document (--include to read it)"))
            else:
                out.files.append(x)
    return out


def expand_paths(paths: list[Path], *, include: tuple[str, ...] | list[str] = ()) -> list[Path]:
    """The files `discover` would read."""
    return discover(paths, include=include).files
