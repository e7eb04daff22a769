"""Bounded unpacking of zip containers (.docx and the other Office/OFD formats that are zip files).

A small file can declare members that inflate a thousandfold. Only the central directory is read
here, before anything is inflated: every member and the whole must stay under their caps, and a
member that inflates far beyond what ordinary XML does is refused. The declared sizes can be
trusted because zipfile never inflates a member past its declared size (and fails on the CRC when
the data would go on).
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass

from core.errors import LoadError

log = logging.getLogger(__name__)
_MB = 1024 * 1024
# Office XML deflates about 5–20:1; a member far beyond that is made to inflate, not to be read.
MAX_RATIO = 200
RATIO_FLOOR = 10 * _MB  # small members may compress well (an empty styles part): only large ones are judged
MAX_MEMBERS = 10_000  # a document has dozens of parts; a central directory of millions is an attack


@dataclass(frozen=True)
class UnpackLimits:
    total_bytes: int  # all members together, unpacked
    member_bytes: int  # any one member, unpacked


def _size(n: int) -> str:
    return f"{n / _MB:.1f} MB" if n >= _MB else f"{n} bytes"


def check_members(name: str, infos: list[zipfile.ZipInfo], limits: UnpackLimits) -> None:
    """LoadError when the archive would unpack beyond the limits; nothing has been inflated yet."""
    why = None
    if len(infos) > MAX_MEMBERS:
        why = f"{len(infos)} members (cap {MAX_MEMBERS})"
    big = next((i for i in infos if i.file_size > limits.member_bytes), None)
    bomb = next((i for i in infos if i.file_size > max(RATIO_FLOOR, MAX_RATIO * i.compress_size)), None)
    total = sum(i.file_size for i in infos)
    if why is None and big is not None:
        why = f"member {big.filename} unpacks to {_size(big.file_size)} (cap {_size(limits.member_bytes)} per member)"
    if why is None and bomb is not None:
        why = f"member {bomb.filename} compresses over {MAX_RATIO}:1"
    if why is None and total > limits.total_bytes:
        why = f"unpacks to {_size(total)} (cap {_size(limits.total_bytes)})"
    if why is not None:
        log.warning("%s rejected before unpacking: %s", name, why)
        raise LoadError(f"文件解压后过大 / {name} rejected before unpacking: {why}")
