"""Which guidelines in an index are superseded by a newer version of themselves.

A document is superseded when its metadata says so (``superseded_by``, or another document's
``supersedes``), or — for corpora without that metadata — when a later document from the same issuer
has nearly the same title once the issuer's boilerplate words are removed (e.g. CDC's 2016 opioid
guideline and its 2022 successor; US MEC 2016 and the 2024 chart). The title rule is deliberately
strict (word overlap ≥ 0.78): a missed label is better than calling a different guideline outdated.
"""

from __future__ import annotations

import re
import threading
from datetime import date
from typing import Any

from app.query.retrieve import parse_published

_BOILERPLATE = frozenset(
    "a an the of for and in to with on by u s us united states preventive services task force recommendation "
    "statement statements guideline guidelines clinical practice update summary chart final federal government agency "
    "department veterans affairs defense report".split()
)
TITLE_OVERLAP = 0.78
_NEGATING = frozenset({"without", "non", "not", "nonpregnant", "except", "excluding"})  # "with" vs "without risk factors"
_lock = threading.Lock()
_cache: dict[str, dict[str, str]] = {}


def _title_words(title: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[a-z]+", title.lower()) if len(w) > 2 and w not in _BOILERPLATE)


def _issuer(text: str) -> str:
    return text.split(" - ")[0].strip().lower()


def _published(meta: dict[str, Any]) -> date | None:
    """The publication date, or — for a guideline ingested without one (no sidecar row, no labelled date) — the
    year its title or version names ("… United States, 2022")."""
    return parse_published(meta.get("published", "")) or parse_published(f"{meta.get('title', '')} {meta.get('version', '')}")


def superseded_map(version: str, documents: dict[str, dict[str, Any]]) -> dict[str, str]:
    """doc_id → the doc_id that supersedes it (cached per index version)."""
    with _lock:
        hit = _cache.get(version)
    if hit is not None:
        return hit
    out: dict[str, str] = {}
    for d, meta in documents.items():
        if meta.get("superseded_by"):
            out[d] = str(meta["superseded_by"])
        for old in str(meta.get("supersedes") or "").split(";"):
            if old.strip() in documents:
                out[old.strip()] = d
    items = [(d, _title_words(m.get("title", "")), _issuer(m.get("issuer", "")), _published(m)) for d, m in documents.items()]
    for d, wd, issuer, pub in items:
        for e, we, issuer_e, pub_e in items:
            if d == e or d in out or not wd or not we or issuer != issuer_e or pub is None or pub_e is None:
                continue
            if (wd ^ we) & _NEGATING:
                continue
            if pub_e.year > pub.year and len(wd & we) / len(wd | we) >= TITLE_OVERLAP:
                out[d] = e
    with _lock:
        if len(_cache) > 16:
            _cache.clear()
        _cache[version] = out
    return out
