"""Masking personal numbers before a question reaches the log.

Enterprises type their contact numbers and ID numbers into the chat ("我的电话13812345678，…").
The log is read by operators who have no need for them, so they are replaced before logging.
Masking errs on the side of hiding: an 11-digit amount starting with 1 is masked as a phone too.
"""

from __future__ import annotations

import re

# Order matters: an 18-digit ID contains runs that would also match the phone patterns.
_ID_CARD = re.compile(r"\d{17}[\dXx]")
_MOBILE = re.compile(r"1\d{10}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")


def mask(text: str) -> str:
    """Replace 身份证 numbers, mobile and landline phone numbers with placeholders."""
    text = _ID_CARD.sub("[身份证号]", text)
    text = _MOBILE.sub("[手机号]", text)
    return _LANDLINE.sub("[电话]", text)


def for_log(text: str, limit: int = 200) -> str:
    """A masked, shortened, single-line form of user text for log lines."""
    short = text if len(text) <= limit else text[:limit] + f"…(+{len(text) - limit})"
    return mask(short).replace("\n", " ")
