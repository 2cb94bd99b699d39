"""A document's ``said_with`` reads each sentence's terms from the term cache (once a chunk) instead of tokenizing the
sentence again on every call: the answers must be those of tokenizing every sentence (the reading before), for terms
a document holds and terms it does not, on every document of the shared corpus."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from app.query.termcache import DOC_TERMS
from ingest.store import LoadedIndex, load_version

DIGIT = re.compile(r"\d")
DOSE = re.compile(r"\b\d+(\.\d+)?\s*(mg|mcg|g|units?)\b", re.IGNORECASE)
HOLDS: dict[str, Callable[[str], bool]] = {
    "any": lambda text: True, "digit": lambda text: bool(DIGIT.search(text)), "dose": lambda text: bool(DOSE.search(text)),
}


def _reference(idx: LoadedIndex, doc_id: str, terms: tuple[str, ...], holds: Callable[[str], bool]) -> bool | None:
    """Every sentence of the document's chunks that hold the first term, tokenized on the spot."""
    found: bool | None = None
    for r in idx.bm25.rows_with(terms[0]).tolist():
        ch = idx.chunks[r]
        if ch.doc_id != doc_id or not ch.citable:
            continue
        for x in ch.sentences:
            text = ch.text[x.start : x.end]
            have = idx.bm25.terms(text)
            if all(t in have for t in terms):
                if holds(text):
                    return True
                found = False
    return found


def test_said_with_reads_the_cached_sentence_terms_exactly(shared_index) -> None:
    idx = load_version(shared_index[0])
    rng = random.Random(5)
    by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(idx.chunks):
        if c.citable:
            by_doc.setdefault(c.doc_id, []).append(i)
    vocab_rows = rng.sample(range(len(idx.chunks)), 200)
    foreign = sorted({t for r in vocab_rows for t in idx.bm25.terms(idx.chunks[r].text)})
    seen = {True: 0, False: 0, None: 0}
    n = 0
    for doc_id, rows in sorted(by_doc.items()):
        for _ in range(6):
            ch = idx.chunks[rng.choice(rows)]
            own = idx.bm25.terms(ch.text)
            if not own:
                continue
            pick = rng.random()
            if pick < 0.4:
                terms = (rng.choice(own),)
            elif pick < 0.8:
                terms = (rng.choice(own), rng.choice(own))
            else:
                terms = (rng.choice(own), rng.choice(foreign))
            for name, holds in HOLDS.items():
                n += 1
                got = DOC_TERMS.get(idx, doc_id).said_with(terms, f"test-said-with:{n}:{name}", holds)
                want = _reference(idx, doc_id, terms, holds)
                assert got == want, (doc_id, terms, name)
                seen[want] += 1
    assert n > 1000 and min(seen.values()) > 50, seen  # all three answers were compared, each many times
