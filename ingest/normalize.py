"""Text forms: verbatim for quoting, normalized (NFKC, no whitespace) for matching."""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")
# Word-processor conversion leftovers that are never policy text.
DEBRIS = re.compile(r"\[bookmark:[^\]]*\]|\[image:[^\]]*\]|\{\\[a-z]+[^}]*\}")
# A line that ends a sentence or a bracketed unit list; anything else ending a line
# inside the body was cut by a page break.
_TERMINAL = set("。；;！!？?：:”’）)〕」』】…")


def norm(text: str) -> str:
    """Matching form: NFKC (full-width digits/brackets → half-width), whitespace removed."""
    return _WS.sub("", unicodedata.normalize("NFKC", text))


def ends_sentence(line: str) -> bool:
    s = line.rstrip()
    return not s or s[-1] in _TERMINAL
