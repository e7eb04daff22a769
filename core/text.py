"""Text forms shared by every floor: verbatim for quoting, normalized (NFKC, no whitespace) for matching."""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")


def norm(text: str) -> str:
    """Matching form: NFKC (full-width digits/brackets → half-width), whitespace removed."""
    return _WS.sub("", unicodedata.normalize("NFKC", text))
