"""Mask obvious patient identifiers before text is logged or stored.

Rule-based on purpose: every pattern needs an identifier *shape* (an e-mail, a phone number, a
``123-45-6789`` SSN) or an identifier *keyword* (MRN, DOB, "born on", "patient", Mr./Mrs./Ms.).
Clinical numbers — doses ("500 mg"), ages ("aged 45 to 75"), intervals ("every 3-5 years"), blood
pressure ("140/90"), guideline years and dates without a birth keyword — carry neither and are left
alone. Toll-free numbers (1-800 …) belong to organisations (Poison Control), not patients, and are kept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"  # 01/02/1980, 3-4-50
    r"|\d{4}-\d{1,2}-\d{1,2}"  # 1980-01-02
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # March 3, 1975
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}})"  # 3 March 1975
)
_DOB_KEY = r"(?i:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|born(?:\s+on)?)"
_NAME_WORD = r"[A-Z][a-z'’-]+"
_NAME = rf"{_NAME_WORD}(?:\s+[A-Z]\.)?(?:\s+{_NAME_WORD}){{0,2}}"

# Capitalised words that follow "patient" in guideline prose and are not names.
_NOT_NAMES = frozenset(
    """
    Safety Care Protection Education Information Health Portal Centered Centred Reported Outcome Outcomes
    Assessment Questionnaire Self Experience Experiences Preference Preferences Decision Decisions Aid Aids
    Navigation Navigator Engagement Management Rights Privacy Advocate Advocacy Registry Record Records
    Guide Guides Handout Version Summary Population Populations Characteristics Selection Factors
    Considerations Counseling Counselling Resources Resource Group Groups Age Sex History Level Values
    The A An And Or Of With Without In On At For To From By Is Are Was Were Has Had Who Which That This
    Should Must May Can Will Would Could Mr Mrs Ms Miss Mx Dr Male Female Patient Pt Name
    """.split()
)


_KEYWORD_WORDS = frozenset({"Patient", "Pt", "Name"})


def _mask_name_group(m: re.Match[str], group: str) -> str:
    """Mask the name group; keep a leading keyword ("Patient") and stop at guideline words ("Should").

    A name group that *starts* with a guideline word ("Patient Health Questionnaire") is prose, not a name.
    """
    words = list(re.finditer(r"[^\s]+", m.group(group)))
    while words and words[0].group(0).rstrip(".") in _KEYWORD_WORDS:
        words.pop(0)
    kept = []
    for w in words:
        if w.group(0).rstrip(".") in _NOT_NAMES:
            break
        kept.append(w)
    if not kept or (words and kept[0] is not words[0]):
        return m.group(0)
    base = m.start(group) - m.start(0)
    start, end = base + kept[0].start(), base + kept[-1].end()
    return m.group(0)[:start] + "[NAME]" + m.group(0)[end:]


_RULES: list[tuple[str, re.Pattern[str], Any]] = []


def _rule(label: str, rx: str, repl: Any, flags: int = re.IGNORECASE) -> None:
    _RULES.append((label, re.compile(rx, flags), repl))


_rule("EMAIL", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b", "[EMAIL]")
_rule("SSN", r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b", "[SSN]")
_rule("SSN", r"\b(SSN|social\s+security\s+(?:number|no\.?|#))\s*[:#]?\s*\d{9}\b", r"\1 [SSN]")
_rule(
    "MRN",
    r"\b(?P<key>MRN|medical\s+record\s+(?:number|no\.?|#)|chart\s+(?:number|no\.?|#))"
    r"(?P<sep>\s*(?:#|:|no\.?|number)?\s*:?\s*)[A-Z]{0,3}-?\d{4,12}\b",
    lambda m: f"{m.group('key')}{m.group('sep')}[MRN]",
)
# A name right before a birth keyword: "Jane Doe, DOB 3/4/1950", "John Smith (born on March 3, 1975)".
_rule(
    "NAME",
    rf"(?P<name>{_NAME})(?=\s*[,(]?\s*{_DOB_KEY}\s*[:\-]?\s*{_DATE})",
    lambda m: _mask_name_group(m, "name"),
    0,
)
_rule(
    "DOB",
    rf"\b(?P<key>{_DOB_KEY})(?P<sep>\s*[:\-]?\s*){_DATE}",
    lambda m: f"{m.group('key')}{m.group('sep')}[DOB]",
)
_rule(
    "PHONE",
    r"(?:\+1[\s.-]?)?(?:\(\d{3}\)\s*|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b|\+1[\s.-]?\d{3}[\s.-]?\d{3}[\s.-]?\d{4}\b"
    r"|\b1-\d{3}-\d{3}-\d{4}\b",
    lambda m: m.group(0) if _is_toll_free(m.group(0)) or not _is_phone(m.group(0)) else "[PHONE]",
)
# Honorific + name: "Mr. John Smith" -> "Mr. [NAME]" (Dr. is left: clinicians are not patients).
_rule(
    "NAME",
    rf"\b(?:Mr|Mrs|Ms|Miss|Mx)\.?\s+(?P<name>{_NAME})",
    lambda m: _mask_name_group(m, "name"),
    0,
)
# "patient Jane Doe", "Patient name: Jane Doe", "pt John Smith".
_rule(
    "NAME",
    rf"\b(?:[Pp]atient|[Pp]t\.?)(?:\s+name)?\s*:?\s+(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}})",
    lambda m: _mask_name_group(m, "name"),
    0,
)

_TOLL_FREE = {"800", "833", "844", "855", "866", "877", "888"}


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _is_toll_free(s: str) -> bool:
    d = _digits(s)
    if len(d) == 11 and d.startswith("1"):
        d = d[1:]
    return d[:3] in _TOLL_FREE


def _is_phone(s: str) -> bool:
    """A bare "123 456 7890" (spaces only, no +1 or parentheses) is too often a list of numbers."""
    s = s.strip()
    if "(" in s or s.startswith("+"):
        return True
    seps = set(re.findall(r"\D+", s))
    return len(seps) == 1 and seps <= {"-", "."}


def mask_identifiers(text: str) -> str:
    """Replace patient identifiers with typed placeholders ([EMAIL], [PHONE], [MRN], [DOB], [SSN], [NAME])."""
    if not text:
        return text
    for _label, rx, repl in _RULES:
        text = rx.sub(repl, text)
    return text


def _mask_value(v: Any) -> Any:
    if isinstance(v, str):
        return mask_identifiers(v)
    if isinstance(v, int | float | bool) or v is None:
        return v
    s = str(v)
    masked = mask_identifiers(s)
    return v if masked == s else masked


class PIIMaskingFilter(logging.Filter):
    """Masks the message, its arguments and any exception text; never drops a record.

    Arguments stay a tuple of the same length (uvicorn's access formatter unpacks them).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_identifiers(record.msg)
        elif record.msg is not None:
            record.msg = _mask_value(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {k: _mask_value(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_mask_value(a) for a in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_identifiers(record.exc_text)
        return True


MASKED_LOGGERS = ("guideground", "uvicorn.access", "uvicorn.error")


def _attach(target: logging.Logger | logging.Handler, flt: PIIMaskingFilter) -> None:
    if not any(isinstance(f, PIIMaskingFilter) for f in target.filters):
        target.addFilter(flt)


def install_log_masking() -> PIIMaskingFilter:
    """Attach one PIIMaskingFilter to the root handlers and to the app and uvicorn loggers (idempotent).

    Logger filters only see records logged on that logger, handler filters see everything that
    reaches the handler (including propagated records), so both are set. Call it after logging is
    configured (uvicorn replaces its handlers at start-up), e.g. in the app's lifespan.
    """
    flt = PIIMaskingFilter()
    for h in logging.getLogger().handlers:
        _attach(h, flt)
    for name in MASKED_LOGGERS:
        lg = logging.getLogger(name)
        _attach(lg, flt)
        for h in lg.handlers:
            _attach(h, flt)
    return flt
