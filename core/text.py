"""Text forms shared by every floor: verbatim for quoting, normalized (NFKC, no whitespace) for matching."""

from __future__ import annotations

import re
import unicodedata

_WS = re.compile(r"\s+")
# A 文号 as documents write it: issuer prefix, year in brackets of any width, serial number ("某府发〔2024〕3号").
DOC_NUMBER = re.compile(r"(?P<prefix>[\u4e00-\u9fa5]{1,12})\s*[〔\[［【(（]\s*(?P<y>(?:19|20)\d{2})\s*[〕\]］】)）]\s*"
                        r"(?P<n>\d{1,4})\s*号")


def norm(text: str) -> str:
    """Matching form: NFKC (full-width digits/brackets → half-width), whitespace removed."""
    return _WS.sub("", unicodedata.normalize("NFKC", text))
