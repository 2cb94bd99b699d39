"""The literal words a regular expression cannot match without, read from its own parse: a cheap test that lets a
search be skipped.

``necessary_literals(rx)`` returns lower-cased strings one of which every match of ``rx`` *in ASCII text* contains,
or None when no such set can be read (a pattern built from character classes, or optional everywhere). It reads the
pattern as ``re`` parsed it: a run of literal characters is a necessary string; a group or a repeat taken at least
once passes on its body's set; alternatives pass on the union of theirs; of a sequence's necessary sets the most
selective one is kept (the longest shortest word, then the fewest words).

``Prefiltered.search(text, low)`` then skips the search when the text is ASCII and holds none of the words, ignoring
case. On ASCII text that is exactly what ``re.IGNORECASE`` allows. A word with a character that no ASCII character
matches ("règles") cannot occur in ASCII text and is dropped from its set; a word with one that some ASCII character
matches under the pattern's flags ("ſ" matches "s", the Kelvin sign "k") cannot be tested with ``in``, and its set
gives no prefilter. Text that is not ASCII is always searched.
"""

from __future__ import annotations

import re
import re._constants as sre_c  # the stdlib's own parse of a pattern (what `sre_parse` exposed before 3.11)
import re._parser as sre_p
from dataclasses import dataclass
from typing import Any

Literals = frozenset[str] | None  # the empty set: no match is possible in ASCII text
_ASCII = [chr(i) for i in range(128)]


def _best(sets: list[frozenset[str]]) -> Literals:
    """The most selective of a sequence's necessary sets: an impossible one, else longest shortest word, then fewest words."""
    if any(not s for s in sets):
        return frozenset()
    if not sets:
        return None
    return max(sets, key=lambda s: (min(map(len, s)), -len(s)))


def _in_ascii(run: str, flags: int) -> Literals:
    """A run of literal characters as a necessary word of ASCII text: itself lower-cased; the empty set when one of its
    characters matches no ASCII character; None when one is not ASCII but matches some ASCII character ("İ" matches
    "i" under IGNORECASE, so ``"i" in text.lower()`` would not say whether it occurs)."""
    for c in run:
        if c.isascii():
            continue
        if any(re.fullmatch(re.escape(c), a, flags) for a in _ASCII):
            return None
        return frozenset()
    return frozenset({run.lower()})


def _sequence(items: Any, flags: int) -> Literals:
    sets: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in list(items) + [(None, None)]:  # a sentinel item ends the last run
        if op is sre_c.LITERAL:
            run.append(chr(av))
            continue
        if run:
            one = _in_ascii("".join(run), flags)
            if one is not None:
                sets.append(one)
            run = []
        if op is sre_c.AT:  # \b, ^, $: zero-width, nothing the match must hold
            continue
        one = _item(op, av, flags) if op is not None else None
        if one is not None:
            sets.append(one)
    return _best(sets)


def _item(op: Any, av: Any, flags: int) -> Literals:
    if op is sre_c.SUBPATTERN:  # (group, flags added, flags removed, body): "(?-i:DAN)" is matched with case
        return _sequence(av[-1], (flags | av[1]) & ~av[2])
    if op is sre_c.BRANCH:
        union: set[str] = set()
        for branch in av[1]:
            got = _sequence(branch, flags)
            if got is None:
                return None
            union |= got
        return frozenset(union)
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _sequence(av[2], flags)
    if op is sre_c.ATOMIC_GROUP:
        return _sequence(av, flags)
    return None  # a character class, any character, a back-reference, a look-around, an optional part


def necessary_literals(rx: re.Pattern[str]) -> Literals:
    """Lower-cased words one of which every match of ``rx`` in ASCII text contains; None when none can be read."""
    return _sequence(sre_p.parse(rx.pattern, rx.flags).data, rx.flags)


@dataclass(frozen=True)
class Prefiltered:
    """A compiled pattern with its necessary words: ``search`` gives what ``pattern.search`` gives."""

    pattern: re.Pattern[str]
    words: Literals

    @classmethod
    def of(cls, pattern: re.Pattern[str]) -> Prefiltered:
        return cls(pattern, necessary_literals(pattern))

    def search(self, text: str, low: str | None) -> bool:
        """Whether the pattern matches ``text``; ``low`` is ``text.lower()`` when the text is ASCII, else None."""
        if low is not None and self.words is not None and not any(w in low for w in self.words):
            return False
        return self.pattern.search(text) is not None


def ascii_lower(text: str) -> str | None:
    """The lower-cased text a :class:`Prefiltered` tests its words in, or None when the text is not ASCII."""
    return text.lower() if text.isascii() else None
