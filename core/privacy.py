"""Masking personal data before any text is logged or stored.

Enterprises type their contact numbers, ID numbers and e-mail addresses into questions and feedback
("我的电话138 1234 5678，…"). Logs and the feedback store are read by operators who have no need for
them, so every log line and every stored text goes through `mask` first. It errs on the side of
hiding: an 11-digit amount starting with 13–19 is masked as a phone number too.

Forms covered: mobile numbers (with +86 / 0086, spaces or dashes), landlines with area code (in
brackets, with dashes or spaces, with an extension 转/分机/ext/-), bare 7–8 digit numbers named as a
phone, 身份证 numbers of 18 digits (last one may be X) and 15 digits, bank card numbers (16–19 digits,
grouped or not) and e-mail addresses. Full-width digits count as digits.
"""

from __future__ import annotations

import logging
import re

_D = "[0-9０-９]"  # full-width digits are what a Chinese input method types in full-width mode
_SEP = r"[ \t\-－—.·]?"  # one separator a person puts between digit groups
_NOT_DIGIT_BEFORE = r"(?<![0-9０-９])"
_NOT_DIGIT_AFTER = r"(?![0-9０-９])"


def _digits(n: int) -> str:
    return f"{_D}{{{n}}}"


def _grouped(*sizes: int) -> str:
    """Digit groups of the given sizes, each optionally separated by one separator."""
    return _SEP.join(_digits(n) for n in sizes)


_MONTH = "(?:[0０][1-9１-９]|[1１][0-2０-２])"
_DAY = f"(?:[0０][1-9１-９]|[1-2１-２]{_D}|[3３][01０１])"
_DATE = f"(?:19|20|１９|２０){_D}{{2}}{_SEP}{_MONTH}{_SEP}{_DAY}"  # yyyymmdd in an 18-digit ID
_DATE15 = f"{_D}{{2}}{_MONTH}{_DAY}"  # yymmdd in a 15-digit ID

# (pattern, placeholder), applied in this order: an ID or a card number holds runs that the phone
# patterns would otherwise take.
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"), "[邮箱]"),
    # 身份证, 18 digits: 6-digit area, birth date, 3-digit sequence, check digit (0–9 or X)
    (re.compile(f"{_NOT_DIGIT_BEFORE}{_digits(6)}{_SEP}{_DATE}{_SEP}{_digits(3)}[0-9０-９XxＸｘ]{_NOT_DIGIT_AFTER}"),
     "[身份证号]"),
    # bank cards: 16–19 digits, often written in groups of four
    (re.compile(f"{_NOT_DIGIT_BEFORE}(?:{_grouped(4, 4, 4, 4)}(?:{_SEP}{_D}{{1,3}})?|{_D}{{16,19}})"
                f"{_NOT_DIGIT_AFTER}"), "[银行卡号]"),
    # 身份证, 15 digits (issued before 1999): 6-digit area, yymmdd, 3-digit sequence
    (re.compile(f"{_NOT_DIGIT_BEFORE}{_digits(6)}{_DATE15}{_digits(3)}{_NOT_DIGIT_AFTER}"), "[身份证号]"),
    # mobile: 1[3-9]x xxxx xxxx, optionally with the country code
    (re.compile(f"{_NOT_DIGIT_BEFORE}(?:(?:\\+|00|＋)?(?:86|８６){_SEP})?[1１][3-9３-９]{_D}{_SEP}{_grouped(4, 4)}"
                f"{_NOT_DIGIT_AFTER}"), "[手机号]"),
    # landline with area code: 0xx / 0xxx, in brackets or followed by a separator, a 7–8 digit number
    # (maybe split), and an optional extension
    (re.compile(f"{_NOT_DIGIT_BEFORE}(?:[(（]{_SEP}[0０]{_D}{{2,3}}{_SEP}[)）]|[0０]{_D}{{2,3}}){_SEP}"
                f"(?:{_grouped(4, 4)}|{_grouped(3, 4)}|{_D}{{7,8}}){_NOT_DIGIT_AFTER}"
                f"(?:\\s*(?:转|分机|ext\\.?|x|-|－){{1}}\\s*{_D}{{1,6}}{_NOT_DIGIT_AFTER})?", re.IGNORECASE),
     "[电话]"),
    # a 7–8 digit number the writer calls a phone number, without area code
    (re.compile(f"(电话|座机|手机|号码|热线|固话|tel)([:：是为\\s]{{0,3}})"
                f"{_NOT_DIGIT_BEFORE}(?:{_grouped(4, 4)}|{_grouped(3, 4)}|{_D}{{7,8}}){_NOT_DIGIT_AFTER}"
                f"(?:\\s*(?:转|分机|ext\\.?)\\s*{_D}{{1,6}})?", re.IGNORECASE), r"\1\2[电话]"),
]


def mask(text: str) -> str:
    """Replace e-mail addresses, 身份证, bank card, mobile and landline numbers with placeholders."""
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    return text


def for_log(text: str, limit: int = 200) -> str:
    """A masked, shortened, single-line form of user text for log lines."""
    short = text if len(text) <= limit else text[:limit] + f"…(+{len(text) - limit})"
    return mask(short).replace("\n", " ").replace("\r", " ")


class MaskingFilter(logging.Filter):
    """Masks every record a handler emits: the net under the explicit `for_log` calls, so that a log
    line added later cannot write a visitor's number to disk."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def mask_logs(logger: logging.Logger | None = None) -> None:
    """Install the masking filter on every handler of the logger (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
