"""Per loaded index version, what the evidence signals read again and again, cached: each chunk's stemmed terms
and numbers (``TERMS``), the kinds of item a sentence holds (``ITEMS``), and per document whether it holds a term, a
number, a value in a unit or a sentence naming a subject with the asked item (``DOC_TERMS``). Bounded and
thread-safe; a new index version is a new key (``cache_key``), so a reload never reads a stale entry.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from app.query.asks import ACTION_MENTION, UNIT_WITH_NUMBER
from app.query.items import Items
from ingest.store import LoadedIndex

NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")


def cache_key(idx: LoadedIndex) -> str:
    """One loaded index version: two indexes can publish versions of the same name."""
    return f"{idx.root}@{idx.version}"


class _Lru:
    """A bounded, thread-safe least-recently-used map."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._d: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            hit = self._d.get(key)
            if hit is not None:
                self._d.move_to_end(key)
            return hit

    def put(self, key, value) -> None:
        with self._lock:
            self._d[key] = value
            while len(self._d) > self.size:
                self._d.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()


def _memo(lru: _Lru, key: Any, compute: Callable[[], Any]) -> Any:
    hit = lru.get(key)
    if hit is None:
        hit = compute()
        lru.put(key, hit)
    return hit


_PER_VERSION = _Lru(64)


def per_version(idx: LoadedIndex, name: str, compute: Callable[[], Any]) -> Any:
    """A value computed once per loaded index version (``name`` tells the values apart)."""
    return _memo(_PER_VERSION, (cache_key(idx), name), compute)


class _TermCache:
    """Stemmed terms of a chunk's sentences and headings, per (index version, row); bounded.

    ``body`` (the terms of a chunk's text and of its title) and ``numbers`` (in its text) are kept apart:
    only the top passages and the chunks that confirm a document-level term or number need them.
    """

    def __init__(self, size: int = 20000) -> None:
        self.size = size
        self._d = _Lru(size)
        self._body = _Lru(size)
        self._nums = _Lru(size)

    def get(self, idx: LoadedIndex, row: int) -> tuple[list[frozenset[str]], frozenset[str]]:
        """(terms of each sentence, terms of the chunk's title and headings)."""
        def compute() -> tuple[list[frozenset[str]], frozenset[str]]:
            ch, bm = idx.chunks[row], idx.bm25
            return [frozenset(bm.terms(ch.text[s.start : s.end])) for s in ch.sentences], frozenset(bm.terms(ch.title + " " + " ".join(ch.section_path)))

        return _memo(self._d, (cache_key(idx), row), compute)

    def body(self, idx: LoadedIndex, row: int) -> tuple[frozenset[str], frozenset[str]]:
        """(terms of the chunk's text, terms of its title)."""
        def compute() -> tuple[frozenset[str], frozenset[str]]:
            ch, bm = idx.chunks[row], idx.bm25
            return frozenset(bm.terms(ch.text)), frozenset(bm.terms(ch.title))

        return _memo(self._body, (cache_key(idx), row), compute)

    def numbers(self, idx: LoadedIndex, row: int) -> frozenset[str]:
        """The numbers in the chunk's text."""
        return _memo(self._nums, (cache_key(idx), row), lambda: frozenset(NUMBER.findall(idx.chunks[row].text)))

    def clear(self) -> None:
        self._d.clear()
        self._body.clear()
        self._nums.clear()


TERMS = _TermCache()


class _ItemCache:
    """The kinds of item a sentence text holds (``items.Items``: each pattern searched once, when asked); bounded."""

    def __init__(self, size: int = 50000) -> None:
        self._d = _Lru(size)

    def get(self, text: str) -> Items:
        hit = self._d.get(text)
        if hit is None:
            hit = Items(text)
            self._d.put(text, hit)
        return hit

    def clear(self) -> None:
        self._d.clear()


ITEMS = _ItemCache()


class _DocTerm:
    """Whether a document (its citable chunks' texts and its title) holds a stemmed term or a number.

    Exactly ``term in terms(" ".join(texts) + " " + title)`` (``nums`` alike) without tokenizing the whole
    document: BM25 indexed every chunk's text (behind its headings), so its posting list of a term names
    every chunk whose text may hold it, and only those chunks of the document are tokenized, until one does.
    """

    def __init__(self, idx: LoadedIndex, doc_id: str, code: int, codes: np.ndarray, rows: list[int], title: frozenset[str]) -> None:
        self.idx, self.doc_id, self.code, self.codes, self.rows, self.title = idx, doc_id, code, codes, rows, title

    def __contains__(self, term: str) -> bool:
        if term in self.title:
            return True
        if self.code < 0:
            return False
        posting = self.idx.bm25.rows_with(term)
        if not len(posting):
            return False
        for r in posting[self.codes[posting] == self.code].tolist():
            if term in TERMS.body(self.idx, r)[0]:
                return True
        return False

    def has_number(self, n: str) -> bool:
        chunks = self.idx.chunks
        return any(n in chunks[r].text and n in TERMS.numbers(self.idx, r) for r in self.rows)

    def has_value_in(self, unit: str) -> bool:
        """Whether some chunk of the document gives a number in ``unit`` (or the measure next to a number)."""
        return self._any_chunk(unit, UNIT_WITH_NUMBER[unit])

    def mentions(self, action: str) -> bool:
        """Whether some chunk of the document names ``action`` in any of its words (asks.ACTION_MENTION)."""
        return self._any_chunk("action:" + action, ACTION_MENTION[action])

    def said_with(self, terms: tuple[str, ...], name: str, holds: Callable[[str], bool]) -> bool | None:
        """Whether a sentence of the document that holds all ``terms`` also ``holds`` what is asked (``name`` keys
        the cache); None when no sentence holds them all (only the title or a heading does). See app/query/subjects.py."""
        key = (cache_key(self.idx), self.doc_id, terms, name)
        hit = _UNIT_HITS.get(key)
        if hit is None:
            hit = _said_with(self.idx, self._rows_with(terms[0]), terms, holds)
            _UNIT_HITS.put(key, hit)
        return None if hit == -1 else bool(hit)

    def _rows_with(self, term: str) -> list[int]:
        if self.code < 0:
            return []
        posting = self.idx.bm25.rows_with(term)
        return posting[self.codes[posting] == self.code].tolist() if len(posting) else []

    def _any_chunk(self, name: str, rx: re.Pattern[str]) -> bool:
        key = (cache_key(self.idx), self.doc_id, name)
        hit = _UNIT_HITS.get(key)
        if hit is None:
            hit = any(rx.search(self.idx.chunks[r].text) for r in self.rows)
            _UNIT_HITS.put(key, hit)
        return bool(hit)


def _said_with(idx: LoadedIndex, rows: list[int], terms: tuple[str, ...], holds: Callable[[str], bool]) -> int:
    """1: some sentence holding all ``terms`` holds it; 0: such sentences exist, none holds it; -1: none exists."""
    found = -1
    for r in rows:
        ch = idx.chunks[r]
        for x, have in zip(ch.sentences, TERMS.get(idx, r)[0], strict=True):  # each sentence's terms, read once a chunk
            if all(t in have for t in terms):
                if holds(ch.text[x.start : x.end]):
                    return 1
                found = 0
    return found


_UNIT_HITS = _Lru(20000)  # per (index version, document, unit, action or subject term): whether the document holds it


class _DocTerms:
    """Per index version: each citable chunk's document as a number, each document's citable rows."""

    def __init__(self) -> None:
        self._v: tuple[str, dict[str, int], np.ndarray, list[list[int]]] | None = None
        self._titles = _Lru(4096)
        self._lock = threading.Lock()

    def _version(self, idx: LoadedIndex) -> tuple[str, dict[str, int], np.ndarray, list[list[int]]]:
        key = cache_key(idx)
        with self._lock:
            if self._v is None or self._v[0] != key:
                ids: dict[str, int] = {}
                codes = np.full(len(idx.chunks), -1, dtype=np.int64)
                rows: list[list[int]] = []
                for i, c in enumerate(idx.chunks):
                    if c.citable:  # planted instructions never count as what a guideline says
                        code = ids.setdefault(c.doc_id, len(ids))
                        if code == len(rows):
                            rows.append([])
                        codes[i] = code
                        rows[code].append(i)
                self._v = (key, ids, codes, rows)
            return self._v

    def get(self, idx: LoadedIndex, doc_id: str) -> _DocTerm:
        key, ids, codes, rows = self._version(idx)
        title = self._titles.get((key, doc_id))
        if title is None:
            title = frozenset(idx.bm25.terms(idx.manifest["documents"].get(doc_id, {}).get("title", "")))
            self._titles.put((key, doc_id), title)
        code = ids.get(doc_id, -1)
        return _DocTerm(idx, doc_id, code, codes, rows[code] if code >= 0 else [], title)

    def holders(self, idx: LoadedIndex, term: str) -> frozenset[str]:
        """The documents of the index that hold a stemmed term (``term in self.get(idx, d)`` for every document d),
        read from the term's posting list once instead of document by document."""
        _, ids, codes, _ = self._version(idx)
        names = per_version(idx, "doc_names", lambda: {code: d for d, code in ids.items()})
        out = set(per_version(idx, "title_holders", lambda: self._title_holders(idx)).get(term, ()))
        for r in idx.bm25.rows_with(term).tolist():
            if codes[r] >= 0 and names[codes[r]] not in out and term in TERMS.body(idx, r)[0]:
                out.add(names[codes[r]])
        return frozenset(out)

    def _title_holders(self, idx: LoadedIndex) -> dict[str, frozenset[str]]:
        """Each stemmed title term with the documents whose title holds it (once per index version)."""
        held: dict[str, set[str]] = {}
        for d in idx.manifest["documents"]:
            for t in self.get(idx, d).title:
                held.setdefault(t, set()).add(d)
        return {t: frozenset(ds) for t, ds in held.items()}

    def clear(self) -> None:
        with self._lock:
            self._v = None
        self._titles.clear()


DOC_TERMS = _DocTerms()
