"""Text normalization shared by every parser, and block classification heuristics."""

from __future__ import annotations

import re
import unicodedata

# Bump when what normalize_text returns changes: part of the index fingerprint (ingest/pipeline.py), so an index
# built with an earlier revision is rebuilt rather than mixed. 1: control characters are removed (a PDF's bullet
# glyph comes out as BEL, "A. \x07Written infection prevention policies …").
TEXT_REVISION = 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # C0 and C1 controls but tab, newline, CR and form feed
_WS = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_NL = re.compile(r"\s*\n\s*")
_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")

# "Recommendation 3", "Recommendation 3 (Grade B)", USPSTF grade statements, strength statements.
RECOMMENDATION_RE = re.compile(
    r"^\s*(?:recommendation\s+\d+\b|\d+\.\s+(?=[A-Z]).{0,40}\b(?:should|recommend)|"
    r"the uspstf recommends|the uspstf concludes|grade\s*[:\-]?\s*[abcdi]\b|"
    r".*\((?:grade\s+[abcdi]|[ab]\s+recommendation)[^)]*\))",
    re.IGNORECASE,
)
GRADE_RE = re.compile(
    r"^\s*(?:\(?\s*(?:grade|strength of recommendation|level of evidence|quality of evidence|recommendation category)\b"
    r"|\(?\s*(?:strong|weak|conditional)\s+recommendation\b|\(?\s*category\s+[abi]{1,2}\b)",
    re.IGNORECASE,
)


def normalize_text(text: str) -> str:
    """NFC, drop control characters, unify odd spaces, de-hyphenate line breaks, collapse whitespace to single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text) if _CONTROL.search(text) else text
    text = text.replace("\u00ad", "")  # soft hyphen
    text = _HYPHEN_BREAK.sub(r"\1\2", text) if "-\n" in text else text
    text = _NL.sub(" ", text)
    text = _WS.sub(" ", text)
    return text.strip()


def looks_like_recommendation(text: str) -> bool:
    return bool(RECOMMENDATION_RE.match(text))


def looks_like_grade_line(text: str) -> bool:
    return len(text) < 300 and bool(GRADE_RE.match(text))


def looks_like_pseudo_heading(text: str) -> bool:
    """Short stand-alone lines such as 'Clinical Considerations' that parsers label as plain text."""
    if len(text) > 80 or len(text) < 3:
        return False
    if text[-1] in ".,;:?!)" or not text[0].isupper():
        return False
    words = text.split()
    if len(words) > 9:
        return False
    if re.fullmatch(r"[\d\W]+", text):
        return False
    capitalized = sum(1 for w in words if w[:1].isupper() or w.lower() in _SMALL_WORDS)
    return capitalized >= max(1, len(words) - 1)


_SMALL_WORDS = {"of", "and", "for", "the", "in", "on", "to", "with", "a", "an", "or", "by", "at", "vs", "from"}
