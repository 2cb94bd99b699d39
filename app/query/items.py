"""The kinds of item a sentence holds, each searched when it is looked up (``Items``), and the literal marks that let a
lookup skip its search.

Every match of ``asks.ITEM_PATTERNS[kind]`` holds a digit or one of ``MARKS[kind]`` (case aside): a sentence written
in ASCII (94 % of the shared corpus's sentences) holding neither cannot hold that kind, so its pattern (3–20 µs a
sentence) is not searched. Other text, and the kinds without marks, are always searched. The gate reads whether
every sentence it scores holds a recommendation and a grade, and most sentences hold neither; tests/test_items.py
checks each pattern's every alternative against the marks.
"""

from __future__ import annotations

import re

from app.query.asks import ITEM_PATTERNS

# kind: (whether a digit may start a match, the words one of which every other match holds, lower-cased)
MARKS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "age": (True, ()),
    "interval": (True, ("every", "annual", "yearly", "biennial", "triennial", "once", "twice", "one-time", "periodic", "interval",
                        "repeat")),
    "dose": (True, ("dos", "mme")),
    "duration": (True, ("for",)),
    "threshold": (True, ("mm", "mg/dl", "mmol", "percent", "bmi", "kg/m")),
    "grade": (False, ("grade", "recommendation", "statement", "insufficient", "strong", "weak", "conditional", "strength", "evidence",
                      "certainty", "category", "class")),
    "recommend": (False, ("recommend", "suggest", "should", "concludes", "advise", "may", "consider", "preferred", "avoid")),
    "number": (True, ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve")),
}
_DIGIT = re.compile(r"[0-9]")


def may_hold(kind: str, text: str) -> bool:
    """False only when ``ITEM_PATTERNS[kind]`` cannot match ``text``: ASCII text with no digit (for the kinds a number
    may make) and none of the kind's marks, ignoring case (on ASCII text as the patterns' IGNORECASE does)."""
    marks = MARKS.get(kind)
    if marks is None or not text.isascii():
        return True
    digits, words = marks
    if digits and _DIGIT.search(text):
        return True
    low = text.lower()
    return any(w in low for w in words)


class Items:
    """``sentence_items(text)`` as a container whose patterns are searched when a kind is looked up, once each.

    The gate asks a sentence about two to four kinds (the asked ones, a recommendation, a grade), not all nine:
    per cold sentence that is ≈ 25 µs instead of ≈ 70 µs. ``k in Items(t)`` is ``k in sentence_items(t)``."""

    __slots__ = ("text", "_known")

    def __init__(self, text: str) -> None:
        self.text = text
        self._known: dict[str, bool] = {}

    def __contains__(self, kind: object) -> bool:
        hit = self._known.get(kind)  # type: ignore[call-overload]
        if hit is None:
            rx = ITEM_PATTERNS.get(kind) if isinstance(kind, str) else None
            hit = self._known[kind] = bool(rx is not None and may_hold(kind, self.text) and rx.search(self.text))  # type: ignore[arg-type,index]
        return hit
