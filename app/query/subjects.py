"""Whether the guideline gives the asked value *about the question's subject*.

A near miss often asks a value the guideline does give — for something else: "what dose of pregabalin"
over a guideline that doses other drugs, "what non-HDL value defines borderline-high in adolescents" over
one that gives HDL thresholds for adults. Document-wide signals (the asked kind of item appears somewhere,
the asked words appear somewhere) cannot tell these apart; a sentence that names the subject and gives a
value of the asked kind can.

The subject is the question's rarest asked words that some sentence of the document uses (IDF order). Three
document signals, each 1.0 when the document does *not* say it:

- ``subject_value_absent``: no sentence naming the first subject gives a value of the asked kinds (a number and
  the item of every asked kind: an age, an interval, a dose …; the word "dose" alone is not a value);
- ``subject_unit_absent``: no sentence naming it gives a number in an asked unit ("in mg", "what score");
- ``subjects_value_absent``: no sentence names the *two* first subjects together with such a value (0.0 when
  the document uses fewer than two asked words).
"""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Protocol

from app.query.asks import UNIT_WITH_NUMBER, item_match

SUBJECT_KINDS = frozenset({"age", "interval", "dose", "duration", "threshold", "number"})
SUBJECT_SIGNALS = ("subject_value_absent", "subject_unit_absent", "subjects_value_absent")
NO_SUBJECT = dict.fromkeys(SUBJECT_SIGNALS, 1.0)  # no document at all


class SubjectDocument(Protocol):
    def said_with(self, terms: tuple[str, ...], name: str, holds: Callable[[str], bool]) -> bool | None:
        """Whether a sentence holding all ``terms`` also ``holds``; None when no sentence holds them all."""
        ...


def _anything(text: str) -> bool:
    return True


def subjects(doc: SubjectDocument, a_idf: dict[str, float], present: dict[str, bool], n: int = 2) -> list[str]:
    """The ``n`` rarest asked words some sentence of the document uses."""
    out: list[str] = []
    for t in sorted((t for t in a_idf if present[t]), key=lambda t: (-a_idf[t], t)):
        if doc.said_with((t,), "any", _anything) is not None:
            out.append(t)
            if len(out) == n:
                break
    return out


def subject_signals(
    doc: SubjectDocument, a_idf: dict[str, float], present: dict[str, bool], asked: frozenset[str], units: frozenset[str],
    items_of: Callable[[str], Container[str]],
) -> dict[str, float]:
    kinds = asked & SUBJECT_KINDS
    out = dict.fromkeys(SUBJECT_SIGNALS, 0.0)
    if not kinds and not units:
        return out
    subj = subjects(doc, a_idf, present)
    if kinds:
        specific = kinds - {"number"}

        def value(text: str) -> bool:  # every asked kind at once: "at what age and interval" needs both
            items = items_of(text)
            return "number" in items and (all(k in items for k in sorted(specific)) if specific else bool(item_match(kinds, items)))

        name = "value:" + ",".join(sorted(kinds))
        out["subject_value_absent"] = 0.0 if subj and doc.said_with(tuple(subj[:1]), name, value) else 1.0
        if len(subj) == 2:
            out["subjects_value_absent"] = 0.0 if doc.said_with(tuple(subj), name, value) else 1.0
    if units:
        def in_unit(text: str) -> bool:
            return any(UNIT_WITH_NUMBER[u].search(text) for u in units)

        out["subject_unit_absent"] = 0.0 if subj and doc.said_with(tuple(subj[:1]), "unit:" + ",".join(sorted(units)), in_unit) else 1.0
    return out
