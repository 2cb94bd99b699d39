"""Negation and direction: does the claim negate, or point, the way the premise does?"""

from __future__ import annotations

from app.query.support.parsing import CONTENT_POS, STOP, Parsed, is_covered

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
            if p.pos[j] == "VERB" and p.lemmas[j] not in STOP:
                out.add(p.lemmas[j])
                break
    return out


def _window(p: Parsed, i: int, before: int = 0, n: int = 3) -> list[str]:
    """The first ``n`` content lemmas within six words after position ``i`` (and ``before`` of them before it)."""

    def content(js: range) -> list[str]:
        return [p.lemmas[j] for j in js if p.pos[j] in CONTENT_POS and p.lemmas[j] not in STOP]

    after = content(range(i + 1, min(i + 7, len(p.lemmas))))[:n]
    pre = content(range(max(0, i - 6), i))[-before:] if before else []
    return pre + after


def _near(term: str, terms: set[str]) -> bool:
    """``term`` or a synonym, a shared prefix, or (direction words) a word of the same direction is in ``terms``."""
    if is_covered(term, terms):
        return True
    return any(term in side and (side & terms) for pair in OPPOSITES for side in pair)


def _claim_window(cp: Parsed, i: int) -> list[str]:
    return _window(cp, i, before=3 if cp.lemmas[i] in AGAINST else 0)  # "X should be avoided", "avoid X"


def _governed(p: Parsed) -> set[str]:
    """Words only a negation governs in this sentence (not also said outside the negation)."""
    cues = _neg_cues(p)
    inside = {t for i in cues for t in _window(p, i)}
    outside = [p.lemmas[j] for j in range(len(p.lemmas)) if p.pos[j] in CONTENT_POS] if cues else []
    for t in list(inside):
        if outside.count(t) > sum(_window(p, i).count(t) for i in cues):
            inside.discard(t)
    return inside


def _plain(sents: list[Parsed]) -> set[str]:
    """Content words the sentences say outside any negation."""
    out: set[str] = set()
    for p in sents:
        inside = {j for i in _neg_cues(p) for j in range(i, min(i + 7, len(p.lemmas)))}
        out |= {p.lemmas[j] for j in range(len(p.lemmas)) if j not in inside and p.pos[j] in CONTENT_POS}
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
        verb = next((cp.lemmas[j] for j in range(i + 1, min(i + 7, len(cp.lemmas))) if cp.pos[j] == "VERB" and cp.lemmas[j] not in STOP), None)
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
