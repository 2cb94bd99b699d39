"""A guideline's issuer and publication date from its own labelled fields, for a file without a sidecar row.

Guideline summaries label them: an NGC summary has a "Guideline Developer(s)" heading with the developer under it
and "Date Released" with "2017 Jan"; other documents write "Issued by: …" or "Publication date: …" on one line. Only a
labelled value is taken, never a guess from prose or from a PDF's file dates: an unknown issuer or year leaves the
guideline in every question that names one (app/query/named.py), a wrong one would leave it out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingest.documents import Block

REVISION = 1  # in the ingest fingerprint: a new revision re-parses every file (metadata of files without a sidecar row)

_ISSUER = r"(?:guideline\s+)?developer(?:s|\(s\))?|issued\s+by|issuing\s+(?:organi[sz]ation|body|agency)|developed\s+by|publisher"
_DATE = r"date\s+released|release\s+date|date\s+of\s+(?:publication|release)|publication\s+date|date\s+published|published(?:\s+on)?"
LABELS = {"issuer": re.compile(rf"^(?:{_ISSUER})$", re.I), "published": re.compile(rf"^(?:{_DATE})$", re.I)}
INLINE = re.compile(rf"^\s*(?P<label>{_ISSUER}|{_DATE})\s*:\s*(?P<value>\S.{{0,198}})$", re.I)
YEAR = re.compile(r"\b(?:19[89]\d|20[0-4]\d)\b")
MAX_LABEL, MAX_VALUE, MAX_DATE = 40, 200, 40


def _field(label: str) -> str | None:
    label = label.strip().rstrip(":").strip()
    if len(label) > MAX_LABEL:
        return None
    return next((f for f, rx in LABELS.items() if rx.match(label)), None)


def _accept(field: str, value: str) -> bool:
    if not value or len(value) > MAX_VALUE or _field(value):
        return False
    return field != "published" or (len(value) <= MAX_DATE and bool(YEAR.search(value)))


def _sibling(label: Block, nxt: Block) -> bool:
    """A heading followed by a heading of its level or above: the label has no value of its own (the next section's
    title is not the developer)."""
    return label.kind == "heading" and nxt.kind == "heading" and nxt.level <= label.level


def labelled_meta(blocks: Sequence[Block]) -> dict[str, str]:
    """``{"issuer": …, "published": …}`` as the document labels them (a field it does not label is absent).

    A label is a short block (a heading, a table cell, a line) naming the field, its value the next block's first
    line; or one line "Label: value". The first labelled value of each field wins."""
    out: dict[str, str] = {}
    for i, b in enumerate(blocks):
        text = b.text.strip()
        m = INLINE.match(text) if "\n" not in text else None
        if m:
            field, value = _field(m.group("label")), m.group("value").strip()
        elif i + 1 < len(blocks) and not _sibling(b, blocks[i + 1]):
            field, value = _field(text), blocks[i + 1].text.strip().split("\n", 1)[0].strip()
        else:
            continue
        if field and field not in out and _accept(field, value):
            out[field] = value
        if len(out) == len(LABELS):
            break
    return out
