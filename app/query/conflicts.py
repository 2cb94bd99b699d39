"""Disagreement between guidelines on the asked-for item: a number, a grade, or the direction.

Each guideline among the relevant sentences takes a *position*: the values of the kind the question
asks for (ages, intervals, doses, durations, thresholds), its recommendation grade, and its direction
(for, against, insufficient evidence). Two guidelines disagree when their best relevant sentences are
about the same item (enough shared content words, or a shared one the question asks about) and their
positions differ on something the question asks about. When the question asks how strongly, a VA/DoD
"recommends" is strong and "suggests" weak; two times 30-fold apart are different items. A guideline
superseded by a newer version of itself is reported as a version difference. The service answers with
both positions attributed (``conflicts`` in the response); see docs/architecture.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.query.schemas import Citation, ConflictOut, ConflictPosition
from app.query.verify import content_words
from ingest.store import LoadedIndex

# (kind, pattern) — the number is group "n".
_FACTS = [
    ("age", re.compile(r"\b(?:age[sd]?|aged|older than|younger than|beginning at|starting at|start at)\s+(?:of\s+)?(?P<n>\d{1,3})\b", re.I)),
    ("age", re.compile(r"\b(?P<n>\d{1,3})\s*(?:years? (?:of age|old)|-year-olds?)\b", re.I)),
    ("age", re.compile(r"\b(?P<n>\d{1,3})\s*(?:to|-|–)\s*\d{1,3}\s*years\b", re.I)),
    ("interval", re.compile(r"\bevery\s+(?P<n>\d{1,2})\s*(?:to\s+\d+\s*)?(?P<u>year|month|week|day)s?\b", re.I)),
    ("interval", re.compile(r"\b(?P<n>annual(?:ly)?|yearly|biennial(?:ly)?|periodically)\b", re.I)),
    ("dose", re.compile(r"\b(?P<n>\d+(?:\.\d+)?)(?:\s*(?:-|to|–)\s*\d+(?:\.\d+)?)?\s*(?:mg|mcg|µg|micrograms?|g|units?|mL|MME)\b"
                        r"(?P<kg>\s*(?:/|per)\s*(?:kg|kilogram)\b)?", re.I)),
    ("duration", re.compile(r"\b(?P<n>\d{1,3}|three|seven|few)\s*(?P<u>day|week|hour)s?\b(?! of age)", re.I)),
    ("threshold", re.compile(r"\b(?P<n>\d{2,3}(?:/\d{2,3})?)\s*mm\s*Hg\b|(?P<p>\d+(?:\.\d+)?)\s*%", re.I)),
    # a blood-pressure goal without its unit: "treat to lower systolic blood pressure ≤140" (stop 35)
    ("threshold", re.compile(r"\b(?:systolic|diastolic)\s+(?:blood\s+pressure|BP)\s+(?:(?:goal|target)\s+)?(?:of\s+)?"
                             r"(?:[<>≤≥]=?|below|under|less than)\s*(?P<n>\d{2,3})\b(?!\s*mm)", re.I)),
]
_GRADE = [
    re.compile(r"\bgrade\s*[:\-]?\s*(?P<g>[A-D])\b"),
    re.compile(r"\b(?P<g>[A-D])\s+recommendation\b"),
    re.compile(r"\brecommendation category\s*:\s*(?P<g>[A-D])\b", re.I),
    re.compile(r"\b(?P<g>I)\s+statement\b"),
    re.compile(r"\b(?P<g>(?:strong|weak)\s+(?:for|against))\b", re.I),
    re.compile(r"\bstrength of recommendation\s*:?\s*(?P<g>[A-D])\b", re.I),
]
_AGAINST = re.compile(r"\brecommends? against\b|\bsuggests? against\b|\bnot recommended\b|\bshould not\b|\bavoid\b|\b(?:strong|weak) against\b|\bD recommendation\b|\bgrade\s*:?\s*D\b", re.I)
_INSUFFICIENT = re.compile(r"\binsufficient\b|\bI statement\b|\bneither for nor against\b|\bevidence is lacking\b", re.I)
_FOR = re.compile(r"\brecommends?\b|\bsuggests?\b|\bshould\b|\boffer\b|\b[AB] recommendation\b|\b(?:strong|weak) for\b", re.I)

ASKS = [
    ("age", re.compile(r"\b(age|aged|old|older|younger|start|begin|when)\b", re.I)),
    ("interval", re.compile(r"\b(how often|interval|frequency|every|repeat|how frequently|annual|yearly|rescreen)\w*", re.I)),
    ("dose", re.compile(r"\b(dose|dosage|dosing|how much|mg|mcg|units?|mme)\b", re.I)),
    ("duration", re.compile(r"\b(how long|duration|days?|weeks?|hours?|within|how many days)\b", re.I)),
    ("threshold", re.compile(r"\b(blood pressure|systolic|diastolic|threshold|target|goal|mm ?hg|cutoff|cut-off|risk of|percent|%)", re.I)),
]


_WORD_VALUES = {"annual": "1", "annually": "1", "yearly": "1", "biennial": "2", "biennially": "2", "three": "3", "seven": "7"}
# A time is compared in days, so "14 days" agrees with "2 weeks" and "every 3 years" differs from "every 3 months".
_DAYS = {"hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.0, "year": 365.0}
_WORD_DAYS = {"annual": 365.0, "annually": 365.0, "yearly": 365.0, "biennial": 730.0, "biennially": 730.0}


def _key(value: str, unit: str | None) -> str:
    v = value.lower()
    if v in _WORD_DAYS:
        return f"{_WORD_DAYS[v]:g}d"
    v = _WORD_VALUES.get(v, v)
    if unit is not None and v.replace(".", "", 1).isdigit():
        return f"{float(v) * _DAYS[unit.lower()]:g}d"
    return v if unit is None else f"{v} {unit.lower()}"


# The start of a range that ends in the matched number: "3-" of "3-5 days", "1–" of "1–4 weeks", "between 12 and".
_RANGE_BEFORE = re.compile(r"(?:\d+(?:\.\d+)?\s*(?:-|–|to)|between\s+\d+(?:\.\d+)?\s+and)\s*$")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# Kinds whose range states both its ends as values (stop 47): "initiated between 12 and 28 weeks" does not disagree
# with "after 12 weeks", nor "every 3 to 5 years" with "every 3 years". An age range keeps its start ("aged 50 to 75"
# against "aged 45 to 75" is the disagreement about when to begin).
_BOTH_ENDS = frozenset({"interval", "dose", "duration"})


def stated(text: str) -> dict[str, dict[str, str]]:
    """Per kind, each value (the key compared across guidelines: a number, "1" for annual) and how the sentence
    states it ("3-5 days", "every 2 years", "aged 50 to 74 years"): what a reader of ``conflicts`` needs to see."""
    out: dict[str, dict[str, str]] = {}
    for kind, rx in _FACTS:
        for m in rx.finditer(text):
            v = m.groupdict().get("n") or m.groupdict().get("p")
            if v:
                start = m.start()
                r = _RANGE_BEFORE.search(text, max(0, start - 16), start)
                shown = " ".join(text[r.start() if r else start : m.end()].split())
                seen = out.setdefault(kind, {})
                unit = m.groupdict().get("u")
                # the unit family a value is compared within (_comparable): per kilogram, percent (stop 48), other
                suffix = "/kg" if m.groupdict().get("kg") else "%" if m.groupdict().get("p") else ""
                values = _NUMBER.findall(shown) if kind in _BOTH_ENDS and len(_NUMBER.findall(shown)) > 1 else [v]
                for value in values:
                    key = _key(value, unit) + suffix
                    if len(shown) > len(seen.get(key, "")):  # the fullest statement: "40 to 74 years" over "aged 40"
                        seen[key] = shown
    return out


def facts(text: str) -> dict[str, set[str]]:
    """Per kind, the values a sentence gives (the keys of ``stated``)."""
    return {kind: set(values) for kind, values in stated(text).items()}


def grade(text: str) -> str | None:
    for rx in _GRADE:
        m = rx.search(text)
        if m:
            return " ".join(m.group("g").lower().split())
    return None


def direction(text: str) -> str | None:
    if _INSUFFICIENT.search(text):
        return "insufficient"
    if _AGAINST.search(text):
        return "against"
    if _FOR.search(text):
        return "for"
    return None


def asked_kinds(question: str) -> set[str] | None:
    """Which kinds of number the question asks about (None: no cue, all kinds count)."""
    kinds = {k for k, rx in ASKS if rx.search(question)}
    if "interval" in kinds and not re.search(r"\b(age|aged|old|start|begin)\b", question, re.I):
        kinds.discard("age")  # "when" in "how often ... when" is not about age
    return kinds or None


# Words every guideline sentence shares: two sentences are about the same item only when they also share
# a word outside this list (mammography and colonoscopy both "start at age … in average-risk adults").
_GENERIC = frozenset(
    "adult adults women men patients patient people persons person children average risk risks start starting "
    "begin beginning age aged years year screening screen screened recommend recommends recommendation "
    "recommended clinicians clinician should consider evidence therapy treatment care health increased high "
    "low work group uspstf suggests suggest offer offering".split()
)


# Whom a sentence is about. Two sentences that each name people and share no group speak of different people:
# iron at 3-6 mg/kg for infants and 60-120 mg in pregnancy are not a disagreement (stop 34).
_POPULATIONS = {
    "infant": re.compile(r"\b(?:infants?|newborns?|neonat\w*|babies|baby)\b", re.I),
    "child": re.compile(r"\b(?:child(?:ren)?|pediatric|paediatric)\b", re.I),
    "adolescent": re.compile(r"\b(?:adolescen\w*|teen\w*|youth)\b", re.I),
    "adult": re.compile(r"\badults?\b", re.I),
    "pregnancy": re.compile(r"\b(?:pregnan\w*|prenatal|antenatal|gestation\w*|postpartum)\b", re.I),
}


def populations(text: str) -> frozenset[str]:
    return frozenset(name for name, rx in _POPULATIONS.items() if rx.search(text))


@dataclass
class SentenceView:
    row: int
    doc_id: str
    start: int
    end: int
    text: str
    sim: float  # relevance (cosine, or the calibrated sentence score when there is one)
    group: int = -1  # the named guideline it was taken for (a comparison question); -1: none


@dataclass
class Conflict:
    kind: str  # age | interval | dose | duration | threshold | grade | direction | version
    a_row: int
    a_span: tuple[int, int]
    a_values: set[str]
    b_row: int
    b_span: tuple[int, int]
    b_values: set[str]
    a_doc: str = ""
    b_doc: str = ""
    notes: list[str] = field(default_factory=list)


def _comparable(ka: set[str], kb: set[str]) -> tuple[set[str], set[str]]:
    """The values of each side in the units both give: a dose per kilogram is not compared with an absolute dose, nor a
    percent with a blood pressure (stop 48)."""
    def family(k: str) -> str:
        return "/kg" if k.endswith("/kg") else "%" if k.endswith("%") else ""

    fams = {family(k) for k in ka} & {family(k) for k in kb}
    return {k for k in ka if family(k) in fams}, {k for k in kb if family(k) in fams}


def _days(key: str) -> float | None:
    """A time key of ``_key`` ("14d") in days; None for anything else."""
    if not key.endswith("d"):
        return None
    try:
        return float(key[:-1])
    except ValueError:
        return None


def _apart(ka: set[str], kb: set[str], fold: float = 30.0) -> bool:
    """Two times so far apart (a 2-hour test, a 24-28 week window) that they measure different things."""
    da = [d for d in map(_days, ka) if d]
    db = [d for d in map(_days, kb) if d]
    if not da or not db:
        return False
    return min(max(x, y) / min(x, y) for x in da for y in db) > fold


# A question about how firmly something is advised ("how strongly", "what grade", "how firmly").
_ASKS_STRENGTH = re.compile(r"\bhow (?:firmly|strongly|strong|highly)\b|\bstrength\b|\bgraded?\b|\bgrades\b", re.I)
# VA/DoD's own convention: its Work Group (or guideline panel) "recommends" a strong and "suggests" a weak recommendation.
_IMPLIED = re.compile(r"\b(?:work group|guideline panel)\s+(?P<v>recommends?|suggests?)(?P<against>\s+against)?\b", re.I)


def implied_grade(text: str) -> str | None:
    """The strength a VA/DoD sentence's verb states when it carries no explicit grade."""
    m = _IMPLIED.search(text)
    if not m:
        return None
    strength = "strong" if m.group("v").lower().startswith("recommend") else "weak"
    return f"{strength} {'against' if m.group('against') else 'for'}"


class _Reading:
    """What the pair loop reads of a sentence (its words, people, values, direction, grade), read once a call: the loop
    meets each sentence once per partner. ``read(fn, text)`` is ``fn(text)``."""

    def __init__(self) -> None:
        self._memo: dict[tuple[Callable[[str], Any], str], Any] = {}

    def __call__(self, fn: Callable[[str], Any], text: str) -> Any:
        key = (fn, text)
        if key not in self._memo:
            self._memo[key] = fn(text)
        return self._memo[key]


def _differs(
    a: SentenceView, b: SentenceView, wanted: set[str] | None, asks_position: bool, asks_strength: bool = False,
    read: Callable[[Callable[[str], Any], str], Any] | None = None,
) -> tuple[str, set[str], set[str]] | None:
    read = read or _Reading()
    fa, fb = read(stated, a.text), read(stated, b.text)
    for kind in sorted(fa.keys() & fb.keys()):
        ka, kb = _comparable(set(fa[kind]), set(fb[kind]))
        if (wanted is None or kind in wanted) and ka and kb and ka.isdisjoint(kb):
            if _apart(ka, kb):
                continue
            return kind, {fa[kind][k] for k in ka}, {fb[kind][k] for k in kb}
    if not asks_position:
        return None
    da, db = read(direction, a.text), read(direction, b.text)
    if da and db and da != db:
        return "direction", {da}, {db}
    ga, gb = read(grade, a.text), read(grade, b.text)
    if asks_strength:
        ga, gb = ga or read(implied_grade, a.text), gb or read(implied_grade, b.text)
    if ga and gb and ga != gb:
        return "grade", {ga}, {gb}
    return None


# Another body's recommendation that a guideline reports ("ACP and AAFP suggest against …", "ADA recommends …", "For acute
# low back pain, ACP found …", "The American College of Physicians recommends …") is not the guideline's own position (stop
# 48). The guidelines' own voices are not other bodies: their issuers' abbreviations, "the Work Group", "clinicians".
_REPORTED_BODY = re.compile(
    r"\b(?P<subj>(?:[A-Z]{2,}s?\b(?:\s*(?:,|and|&)\s*)?)+|(?:the\s+)?American\s+(?:[A-Z][a-z]+\s+){1,4}(?:of\s+(?:[A-Z][a-z]+\s*){1,4})?)"
    r"\s*(?:also\s+)?(?:recommends?|recommended|suggests?|suggested|found|conclude[sd]?|advises?|endorses?)\b"
)
_OWN_VOICES = frozenset("USPSTF CDC VA DOD NHLBI ACIP CPSTF NGC AHRQ RCT RCTS".split())


def reported_from_elsewhere(text: str) -> bool:
    """Whether the sentence states another organisation's recommendation or finding rather than its guideline's own."""
    m = _REPORTED_BODY.search(text)
    if m is None:
        return False
    names = {w.upper() for w in re.findall(r"[A-Za-z]+", m.group("subj")) if w.lower() not in ("and", "the", "of", "s")}
    return bool(names) and not names <= _OWN_VOICES


def find_conflict(
    sentences: list[SentenceView], min_sim: float, min_overlap: float = 0.08, question: str | None = None,
    superseded: dict[str, str] | None = None,
) -> Conflict | None:
    """The first pair of relevant sentences from different documents that disagree on the asked-for item."""
    wanted = asked_kinds(question) if question else None
    asks_position = True
    asks_strength = bool(question and _ASKS_STRENGTH.search(question))
    q_words = (content_words(question) - _GENERIC) if question else set()
    rel = sorted((s for s in sentences if s.sim >= min_sim and not reported_from_elsewhere(s.text)), key=lambda s: -s.sim)
    superseded = superseded or {}
    read = _Reading()
    for i, a in enumerate(rel):
        wa = read(content_words, a.text)
        for b in rel[i + 1 :]:
            if b.doc_id == a.doc_id or (a.group >= 0 and a.group == b.group):
                continue
            wb = read(content_words, b.text)
            shared = (wa & wb) - _GENERIC
            if not wa or not wb or not shared:
                continue
            if len(wa & wb) / len(wa | wb) < min_overlap and not (shared & q_words):
                continue
            pa, pb = read(populations, a.text), read(populations, b.text)
            if pa and pb and pa.isdisjoint(pb):
                continue  # about different people
            d = _differs(a, b, wanted, asks_position, asks_strength, read)
            if d is None and (superseded.get(a.doc_id) == b.doc_id or superseded.get(b.doc_id) == a.doc_id):
                d = ("version", set(), set())
            if d is not None:
                kind, va, vb = d
                return Conflict(kind, a.row, (a.start, a.end), va, b.row, (b.start, b.end), vb, a.doc_id, b.doc_id)
    return None


def conflict_out(idx: LoadedIndex, k: Conflict, ca: Citation, cb: Citation) -> ConflictOut:
    """The disagreement as the response shows it: each guideline's position, attributed by issuer and year."""
    from app.query.termcache import cache_key
    from app.query.versions import superseded_map

    docs = idx.manifest["documents"]
    sup = superseded_map(cache_key(idx), docs)

    def pos(doc: str, c: Citation, values: set[str]) -> ConflictPosition:
        d = docs.get(doc, {})
        return ConflictPosition(
            doc_id=doc, title=d.get("title", c.title), issuer=d.get("issuer", c.issuer), published=d.get("published", ""),
            citation=c.n, values=sorted(values), superseded=doc in sup,
        )

    return ConflictOut(kind=k.kind, positions=[pos(ca.doc_id, ca, k.a_values), pos(cb.doc_id, cb, k.b_values)])  # type: ignore[arg-type]
