"""Content coverage: are the claim's naming words, and most of its content words, in the premise?"""

from __future__ import annotations

import re

from app.query.support.parsing import CONTENT_POS, STOP, Parsed, is_covered, parse
from app.query.support.polarity import NEGATORS, OPPOSITES

# Naming words a faithful paraphrase may add without the premise saying them.
GENERIC = frozenset(
    "people person individual patient anyone someone those one guideline recommendation group panel work "
    "clinician evidence use way case time thing approach option year month week day minute hour dose age "
    "also likely possible appropriate recommended needed necessary same other such following call warrant due".split()
)
# Degree, amount, order and frequency words name nothing (no drug, population or condition): a paraphrase
# may use one the premise does not ("the mean of" → "the average of", "a number of" → "several") unless the
# premise says a contrary word of the same scale ("weekly" where the claim says "daily"). Each scale is a list
# of groups: words of one group are interchangeable, words of two groups are contraries.
QUANTITY_SCALES = [
    [{"daily"}, {"weekly"}, {"monthly"}, {"yearly", "annual"}, {"hourly"}, {"nightly"}],
    [{"first", "initial"}, {"last", "final"}, {"subsequent", "second"}],
    [{"single", "isolated"}, {"multiple", "several", "many", "numerous", "various", "repeated"}, {"few"}],
    [{"short", "brief"}, {"long", "prolonged", "lengthy"}],
    [{"little", "insufficient", "inadequate"}, {"enough", "sufficient", "adequate", "much"}],
    [{"mean", "average"}, {"median"}, {"typical", "usual"}],
    [{"different", "separate", "distinct"}, {"same", "similar", "identical"}],
    [{"cutoff", "threshold", "limit"}, {"value", "level", "amount", "number", "count"}],
    [{"whole", "full", "entire", "complete"}, {"partial"}],
    [{"current", "new"}, {"previous", "prior", "past"}],
    [{"order"}], [{"judge", "finding"}], [{"bad"}],
]
_CONTRARIES = {w: set().union(*(g for g in scale if w not in g)) for scale in QUANTITY_SCALES for group in scale for w in group}
_NAMING_POS = {"NOUN", "PROPN", "ADJ"}
_DIRECTION = frozenset(w for pair in OPPOSITES for side in pair for w in side)


def content_lemmas(cp: Parsed) -> list[tuple[str, str]]:
    return [
        (lem, pos) for lem, pos in zip(cp.lemmas, cp.pos, strict=True)
        if pos in CONTENT_POS and lem not in NEGATORS and len(lem) > 1 and lem not in STOP
        and not any(ch.isdigit() for ch in lem)
    ]


_ACRO_SKIP = frozenset("of and the for in to with".split())


def _acronyms(p: Parsed) -> set[str]:
    """Initials of consecutive words ("transient ischemic attack" → "tia"; "of"/"and" may be skipped)."""
    words = [w for w in p.surface if w.isalpha()]
    out: set[str] = set()
    for i in range(len(words)):
        ini = ""
        for w in words[i : i + 6]:
            if w in _ACRO_SKIP and ini:
                continue
            ini += w[0]
            if len(ini) >= 2:
                out.add(ini)
    return out


_CAPS = re.compile(r"\b[A-Z][A-Z0-9]{1,5}(?=s?\b)")


def _caps(text: str) -> set[str]:
    return {m.group(0).lower() for m in _CAPS.finditer(text)}


def _with_acronyms(pp: Parsed, cp: Parsed, premise: str, claim: str) -> set[str]:
    """The premise's words, plus the claim's capitalised acronyms its phrases spell ("TIA" for "transient
    ischemic attack"), plus the claim words that spell out an acronym the premise writes in capitals."""
    bag = pp.bag | (_acronyms(pp) & _caps(claim))
    p_caps = _caps(premise)
    words = [w for w in cp.surface if w.isalpha()]
    for i in range(len(words)):
        run: list[str] = []
        ini = ""
        for w in words[i : i + 6]:
            run.append(w)
            if w in _ACRO_SKIP and ini:
                continue
            ini += w[0]
            if len(ini) >= 2 and ini in p_caps:
                bag |= set(run) | {parse(w).lemmas[0] for w in run if w not in _ACRO_SKIP}
    return bag


def content_supported(pp: Parsed, cp: Parsed, min_coverage: float = 0.5, premise: str = "", claim: str = "") -> bool:
    bag = _with_acronyms(pp, cp, premise, claim)
    content = content_lemmas(cp)
    if not content:
        return False
    for lem, pos in content:
        if pos in _NAMING_POS and lem not in GENERIC and lem not in _DIRECTION and not is_covered(lem, bag):
            contrary = _CONTRARIES.get(lem)
            if contrary is None or contrary & bag:
                return False
    covered = sum(is_covered(lem, bag) or lem in GENERIC for lem, _ in content)
    return covered / len(content) >= min_coverage
