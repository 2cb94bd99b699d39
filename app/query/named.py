"""A question that names a guideline's issuer or year is answered from that guideline.

"What does the 2016 CDC guideline say about …", "per the VA/DoD guideline …", "the USPSTF's grade for …":
the named issuer (by its common abbreviation or name) and year pick the documents whose metadata
match; retrieval is then restricted to them (when that finds nothing, the whole index is searched).
"""

from __future__ import annotations

import re
import threading
from typing import Any

import numpy as np

# abbreviation or name in a question → a substring of the issuer field
ISSUER_ALIASES: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"\bUSPSTF\b|\bU\.?S\.? Preventive Services Task Force\b", re.I), ("preventive services task force",)),
    (re.compile(r"\bVA\s*/\s*DoD\b|\bVA\b|\bDepartment of Veterans Affairs\b|\bDoD\b", re.I), ("veterans affairs", "department of defense")),
    (re.compile(r"\bCDC\b|\bCenters for Disease Control\b", re.I), ("centers for disease control",)),
    (re.compile(r"\bNHLBI\b|\bNational Heart, Lung,? and Blood\b", re.I), ("national heart, lung",)),
    (re.compile(r"\bCommunity (?:Preventive Services )?Task Force\b|\bCommunity Guide\b|\bCPSTF\b", re.I), ("community preventive services",)),
    (re.compile(r"\bACIP\b|\bAdvisory Committee on Immunization Practices\b", re.I), ("immunization practices",)),
]
_YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)\b")
_lock = threading.Lock()
_cache: dict[tuple[str, str], np.ndarray | None] = {}


Names = tuple[tuple[tuple[str, ...], ...], frozenset[str]]


def asked_names(question: str) -> Names | None:
    """The issuer and year a question names ((issuer substrings, …), {year}); None when it names none, or
    names two (a comparison searches everything)."""
    issuers = tuple(subs for rx, subs in ISSUER_ALIASES if rx.search(question))
    years = set(_YEAR.findall(question))
    if years and not issuers and not re.search(r"guideline|recommendation|statement|update|version", question, re.I):
        years = set()  # "smoked since 2009" names no guideline
    if not issuers and not years:
        return None
    if len(issuers) > 1 or len(years) > 1:
        return None  # "does CDC 2016 differ from VA/DoD 2017 …": a comparison searches everything
    return issuers, frozenset(years)


def docs_named(names: Names, documents: dict[str, dict[str, Any]]) -> set[str] | None:
    """The documents whose metadata match the names (None: none does).

    Metadata a document lacks never excludes it: a guideline ingested without its issuer (no sidecar row, a
    parser that found none) stays in a set named by issuer, one without any year in its published date, title
    or version in a set named by year. Only a document known to be another issuer's or another year's is left
    out — else "per the USPSTF, …" would search only the few guidelines whose *titles* say USPSTF."""
    issuers, years = names
    out, matched = set(), False
    for d, meta in documents.items():
        issuer = (meta.get("issuer") or "").lower()
        iss = issuer + " " + (meta.get("title") or "").lower()
        if issuers and not any(any(s in iss for s in subs) for subs in issuers):
            if issuer.strip():
                continue
            unknown = True
        else:
            unknown = False
        doc_years = set(_YEAR.findall(f"{meta.get('published', '')} {meta.get('title', '')} {meta.get('version', '')}"))
        if years and not years & doc_years:
            if doc_years:
                continue
            unknown = True
        out.add(d)
        matched = matched or not unknown
    # Only documents of unknown metadata: the question names nothing this index can tell apart.
    return out if matched else None


def named_docs(question: str, documents: dict[str, dict[str, Any]]) -> set[str] | None:
    """Documents the question names by issuer and/or year; None when it names none (or none match)."""
    names = asked_names(question)
    return None if names is None else docs_named(names, documents)


def named_rows(index: Any, question: str) -> np.ndarray | None:
    """Row ids of the named documents' chunks (cached per index version and question); None: not named."""
    key = (f"{index.root}@{index.version}", question)
    with _lock:
        if key in _cache:
            return _cache[key]
    docs = named_docs(question, index.manifest["documents"])
    rows = None if docs is None else np.array([i for i, c in enumerate(index.chunks) if c.doc_id in docs], dtype=np.int64)
    if rows is not None and (rows.size == 0 or rows.size == len(index.chunks)):
        rows = None
    with _lock:
        if len(_cache) > 4096:
            _cache.clear()
        _cache[key] = rows
    return rows


def named_groups(question: str, documents: dict[str, dict[str, Any]]) -> list[set[str]]:
    """For a question that compares named guidelines ("CDC's 2016 and 2022 guidelines", "VA/DoD versus the
    USPSTF", "VA/DoD and the 2022 CDC guideline"), the documents of each named one; [] when it names fewer
    than two. A year belongs to the issuer mentioned nearest to it; with one issuer, each year is one guideline."""
    issuers = [(m.start(), subs) for rx, subs in ISSUER_ALIASES for m in rx.finditer(question)]
    years = [(m.start(), m.group(1)) for m in _YEAR.finditer(question)]
    if len({subs for _, subs in issuers}) <= 1 and len({y for _, y in years}) <= 1:
        return []
    if not issuers and not re.search(r"guideline|recommendation|statement|update|version", question, re.I):
        return []
    mentions: dict[tuple[tuple[str, ...] | None, str | None], None] = {}
    if len({subs for _, subs in issuers}) >= 2:
        for at, subs in issuers:
            own = [y for y_at, y in years if abs(y_at - at) <= 40 and min(issuers, key=lambda t: abs(t[0] - y_at))[1] == subs]
            mentions[(subs, own[0] if own else None)] = None
    else:
        only = issuers[0][1] if issuers else None
        for _, y in years:
            mentions[(only, y)] = None
    groups: list[set[str]] = []
    for named, year in mentions:
        docs = {
            d for d, meta in documents.items()
            if (named is None or any(s in f"{meta.get('issuer') or ''} {meta.get('title') or ''}".lower() for s in named))
            and (year is None or year in _YEAR.findall(f"{meta.get('published', '')} {meta.get('title', '')} {meta.get('version', '')}"))
        }
        if docs and docs not in groups:
            groups.append(docs)
    return groups if len(groups) >= 2 else []


# "the VA/DoD diabetes guideline", "the USPSTF syphilis statement", "VA/DoD's 2017 opioid guideline": an issuer, a few
# words, then the kind of document (stop 48).
_TOPIC_NAMED = re.compile(
    r"(?P<issuer>" + "|".join(rx.pattern for rx, _ in ISSUER_ALIASES) + r")(?:'s|’s)?\s+"
    r"(?P<topic>(?:[\w\-/().]+\s+){1,6}?)(?:guidelines?|statements?|recommendations?|review|CPG)\b",
    re.I,
)
_NOT_TOPIC = frozenset(
    "the a an of for and on in to its their clinical practice final recommendation recommendations statement guideline "
    "guidelines update version latest current new say says said".split()
)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


def _norm(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _abbreviates(abbr: str, words: list[str]) -> bool:
    """`abbr` spells two or more of `words` from their start: each word gives its first letter and, a compound word,
    later letters of it in order ("PTSD" from "posttraumatic stress disorder": p·t, s, d; "CKD" from "chronic kidney
    disease")."""

    def spells(rest: str, i: int) -> int:  # how many words from i spell `rest` (0: none can)
        if not rest:
            return 0
        if i >= len(words) or rest[0] != words[i][:1]:
            return -1
        word, pos = words[i], 1
        for k in range(1, len(rest) + 1):  # this word gives rest[:k]
            after = spells(rest[k:], i + 1)
            if after >= 0:
                return after + 1
            if k == len(rest):
                break
            pos = word.find(rest[k], pos) + 1
            if pos == 0:
                break
        return -1

    return spells(abbr, 0) >= 2


def _in_title(word: str, title_words: list[str], capitals: frozenset[str] = frozenset()) -> float:
    """1 when a topic word is in a title as a word or as the initials of consecutive title words (COPD, CKD); 0.5 when
    the question writes it in capitals and it takes later letters of a compound title word too (PTSD: posttraumatic
    stress disorder), a looser reading that yields to an exact one elsewhere; else 0."""
    w = _norm(word)
    if w in {_norm(t) for t in title_words}:
        return 1.0
    n = len(word)
    if not 2 <= n <= 6:
        return 0.0
    if any("".join(t[0] for t in title_words[i : i + n]) == word for i in range(len(title_words) - n + 1)):
        return 1.0
    return 0.5 if word in capitals and any(_abbreviates(word, title_words[i:]) for i in range(len(title_words))) else 0.0


def topic_named_docs(question: str, documents: dict[str, dict[str, Any]]) -> set[str] | None:
    """The documents of the one guideline a question names by issuer and topic ("the VA/DoD diabetes guideline"): the
    issuer's documents whose titles hold the most topic words (all versions of it); None when the question names none,
    names several issuers, or its words pick out no proper subset of the issuer's documents."""
    found = list(_TOPIC_NAMED.finditer(question))
    issuers = {subs for rx, subs in ISSUER_ALIASES if rx.search(question)}
    if len(found) != 1 or len(issuers) != 1:
        return None
    topic = [w for w in _words(found[0].group("topic")) if w not in _NOT_TOPIC and not _YEAR.fullmatch(w)]
    own = docs_named((tuple(issuers), frozenset()), documents)
    if not topic or not own:
        return None
    capitals = frozenset(w.lower() for w in re.findall(r"\b[A-Z]{2,6}\b", found[0].group("topic")))
    hits = {d: sum(_in_title(w, _words(documents[d].get("title") or ""), capitals) for w in topic) for d in own}
    best = max(hits.values())
    chosen = {d for d, n in hits.items() if n == best}
    return chosen if best > 0 and len(chosen) < len(own) else None
