"""Which files of the paths a user names are policy files to read.

A file named directly is read whatever its name. In a folder, only policy file types are read (images,
which are scans only sometimes, when an `include` pattern names them), and
files that describe the folder rather than being policy documents (README, SOURCES, index pages,
licences) are skipped with a note — unless an `include` pattern names them.

A named path that is missing, or a folder holding no policy file (an unmounted share, a moved
folder), is an error of its own: it must never read as "every document of this folder is gone".
Only folders that exist and hold policy files are `roots` from which vanished files are removed.
A file whose name cannot be decoded (a zip made on a GBK system, unpacked elsewhere) is rejected
with its reason; the rest of the batch goes on.
"""

from __future__ import annotations

import fnmatch
import os
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
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (path, why it cannot be read)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (named path, why nothing was read from it)
    roots: list[Path] = field(default_factory=list)  # folders read whole: their vanished files leave the index


def printable(path: Path | str) -> str:
    """The path as text that can be printed and stored: undecodable bytes of its name as \\xNN."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def name_problem(path: Path) -> str | None:
    """Why a file's name (or a folder's above it) makes it unreadable for the index, or None."""
    if not any("\udc80" <= ch <= "\udcff" for ch in str(path)):
        return None
    try:
        guess = os.fsencode(path.name).decode("gb18030")
        hint = f"；按 GBK 读作“{guess}”，请改用此名" if guess.isprintable() else ""
    except UnicodeDecodeError:
        hint = ""
    return f"文件名不是有效的 UTF-8 编码 / file name is not valid UTF-8 (a zip made on a GBK system?){hint}"


def _included(path: Path, root: Path, include: tuple[str, ...]) -> bool:
    rel = path.relative_to(root).as_posix()
    return any(fnmatch.fnmatch(path.name, pat) or fnmatch.fnmatch(rel, pat) for pat in include)


def discover(paths: list[Path], *, include: tuple[str, ...] | list[str] = ()) -> Discovery:
    """Files named directly, plus the policy files under the folders named, in a stable order."""
    include = tuple(include)
    out = Discovery()
    for p in paths:
        if not p.exists():
            out.errors.append((printable(p), "路径不存在 / path not found: nothing was read or removed "
                                             "(to remove documents: policybot remove)"))
            continue
        if not p.is_dir():
            _add(out, p)
            continue
        before = len(out.files)
        for x in sorted(p.rglob("*")):
            if not x.is_file():
                continue
            rel = x.relative_to(p)
            if any(part.startswith(".") for part in rel.parts) or x.name.startswith("~$"):
                continue  # hidden files and office lock files are nobody's documents
            if _included(x, p, include):
                _add(out, x)
            elif x.suffix.lower() not in SUPPORTED_SUFFIXES:
                out.ignored.append((printable(x), f"not a policy file type ({x.suffix or 'no extension'})"))
            elif x.suffix.lower() in IMAGE_SUFFIXES:
                # folders of saved pages hold logos and photos: a scan is read when named or included
                why = f"an image ({x.suffix}): read by OCR when named directly or with --include"
                out.ignored.append((printable(x), why))
            elif NOT_POLICY.match(x.name):
                out.ignored.append((printable(x),
                                    "describes the folder, not a policy document (--include to read it)"))
            else:
                _add(out, x)
        # a folder with nothing readable left is taken for a share gone missing, never for an empty collection
        if len(out.files) == before:
            out.errors.append((printable(p), "文件夹中没有可读的政策文件 / folder holds no readable policy file: "
                                             "nothing was removed (to remove documents: policybot remove)"))
        else:
            out.roots.append(p)
    return out


def _add(out: Discovery, path: Path) -> None:
    problem = name_problem(path)
    if problem:
        out.rejected.append((printable(path), problem))
    else:
        out.files.append(path)


def expand_paths(paths: list[Path], *, include: tuple[str, ...] | list[str] = ()) -> list[Path]:
    """The files `discover` would read."""
    return discover(paths, include=include).files
