"""An issuer's standard text: sentences that many guidelines of the index repeat word for word.

USPSTF summaries all say "The USPSTF does not consider the costs of providing a service in this assessment." and
explain their grades; every NGC summary carries the same disclaimers. Such a sentence is about the issuer, not about
the question's subject, and quoted in an answer it reads as filler (docs/benchmarks.md, stop 34). The merge-and-publish
step marks them over the whole index (``Chunk.boilerplate``); the query side never quotes a marked sentence.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from ingest.documents import Chunk

BOILERPLATE_DOCS = 3  # a sentence in at least this many documents is standard text
_MIN_KEY = 20  # shorter sentences are labels, which the query side judges on their own
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _key(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


def mark_boilerplate(chunks: Sequence[Chunk], min_docs: int = BOILERPLATE_DOCS) -> int:
    """Set each chunk's ``boilerplate`` (indices of its sentences in ``min_docs`` or more documents); the count marked."""
    keys = [[_key(c.text[s.start : s.end]) for s in c.sentences] for c in chunks]
    docs: defaultdict[str, set[str]] = defaultdict(set)
    for c, ks in zip(chunks, keys, strict=True):
        for k in ks:
            if len(k) >= _MIN_KEY:
                docs[k].add(c.doc_id)
    n = 0
    for c, ks in zip(chunks, keys, strict=True):
        c.boilerplate = [i for i, k in enumerate(ks) if len(docs.get(k, ())) >= min_docs]
        n += len(c.boilerplate)
    return n
