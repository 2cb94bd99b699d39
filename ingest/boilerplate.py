"""An issuer's standard text: sentences that many guidelines of the index repeat word for word.

USPSTF summaries all say "The USPSTF does not consider the costs of providing a service in this assessment." and
explain their grades; every NGC summary carries the same disclaimers. Such a sentence is about the issuer, not about
the question's subject, and quoted in an answer it reads as filler (docs/benchmarks.md, stop 34). The merge-and-publish
step marks them over the whole index (``Chunk.boilerplate``); the query side never quotes a marked sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ingest.documents import Chunk

BOILERPLATE_DOCS = 3  # a sentence in at least this many documents is standard text
_MIN_KEY = 20  # shorter sentences are labels, which the query side judges on their own
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _key(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


def mark_boilerplate(chunks: Sequence[Chunk], min_docs: int = BOILERPLATE_DOCS) -> int:
    """Set each chunk's ``boilerplate`` (indices of its sentences in ``min_docs`` or more documents); the count marked.

    Sentences are compared by a 64-bit hash of their key, and documents counted with NumPy, so memory stays at a few
    bytes per sentence at a million chunks (a set of documents per distinct sentence would not)."""
    doc_ix: dict[str, int] = {}
    hashes: list[int] = []
    docs: list[int] = []
    for c in chunks:
        d = doc_ix.setdefault(c.doc_id, len(doc_ix))
        for s in c.sentences:
            k = _key(c.text[s.start : s.end])
            hashes.append(hash(k) if len(k) >= _MIN_KEY else 0)  # 0: too short to judge
            docs.append(d)
    if not hashes:
        return 0
    h = np.array(hashes, dtype=np.int64)
    pairs = np.unique(np.stack([h, np.array(docs, dtype=np.int64)], axis=1), axis=0)  # each (sentence, document) once
    keys, n_docs = np.unique(pairs[:, 0], return_counts=True)
    standard = keys[(n_docs >= min_docs) & (keys != 0)]
    marked = np.isin(h, standard)
    n, at = 0, 0
    for c in chunks:
        m = marked[at : at + len(c.sentences)]
        c.boilerplate = np.flatnonzero(m).tolist()
        n += len(c.boilerplate)
        at += len(c.sentences)
    return n
