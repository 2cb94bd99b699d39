"""What the screen's wording views read: the question with light character obfuscation undone, and
its sentences one by one (a harmful request buried in long benign text or wrapped in a story is one
sentence among many; the whole-text features dilute it).

``deobfuscate`` undoes what a reader undoes without effort: compatibility forms (NFKC), invisible
characters, Cyrillic/Greek look-alike letters, letters spelled out with separators ("k.i.l.l"), and
digits standing in for letters inside words ("p0is0n"). Clinical tokens such as "B12", "H1N1",
"HbA1c", "COVID-19" or "5 mg" are left alone (a digit is read as a letter only between letters in a
word with at least three letters and no other digit run).
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u034f\u180e]")
_HOMOGLYPHS = str.maketrans({
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0445": "x", "\u0443": "y",
    "\u0456": "i", "\u0458": "j", "\u0455": "s", "\u0410": "A", "\u0415": "E", "\u041e": "O", "\u0420": "P",
    "\u0421": "C", "\u0425": "X", "\u0406": "I", "\u03bf": "o", "\u03b1": "a", "\u03b5": "e", "\u0399": "I",
})
# a letter, then (separator, letter) three or more times: "k.i.l.l", "p-o-i-s-o-n", "d r u g"
_SPELLED = re.compile(r"(?<!\w)([A-Za-z])([.\-*_ ])(?:[A-Za-z]\2){2,}[A-Za-z](?!\w)")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_LEET_WORD = re.compile(r"\b(?=[A-Za-z0-9@$]*[A-Za-z][0-9@$]+[A-Za-z])[A-Za-z0-9@$]{4,}\b")
_SENTENCE = re.compile(r"(?<=[.?!:;])\s+|\n+")


def _unleet(m: re.Match[str]) -> str:
    word = m.group(0)
    return word.translate(_LEET) if sum(ch.isalpha() for ch in word) >= 3 else word


def deobfuscate(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).translate(_HOMOGLYPHS)
    text = _SPELLED.sub(lambda m: re.sub(r"[.\-*_ ]", "", m.group(0)), text)
    return _LEET_WORD.sub(_unleet, text)


def sentences(text: str, min_chars: int = 12) -> list[str]:
    """Sentence-like pieces (split after . ? ! : ; and at line breaks), short fragments merged forward."""
    out: list[str] = []
    carry = ""
    for piece in _SENTENCE.split(text):
        piece = (carry + " " + piece).strip() if carry else piece.strip()
        if len(piece) < min_chars:
            carry = piece
            continue
        out.append(piece)
        carry = ""
    if carry:
        if out:
            out[-1] = out[-1] + " " + carry
        else:
            out.append(carry)
    return out
