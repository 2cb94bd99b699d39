"""The gate stage: answer, or abstain with a reason, before anything is generated.

Order: no candidates → ``no_evidence``; two guidelines disagreeing on the asked-for item →
``conflicting_evidence`` (the more specific reason, so it is checked before the weak-evidence model);
the calibrated model says the evidence does not answer → ``weak_evidence``; nothing quotable →
``unsupported``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.query.abstain import AbstainModel, Signals
from app.query.answer import Picked, candidate_sentences
from app.query.conflicts import Conflict, SentenceView, find_conflict
from app.query.retrieve import RetrievalResult
from app.query.signals import compute_signals
from app.settings import Settings
from ingest.store import LoadedIndex


@dataclass
class GateDecision:
    answer: bool
    reason: str | None = None
    confidence: float | None = None
    conflict: Conflict | None = None
    signals: Signals | None = None


class Gate:
    def __init__(self, settings: Settings, model: AbstainModel | None) -> None:
        self.settings = settings
        self.model = model

    def decide(self, idx: LoadedIndex, question: str, qvec: np.ndarray, res: RetrievalResult, pool: list[Picked]) -> GateDecision:
        if not res.candidates:
            return GateDecision(False, "no_evidence", 0.0)
        sig = compute_signals(idx, res, question, pool, self.settings.retrieval.rrf_k)
        ok, conf = (True, None) if self.model is None else self.model.should_answer(sig)
        conflict = self.conflict(idx, question, qvec, res, pool)
        if conflict is not None:
            return GateDecision(False, "conflicting_evidence", conf, conflict, sig)
        if not ok:
            return GateDecision(False, "weak_evidence", conf, None, sig)
        if not pool:
            return GateDecision(False, "unsupported", conf, None, sig)
        return GateDecision(True, None, conf, None, sig)

    def conflict(self, idx: LoadedIndex, question: str, qvec: np.ndarray, res: RetrievalResult, pool: list[Picked]) -> Conflict | None:
        a = self.settings.answer
        if not pool or not self.settings.abstain.conflict_check:
            return None
        best = max(p.sim for p in pool)
        # Look a little deeper than the quoted passages: the disagreeing guideline may rank 4th.
        wide = candidate_sentences(idx, res.candidates, a.candidate_chunks * 2, qvec)
        views = [SentenceView(p.row, idx.chunks[p.row].doc_id, p.start, p.end, p.text, p.sim) for p in wide]
        return find_conflict(views, min_sim=max(a.min_sentence_similarity, best * a.relative_sentence_floor), question=question)
