"""Conversion debris and line ends: what the structure parser needs to know about raw text."""

from __future__ import annotations

import re

# Word-processor conversion leftovers that are never policy text.
DEBRIS = re.compile(r"\[bookmark:[^\]]*\]|\[image:[^\]]*\]|\{\\[a-z]+[^}]*\}")
# A line that ends a sentence or a bracketed unit list; anything else ending a line
# inside the body was cut by a page break.
_TERMINAL = set("。；;！!？?：:”’）)〕」』】…")



def ends_sentence(line: str) -> bool:
    s = line.rstrip()
    return not s or s[-1] in _TERMINAL
