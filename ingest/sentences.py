"""A fast rule-based sentence splitter that returns character spans (no model, no downloads)."""

from __future__ import annotations

import re

_ABBREV = {
    "e.g", "i.e", "etc", "vs", "dr", "mr", "mrs", "ms", "no", "fig", "figs", "al", "approx", "ref", "refs",
    "u.s", "st", "jr", "sr", "vol", "p", "pp", "ed", "eds", "inc", "co", "corp", "dept", "min", "max",
    "mg", "kg", "ml", "dl", "mcg", "hr", "hrs", "wk", "wks", "mo", "mos", "yr", "yrs", "resp", "cf", "viz",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "sec", "tab", "cap",
}
# Candidate boundary: end punctuation (+ closing quotes/brackets), whitespace, then an opening char.
_BOUNDARY = re.compile(r"([.!?])([\"'\u201d\u2019)\]]*)(\s+)(?=[\"'\u201c\u2018(\[]?[A-Z0-9\u2022•])")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def split_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]``; block separators (blank lines) always split."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for para in _paragraphs(text, start, end):
        spans.extend(_split_para(text, *para))
    return spans


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    pos = start
    while pos < end:
        nxt = text.find("\n\n", pos, end)
        stop = end if nxt == -1 else nxt
        s, e = pos, stop
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
        pos = stop + 2 if nxt != -1 else end
    return out


def _split_para(text: str, s: int, e: int) -> list[tuple[int, int]]:
    spans = []
    cur = s
    for m in _BOUNDARY.finditer(text, s, e):
        punct_end = m.end(2)
        if m.group(1) == ".":
            w = _WORD_BEFORE.search(text, cur, m.start(1))
            if w:
                word = w.group(1).lower().rstrip(".")
                if word in _ABBREV or (len(word) == 1 and word.isalpha()):
                    continue
        if punct_end - cur >= 2:
            spans.append((cur, punct_end))
            cur = m.end()
    if e > cur:
        spans.append((cur, e))
    return [(a, b) for a, b in spans if text[a:b].strip()]
