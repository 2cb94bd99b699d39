"""Run labelled questions through the service's own retrieval and record what the gate would see."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.eval.cases import EvalCase
from app.query.asks import asked_kinds, open_question
from app.query.service import QueryService
from app.query.signals import document_signals, passage_signals, sentence_table

_W = re.compile(r"[a-z0-9]+")


@dataclass
class Example:
    """One labelled question as the gate sees it (no sentence model applied yet)."""

    case_id: str
    question: str
    label: int  # 1 = answerable, 0 = should abstain
    source: str  # "clinician" | "medquad" | "feedback"
    group: str  # the document the question is about (for grouped cross-validation)
    X: np.ndarray  # sentence table (app/query/signals.SENTENCE_FEATURES)
    sent_docs: list[str]
    y_sent: np.ndarray  # 1 where the sentence holds the gold evidence
    passage: dict[str, float]
    gold_in_top: bool = False
    tags: list[str] = field(default_factory=list)
    doc_signals: dict[str, dict[str, float]] = field(default_factory=dict)  # per candidate document
    read: np.ndarray | None = None  # the sentences the gate reads (not the graded statements added for the answer); None = all


def _words(text: str) -> set[str]:
    return set(_W.findall(text.lower()))


def holds_evidence(sentence: str, evidence: str) -> bool:
    """A sentence holds the gold evidence when it is inside the span, contains it, or mostly overlaps it."""
    s, e = " ".join(sentence.split()).lower(), " ".join(evidence.split()).lower()
    if not s or not e:
        return False
    if s in e or e in s:
        return True
    ws, we = _words(s), _words(e)
    return bool(ws) and len(ws & we) / len(ws) >= 0.7 and len(ws & we) / len(we) >= 0.4


def collect(
    svc: QueryService, cases: list[EvalCase], source: str, progress: Callable[[str, int, int], None] | None = None
) -> list[Example]:
    out: list[Example] = []
    qs = [c.question for c in cases]
    for c, v in zip(cases, svc.embedder.embed(qs), strict=True):  # one batched encode
        svc.cache.put(c.question, v)
    for i, c in enumerate(cases):
        res, idx, pool = svc.explain(c.question)
        X = sentence_table(idx, c.question, res, pool)
        docs = [idx.chunks[p.row].doc_id for p in pool]
        gold = set(c.gold_doc_ids)
        y = np.array(
            [int(c.expected == "answer" and bool(c.gold_evidence) and d in gold and holds_evidence(p.text, c.gold_evidence or ""))
             for p, d in zip(pool, docs, strict=True)],
            dtype=np.int64,
        )
        ps = passage_signals(idx, res, c.question, svc.settings.retrieval.rrf_k)
        ps["open_question"] = float(open_question(asked_kinds(c.question)))
        doc_sig = {d: document_signals(idx, c.question, d) for d in dict.fromkeys(docs)}
        top_docs = {idx.chunks[cd.row].doc_id for cd in res.candidates[: svc.settings.retrieval.top_k]}
        graded = res.graded_rows()
        out.append(Example(
            c.id, c.question, int(c.expected == "answer"), source, (c.gold_doc_ids or [c.id])[0], X, docs, y, ps,
            bool(gold & top_docs), list(c.tags), doc_sig, np.array([p.row not in graded for p in pool], dtype=bool),
        ))
        if progress:
            progress(f"signals ({source})", i + 1, len(cases))
    return out
