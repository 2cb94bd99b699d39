"""Numbers and their units: the (number, unit) pairs a text states, and whether a claim's are in the premise."""

from __future__ import annotations

import re

WORD_NUMBERS = {
    w: str(i) for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
     "hundred": "100", "once": "1 time", "twice": "2 times", "single": "1", "biennial": "every 2 years",
     "biennially": "every 2 years"}
_WORD_NUM = re.compile(r"\b(" + "|".join(sorted(WORD_NUMBERS, key=len, reverse=True)) + r")\b", re.IGNORECASE)
_NUM = r"\d+(?:[.,]\d+)*"
_UNIT_TOKEN = r"(?:%|percent|per\s?cent|°\s?[CF]\b|[A-Za-zµμ²]+(?:/[A-Za-zµμ0-9²]+)*)"
_QTY = re.compile(
    rf"(?<![\w.])({_NUM})(?:\s*(?:-|–|—|to|and|or)\s*({_NUM}))?(?:\s*-?\s*({_UNIT_TOKEN}))?", re.IGNORECASE
)
UNITS = {
    "year": "year", "years": "year", "yr": "year", "yrs": "year", "y": "year", "month": "month", "months": "month",
    "mo": "month", "week": "week", "weeks": "week", "wk": "week", "wks": "week", "day": "day", "days": "day",
    "hour": "hour", "hours": "hour", "h": "hour", "hr": "hour", "hrs": "hour", "minute": "minute", "minutes": "minute",
    "min": "minute", "mins": "minute", "second": "second", "seconds": "second", "s": "second", "%": "%",
    "percent": "%", "percent.": "%", "per cent": "%", "percentage": "%", "mg": "mg", "g": "g", "kg": "kg",
    "mcg": "mcg", "µg": "mcg", "μg": "mcg", "ug": "mcg", "ml": "ml", "l": "l", "dl": "dl", "mmol": "mmol",
    "mmhg": "mmhg", "iu": "iu", "units": "unit", "unit": "unit", "times": "time", "time": "time", "doses": "dose",
    "dose": "dose", "cm": "cm", "mm": "mm", "m": "m", "km": "km", "bpm": "bpm", "°c": "°c", "°f": "°f",
    "microgram": "mcg", "micrograms": "mcg", "milligram": "mg", "milligrams": "mg", "gram": "g", "grams": "g",
    "meq": "meq", "ng": "ng", "mu": "mu", "cigarettes": "cigarette", "packs": "pack", "pack": "pack",
    "drinks": "drink", "drink": "drink", "steps": "step", "step": "step", "sessions": "session", "session": "session",
}
_DAY = {"d": "day", "day": "day", "wk": "week", "week": "week", "h": "hour", "hr": "hour", "min": "minute"}
_GRADE = re.compile(r"\b(?i:grade)\s+([A-DI])\b|\b([A-DI])\s+recommendation\b")
# A number that names something ("Recommendation 2", "type 2", "stage 3") is a label, not a quantity.
_LABEL = re.compile(r"\b(recommendation|category|level|stage|class|step|phase|tier|type|grade|schedule)\s+(\d+[a-z]?)\b", re.IGNORECASE)


def _norm_num(n: str) -> str:
    n = n.replace(",", "")
    return n.rstrip("0").rstrip(".") if "." in n else n


def _unit(tok: str | None) -> str:
    if not tok:
        return ""
    t = tok.lower().replace(" ", "").replace("μ", "µ").rstrip(".")
    if "/" in t:
        head, *rest = t.split("/")
        return "/".join([UNITS.get(head, head)] + [_DAY.get(r, r) for r in rest])
    return UNITS.get(t, "")


def quantities(text: str) -> set[tuple[str, str]]:
    """(number, unit) pairs; a range's unit applies to both ends ("45 to 75 years")."""
    text = _WORD_NUM.sub(lambda m: WORD_NUMBERS[m.group(1).lower()], text)
    out: set[tuple[str, str]] = set()
    for m in _QTY.finditer(text):
        unit = _unit(m.group(3))
        out.add((_norm_num(m.group(1)), unit))
        if m.group(2):
            out.add((_norm_num(m.group(2)), unit))
    for m in _GRADE.finditer(text):
        out.add(((m.group(1) or m.group(2)).upper(), "grade"))
    for m in _LABEL.finditer(text):
        out.add((_norm_num(m.group(2).lower()), m.group(1).lower()))
    return out


def numbers_supported(premise: str, claim: str) -> bool:
    have = quantities(premise)
    units_of: dict[str, set[str]] = {}
    for n, u in have:
        units_of.setdefault(n, set()).add(u)
    for n, u in quantities(claim):
        got = units_of.get(n)
        if not got:
            return False
        if u and u not in got and (got - {""}):
            return False  # the premise gives this number with another unit
    return True
