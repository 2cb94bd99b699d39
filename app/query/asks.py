"""What a question asks for, and which kinds of item a guideline sentence holds.

A clinician's question asks for a kind of item: an age, an interval, a dose, a duration, a threshold,
a recommendation grade or strength, a population, a yes/no recommendation. A sentence that answers it
must hold an item of that kind; a near-miss question ("what dose …?" over a guideline that gives only
an age range) finds sentences on the topic but none with the asked-for item. Both sides are plain
patterns, so the gate's inputs stay inspectable.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Container

_I = re.IGNORECASE
NUM = r"\d+(?:[.,]\d+)?"

# Items a sentence can hold.
ITEM_PATTERNS: dict[str, re.Pattern[str]] = {
    "age": re.compile(
        rf"\b(?:age[sd]?|aged|older than|younger than|beginning at|starting at|over|under)\s+(?:of\s+)?{NUM}\b"
        rf"|\b{NUM}\s*(?:years?|yrs?)\s*(?:of age|old|and older|or older|and younger|or younger)\b|\b{NUM}\s*-\s*year-olds?\b"
        rf"|\b{NUM}\s*(?:to|-|–)\s*{NUM}\s*years\b",
        _I,
    ),
    "interval": re.compile(
        rf"\bevery\s+(?:{NUM}|one|two|three|four|five|six|ten|other)\b|\b(?:annual(?:ly)?|yearly|biennial(?:ly)?|triennial|"
        rf"once|twice|one-time|1-time|periodic(?:ally)?|interval|repeat(?:ed)?)\b|\b{NUM}\s*(?:times?)\s*(?:a|per)\b",
        _I,
    ),
    "dose": re.compile(
        rf"\b{NUM}\s*(?:mg|mcg|µg|g|gram|grams|units?|iu|ml|mL|mme|mg/d|mg/day|mg/kg|doses?)\b|\bdos(?:e|es|ing|age)\b|\bMME\b",
        _I,
    ),
    "duration": re.compile(rf"\b{NUM}\s*(?:to\s*{NUM}\s*)?(?:days?|weeks?|months?|hours?|minutes?)\b|\bfor\s+(?:at least|up to)\b", _I),
    "threshold": re.compile(
        rf"\b{NUM}\s*/\s*{NUM}\b|\bmm\s*hg\b|\bmg/dl\b|\bmmol\b|\b{NUM}\s*%|\bpercent\b|[≥≤<>]\s*{NUM}|\bbmi\b|\bkg/m\b|"
        rf"\b(?:at least|greater than|less than|more than|above|below|exceeds?)\s+{NUM}\b",
        _I,
    ),
    "grade": re.compile(
        r"\bgrade\s*[:\-]?\s*[A-D]\b|\b[A-D]\s+recommendation\b|\bI\s+statement\b|\binsufficient\b|\b(?:strong|weak|conditional)\s+"
        r"(?:recommendation|for|against)\b|\bstrength of (?:recommendation|evidence)\b|\b(?:level|quality) of evidence\b|"
        r"\b(?:good|fair|poor|moderate|high|low)[- ](?:quality )?evidence\b|\bcertainty\b|\bcategory\s+[1-4A-D]\b|\bclass\s+(?:I|II|III)\b",
        re.IGNORECASE,
    ),
    "recommend": re.compile(
        r"\brecommend(?:s|ed|ation)?\b|\bsuggests?\b|\bshould\b|\bconcludes\b|\badvises?\b|\bmay\b|\bconsider\b|\bpreferred\b|\bavoid\b",
        _I,
    ),
    "population": re.compile(
        r"\b(?:adults?|women|men|children|adolescents?|infants?|persons?|people|patients?|individuals|pregnan\w*|"
        r"postmenopausal|smokers?|veterans?|girls|boys|newborns?|elderly|older)\b",
        _I,
    ),
    "number": re.compile(rf"\b{NUM}\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve)\b", _I),
    # Whom a recommendation covers: "This recommendation applies to …", "It does not apply to …", "… are excluded from
    # this recommendation"; not a study's exclusions or a rating that "seemed to apply only to" something.
    "scope": re.compile(
        r"\b(?:recommendations?|statements?|guidelines?|guidance)\b[^.;]{0,40}?\b(?:appl(?:y|ies)|(?:is|are) (?:not )?(?:intended|meant) "
        r"for|pertains? to)\b|\b(?:it|they|this) (?:also )?(?:does|do) not apply\b"
        r"|\b(?:excluded from|not the focus of|outside the scope of) (?:this|the|these) (?:recommendations?|statements?|guidelines?)\b",
        _I,
    ),
}

# What a question asks for (a question may ask for several kinds).
ASK_PATTERNS: dict[str, re.Pattern[str]] = {
    "age": re.compile(r"\b(?:what|which|at what|from what|until what|up to what)\s+age|\bhow old\b|\bage (?:range|group|limit|cut[- ]?off)\b|\bstop(?:ping)? (?:at|after)\b|\bbegin(?:ning)? at\b|\bstart(?:ing)? at\b", _I),
    "interval": re.compile(r"\bhow often\b|\binterval\b|\bfrequency\b|\bhow frequently\b|\brepeat\w*\b|\bre-?screen\w*\b|\bevery how\b|\bhow many years between\b|\bhow soon\b", _I),
    "dose": re.compile(r"(?<!low-)(?<!high-)(?<!low )\bdos(?:e|es|ing|age)\b|\bhow much\b|\bhow many (?:mg|milligrams|(?:million |international )?units|tablets)\b|\bmg\b(?!/)|\bmme\b|\bmorphine milligram\b", _I),
    "duration": re.compile(r"\bhow long\b|\bduration\b|\bfor how many (?:days|weeks|months)\b|\bhow many (?:days|weeks|months|hours)\b|\bwithin how\b"
                          # "how quickly after triage", "within what window", "how far back", "how recent must the X-ray be"
                          r"|\bhow (?:quickly|recent(?:ly)?|far back)\b|\bwithin what\b"
                          r"|\b(?:at|by|from|until|after|before|in) (?:what|which) (?:gestational |postpartum )?(?:day|week|month)\b|\bwhat gestational age\b", _I),
    "threshold": re.compile(r"\bthresholds?\b|\bcut[- ]?offs?\b|\btarget\b|\bgoal\b|\b(?:above|below) (?:what|which)\b|\bwhat (?:level|value|reading|score|bmi|blood pressure)\b|\b(?:what|which)\b[^.?]{0,45}?\b(?:value|level|score|cut[- ]?point)\b|\bmm\s*hg\b|\bhow high\b|\bhow low\b|\bwhat percent", _I),
    "grade": re.compile(r"\bgrade[ds]?\b|\bstrength\b|\bhow strong(?:ly)?\b|\blevel of (?:evidence|recommendation|certainty)\b|\bquality of (?:the )?evidence\b|\bcertainty\b|\bletter grade\b|\bhow confident\b", _I),
    "population": re.compile(r"\bwho should\b|\bwhich (?:patients|adults|women|men|children|people|persons|groups?|populations?)\b|\bwhom\b|\beligib\w*\b|\bin which (?:patients|groups?)\b|\bwhat (?:population|patients|group)\b", _I),
    # "Does the USPSTF statement cover her?", "Is she within the scope of the recommendation?": whom it applies to.
    "scope": re.compile(
        r"\b(?:statement|recommendation|guideline|guidance|advice)\b[^?]{0,80}?\b(?:cover|appl(?:y|ies)(?: only)? to|meant for|"
        r"intended for)\b|\b(?:covered by|within the scope of|part of the population|excluded from)\b[^?]{0,80}?"
        r"\b(?:statement|recommendation|guideline|guidance|advice)\b",
        _I,
    ),
    "yes_no": re.compile(r"^(?:[^?]*[.!]\s+)?(?:is|are|does|do|should|can|could|would|will|has|have|was|were|must)\b", _I),
    "number": re.compile(
        r"\bhow many\b|\bwhat (?:number|percentage|proportion)\b|\bhow much\b|\b(?:maximum|minimum)\b"
        # "at what LDL", "to what hemoglobin", "below which eGFR": a value of something the question names
        r"|\b(?:at|to|from|above|below) (?:what|which) (?!age\b|gestational\b|day\b|week\b|month\b|time\b|point\b|stage\b|extent\b"
        r"|kind\b|type\b|cases?\b|circumstances?\b|situations?\b|conditions?\b|settings?\b)\w+"
        r"|\bwhat (?:[\w/-]+ ){0,3}?(?:limit|amount|volume|intake|ratio|temperature|diameter|range|concentration|size|load|fraction)\b"
        r"|\bhow (?:common|prevalent)\b",
        _I,
    ),
}

NUMERIC = frozenset({"age", "interval", "dose", "duration", "threshold", "number"})


def sentence_items(text: str) -> frozenset[str]:
    return frozenset(k for k, rx in ITEM_PATTERNS.items() if rx.search(text))


# A period after these ends no sentence: "the U.S. SPR" (but "hepatitis B." does), "St. John's wort", "e.g. aspirin", "Dr. Smith".
_ABBREV = re.compile(r"(?:\b(?:[A-Z]\.){2,3}|\b(?:e\.g|i\.e|vs|etc|Dr|St|No|Fig|approx|Mr|Mrs|Ms)\.)$")


def _sentences(text: str, ends: str) -> list[str]:
    """``text`` split after sentence ends (characters of ``ends``) followed by a capital or digit, never after
    an abbreviation."""
    out: list[str] = []
    for piece in re.split(rf"(?<=[{ends}])\s+(?=[A-Z0-9])", text.strip()):
        if out and _ABBREV.search(out[-1]):
            out[-1] += " " + piece
        else:
            out.append(piece)
    return out


def ask_part(question: str) -> str:
    """The question itself: a vignette's last sentences from the first one ending in '?' (else the whole)."""
    parts = _sentences(question, ".!?")
    asks = [i for i, p in enumerate(parts) if p.rstrip().endswith("?")]
    return " ".join(parts[asks[0]:]) if asks else question.strip()


# The same asks as a clinician types them in a hurry ("56F avg risk, mammogram yearly?", "weeks before lumbar MRI?",
# "offer hydroxyurea now?"): read from the terse rewrites of the dev set's fit split (evalsets/terse), whose reading
# lost a kind its long original had in 1 question of 2 with ASK_PATTERNS alone.
_WH = re.compile(r"\b(?:what|which|when|how|who|whom|where|why)\b", _I)
TERSE_ASKS: dict[str, re.Pattern[str]] = {
    "age": re.compile(r"\bages\b(?!\s*\d)|(?<!his )(?<!her )(?<!that )(?<!this )(?<!their )(?<!same )\bage\s*\?|\b(?:start(?:ing)?|stop(?:ping)?|begin(?:ning)?|end(?:ing)?|upper|lower|"
                      r"minimum|maximum|min|max) age\b|\bage to (?:start|stop|begin|end)\b", _I),
    "interval": re.compile(r"\b(?:yearly|annual(?:ly)?|biennial(?:ly)?|every year|every \d+ (?:years?|months?))\s*\?|\brescreen\w*\b", _I),
    "dose": re.compile(r"(?<![\d.])\s?\b(?:mg/(?:24 ?h|day|d|kg)|units?/kg|mcg|iu|mg)\b(?=\s*[?,]|\s+(?:per|daily|dose|for|of)\b)", _I),
    "duration": re.compile(r"(?<![\d\-–])(?<![\d] )\b(?:days|weeks|wks?|months|hours|hrs?)\b(?!\s*(?:old|of age|postpartum|gestation|ago)\b)", _I),
    "threshold": re.compile(r"(?<![\d.])\s?\b(?:g/dl|mg/dl|mmol/l|mm ?hg|kg/m2|ng/ml|ml/min)\b|\bpercentile\b|\bcut[- ]?point\b", _I),
    "number": re.compile(r"\b(?:number of|no\. of|% of|percent(?:age)? of|share of|proportion of|how many|range|limit|intake|grams of|"
                         r"per \d[\d,]*|times ULN)\b|\bwhat %", _I),
}
# A short ask with no question word and no kind of item is a yes/no one ("oral naltrexone recommended?", "meets
# tonsillectomy criteria?", "Metformin FDA-approved for pediatric weight loss? USPSTF"), unless it offers a choice
# ("prednisolone alone or add valacyclovir?") or asks what a guideline says ("USPSTF stance on …?").
_CHOICE = re.compile(r"\bor\b|\bvs\.?\b|\bversus\b", _I)
_OPEN_ASK = re.compile(r"\b(?:stance|position|say|says|guidance|recommendations? (?:on|for)|advice|approach|what about|overview|summary)\b", _I)


def _terse_kinds(last: str, kinds: set[str]) -> set[str]:
    """Kinds a terse ask names without the question words ASK_PATTERNS need (only for a short asking part)."""
    out = {k for k, rx in TERSE_ASKS.items() if rx.search(last)}
    if not (kinds | out) - {"scope"} and "?" in last and not _WH.search(last) and not _CHOICE.search(last) and not _OPEN_ASK.search(last):
        out.add("yes_no")
    return out


TERSE_WORDS = 16  # an asking part this short may be a terse ask


def asked_kinds(question: str) -> frozenset[str]:
    """Kinds of item the question asks for (empty: an open question — "what does X say about Y?"). Retrieval, the
    gate, the answer and its notes each ask it of one request's question: cached for the last few questions."""
    return _asked_kinds(question, TERSE_WORDS)


@functools.lru_cache(maxsize=64)
def _asked_kinds(question: str, terse_words: int) -> frozenset[str]:
    last = _sentences(question, ".!")[-1]  # a vignette's question is its last sentence
    kinds = {k for k, rx in ASK_PATTERNS.items() if rx.search(last)}
    if len(last.split()) <= terse_words:
        kinds |= _terse_kinds(last, kinds)
    if "yes_no" in kinds and len(kinds - {"scope"}) > 1:
        kinds.discard("yes_no")  # "Should … and at what age …?" asks the age (whom it covers is the answer's concern)
    return frozenset(kinds)


def open_question(asked: frozenset[str]) -> bool:
    """An open question ("what does X say about Y?") asks for no kind of item; whom a recommendation covers is
    read by the answer (``scope``), not by the gate."""
    return not (asked - {"scope"})


def item_match(asked: frozenset[str], items: Container[str]) -> float:
    """1.0 when the sentence holds an item of an asked kind (or the question asks for no specific kind).
    ``items``: the sentence's kinds — ``sentence_items``, or the lazy ``items.Items`` that searches only what is looked up."""
    asked = asked - {"scope"}  # whom a recommendation covers: answer.with_scope, not the gate
    if not asked:
        return 1.0
    if "yes_no" in asked:
        return 1.0 if "recommend" in items or "grade" in items else 0.0
    specific = asked - {"number"}
    if specific:
        return 1.0 if any(k in items for k in sorted(specific)) else 0.0
    return 1.0 if any(k in items for k in _NUMERIC_ORDER) else 0.0


_NUMERIC_ORDER = ("number", "age", "interval", "dose", "duration", "threshold")  # NUMERIC, cheapest-to-decide first


# Units and measures a question may ask a value in ("what level in mEq/L", "how many seconds", "what score").
# A guideline that answers gives a number in that unit, or the measure next to a number ("a score of 3").
_UNIT_WORDS: dict[str, str] = {
    "second": r"seconds?", "minute": r"minutes?", "hour": r"hours?", "meq": r"meq(?:/l)?", "u/ml": r"u/ml|units? per (?:ml|milliliter)",
    "mmol": r"mmol(?:/l)?", "mg/dl": r"mg/dl", "ng/ml": r"ng/ml", "pack-year": r"pack[- ]?years?", "cigarette": r"cigarettes?",
    "drink": r"drinks?", "mm": r"mm|millimet(?:er|re)s?", "cm": r"cm|centimet(?:er|re)s?", "kg": r"kg|kilograms?",
    "percent": r"%|percent(?:age)?", "iu": r"iu|international units?", "mcg": r"mcg|µg|micrograms?", "mg": r"mg|milligrams?",
}
_MEASURES: dict[str, str] = {
    "score": r"scores?|points?", "diameter": r"diameters?", "sensitivity": r"sensitivity|specificity",
    "concentration": r"concentrations?", "titer": r"titers?|titres?",
}
ASK_UNIT = {u: re.compile(rf"(?:\bin|\bhow many|\bwhat|\bwhich|\bmany|\bnumber of|\d)\s*[^.?]{{0,40}}?(?<![\w/])(?:{rx})(?![\w/])", _I) for u, rx in _UNIT_WORDS.items()}
ASK_MEASURE = {m: re.compile(rf"\b(?:what|which|above what|below what)\b[^.?]{{0,45}}\b(?:{rx})\b", _I) for m, rx in _MEASURES.items()}
UNIT_WITH_NUMBER = {u: re.compile(rf"\d\s*(?:(?:-|–|to)\s*\d[\d.,]*\s*)?(?:{rx})(?![\w])", _I) for u, rx in _UNIT_WORDS.items()} | {
    m: re.compile(rf"\b(?:{rx})\b\W+(?:\w+\W+){{0,5}}?\d|\d[\d.,]*\s*(?:%\s*)?(?:\w+\s+){{0,3}}(?:{rx})\b", _I) for m, rx in _MEASURES.items()
}

# Every match of an asking pattern ends in its unit or measure word as _ASK_WORD finds it: most asking parts hold none
# and skip the 23 searches (≈ 0.2 ms a request; the same units, tests/test_asks.py).
_ASK_WORD = {u: re.compile(rf"(?<![\w/])(?:{rx})(?![\w/])", _I) for u, rx in _UNIT_WORDS.items()} | {m: re.compile(rf"\b(?:{rx})\b", _I) for m, rx in _MEASURES.items()}
_ANY_ASK_WORD = re.compile("|".join(f"(?:{rx.pattern})" for rx in _ASK_WORD.values()), _I)


def asked_units(question: str) -> frozenset[str]:
    """Units or measures the question asks a value in (from its asking part): "what level in mEq/L" → {"meq"}."""
    ask = ask_part(question)
    if not _ANY_ASK_WORD.search(ask):
        return frozenset()
    out = {u for u, rx in ASK_UNIT.items() if _ASK_WORD[u].search(ask) and rx.search(ask)}
    out |= {m for m, rx in ASK_MEASURE.items() if _ASK_WORD[m].search(ask) and rx.search(ask)}
    if "u/ml" in out or "mg/dl" in out or "ng/ml" in out:
        out.discard("mg")
    return frozenset(out)


# Actions a question may ask about ("when should aspirin be stopped", "what titration schedule", "what score
# should trigger referral"). A guideline that answers names the action, in some word for it; a near miss
# asks when to stop what the guideline only says to start. Question side, then guideline side.
_ACTION_WORDS: dict[str, tuple[str, str]] = {
    "stop": (
        r"stop(?:s|ped|ping)?|discontinu\w+|ceas\w+|withdr[ae]w\w*|withh[eo]ld\w*|deprescrib\w*",
        r"stop(?:s|ped|ping)?|discontinu\w+|ceas\w+|withdr[ae]w\w*|withh[eo]ld\w*|deprescrib\w*|no longer"
        r"|end(?:s|ed|ing)?(?!-|\s+of\b)",  # not "the end of the field", "end-stage", "end-of-life"
    ),
    "start": (
        r"start(?:s|ed|ing)?|initiat\w+|begin(?:s|ning)?|commenc\w+",
        r"start(?:s|ed|ing)?|initiat(?!ives?\b)\w+|begin(?:s|ning)?|began|commenc\w+|introduc\w+",  # not the Women's Health Initiative
    ),
    "titrate": (r"titrat\w+|up-?titrat\w+", r"titrat\w+|increas\w+ (?:the )?dose|dose increase\w*|escalat\w+"),
    "taper": (r"taper\w*|wean\w*", r"taper\w*|wean\w*|reduc\w+ (?:the )?dose|dose reduction\w*"),
    "switch": (r"switch\w*|rotat\w+", r"switch\w*|rotat\w+|convert\w*|change to"),
    "refer": (
        r"refer(?:s|ral|rals|red|ring)?",
        # not "this refers to", "refer to the table", "referred to as", "visits, referrals, and test results"
        r"referral|referrals(?=\s+(?:to|for|from)\b)|referr(?:ed|ing)(?!\s+to\s+as\b)"
        r"|refer(?!\s+to\s+(?:the|this|these|those|table|figure|section|appendix)\b)",
    ),
}
_ASK_ACTION = {a: re.compile(rf"\b(?:{q})\b", _I) for a, (q, _) in _ACTION_WORDS.items()}
ACTION_MENTION = {a: re.compile(rf"\b(?:{g})\b", _I) for a, (_, g) in _ACTION_WORDS.items()}


def asked_actions(question: str) -> frozenset[str]:
    """Actions the question's asking part asks about, unless it asks only yes or no ("would starting aspirin
    help?" may be answered without the word): "at what gestational week should aspirin be stopped?" → {"stop"}."""
    if asked_kinds(question) == {"yes_no"}:
        return frozenset()
    ask = ask_part(question)
    return frozenset(a for a, rx in _ASK_ACTION.items() if rx.search(ask))


# Words that frame a clinician's question rather than say what it asks about: "what does the USPSTF *say*", "as
# *cited* by", "should I test *him*", "roughly how *many*". Guidelines rarely use them, so the document signals
# would read them as rare asked words the guideline lacks; those signals leave them out (signals.document_signals).
FRAMING_WORDS = frozenset(
    "say says said saying cite cites cited quote quotes quoted attach attaches attached him his her many roughly "
    "according tell tells told mention mentions mentioned describe describes described ask asks asked asking "
    "want wants wanted wonder wonders exactly much".split()
)
