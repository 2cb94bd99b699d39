"""The gate stage: answer, or abstain with a reason, before anything is generated.

No candidates, or an answer the model would give to a question naming what no guideline of the index mentions
("what dose of anastrozole …", ``coverage.absent_names``) → ``no_evidence``; the calibrated model says the evidence does not answer →
``weak_evidence`` (``conflicting_evidence`` when the guidelines found also disagree); nothing quotable →
``unsupported``. A disagreement between guidelines on an answerable question does not abstain: the
answer carries both positions, attributed, in ``conflicts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from app.errors import ConfigError
from app.query.abstain import AbstainModel, LinearModel, Signals
from app.query.answer import Picked, candidate_sentences
from app.query.conflicts import Conflict, SentenceView, find_conflict, reported_from_elsewhere
from app.query.coverage import absent_names
from app.query.named import topic_named_docs
from app.query.retrieve import RetrievalResult
from app.query.signals import (
    SENTENCE_FEATURES,
    QuestionTerms,
    question_signals,
    question_terms,
    score_sentences,
    sentence_table,
)
from app.query.termcache import cache_key
from app.query.versions import superseded_map
from app.settings import Settings
from ingest.store import LoadedIndex


@dataclass
class GateDecision:
    answer: bool
    reason: str | None = None
    confidence: float | None = None
    conflict: Conflict | None = None
    signals: Signals | None = None
    absent: list[str] = field(default_factory=list)  # the asked names no guideline of the index mentions (no_evidence)


class Gate:
    def __init__(self, settings: Settings, model: AbstainModel | None) -> None:
        self.settings = settings
        self.model = model
        sent = getattr(model, "sentence", None)
        if isinstance(sent, LinearModel) and sent.features != SENTENCE_FEATURES:
            # The sentence scorer reads the table by position: a file from code with other columns would fail every
            # request with a shape error (or, with as many columns, weigh the wrong ones). Say so once, at start.
            raise ConfigError(
                f"the calibration's sentence scorer reads {len(sent.features)} columns "
                f"({', '.join(c for c in sent.features if c not in SENTENCE_FEATURES) or 'in another order'} unknown here); "
                f"this code's sentence table has {len(SENTENCE_FEATURES)}",
                hint="run `guideground calibrate` with this code, or point GUIDEGROUND_ABSTAIN__CALIBRATION_FILE at a file it wrote",
            )

    def decide(self, idx: LoadedIndex, question: str, qvec: np.ndarray, res: RetrievalResult, pool: list[Picked]) -> GateDecision:
        if not res.candidates:
            return GateDecision(False, "no_evidence", 0.0)
        sentence_model = self.model.sentence if self.model else None
        qt = question_terms(idx, question)  # the question side of every signal, once per request
        # The graded statements retrieval added are for the answer to quote, not evidence the gate reads: the
        # gate decides on the other sentences, then every sentence is scored for the answer.
        graded = res.graded_rows()
        extra = [p for p in pool if p.row in graded] if graded else []
        if extra:
            pool = [p for p in pool if p.row not in graded]
        # The conflict check looks at a wider pool whose first sentences are this pool's (the same passages
        # first, in the same order): score the wide pool once and take this pool's rows from it. A sentence's
        # row of the table depends on that sentence alone, so the rows are the ones a table of this pool has.
        wide = wide_X = None
        X = None
        if pool and self.settings.abstain.conflict_check:
            wide = self._wide_pool(idx, res, pool, qvec)
            wide_X = sentence_table(idx, question, res, wide, qt)
            if _is_prefix(pool, wide):
                X = wide_X[: len(pool)]
        sig, scores = question_signals(idx, question, res, pool, self.settings.retrieval.rrf_k, sentence_model, qt=qt, X=X)
        if self.model is not None and self.model.sentence is not None:
            for p, sc in zip(pool, scores.tolist(), strict=True):
                p.score = sc  # the extractive generator picks the sentences most likely to hold the answer
            self.score(idx, question, res, extra, qt)
        ok, conf = (True, None) if self.model is None else self.model.should_answer(sig)
        # Weak evidence: only sentences that are relevant on their own (log-odds ≥ 0) can disagree —
        # an out-of-scope question's closest passages saying different things is not a disagreement.
        floor = None if ok else self.settings.abstain.conflict_min_score
        conflict, _ = self.conflict(idx, question, qvec, res, pool, min_score=floor, _wide=(wide, wide_X))
        if not ok:
            # Weak evidence on which two guidelines also disagree: say so, it is the more specific reason —
            # unless the evidence is so weak that the passages are not about the question at all.
            # A disagreement between two guidelines the question itself names is about the question at any confidence.
            if conflict is not None and conf is not None and conf < self.settings.abstain.conflict_min_confidence and not _names_both(idx, res, conflict):
                conflict = None
            return GateDecision(False, "conflicting_evidence" if conflict else "weak_evidence", conf, conflict, sig)
        if not pool:
            return GateDecision(False, "unsupported", conf, None, sig)
        absent = absent_names(idx, question) if self.settings.abstain.absent_names else []
        if absent:  # the passages found are about something else than the named drug, test or scale
            return GateDecision(False, "no_evidence", conf, None, sig, absent)
        return GateDecision(True, None, conf, conflict, sig)

    def score(self, idx: LoadedIndex, question: str, res: RetrievalResult, picked: list[Picked], qt: QuestionTerms | None = None) -> None:
        """Give sentences the gate did not read (passages added for the answer to quote) their sentence-scorer score."""
        if picked and self.model is not None and self.model.sentence is not None:
            for p, sc in zip(picked, score_sentences(sentence_table(idx, question, res, picked, qt), self.model.sentence).tolist(), strict=True):
                p.score = sc

    def conflict(
        self, idx: LoadedIndex, question: str, qvec: np.ndarray, res: RetrievalResult, pool: list[Picked], min_score: float | None = None,
        _wide: tuple[list[Picked] | None, np.ndarray | None] = (None, None),
    ) -> tuple[Conflict | None, list[Picked]]:
        """A disagreement among the relevant sentences of the top passages — up to twice as deep as the
        quoted passages, as far as retrieval went (the request's ``top_k``: with the default 5 these are the
        quoted passages themselves; retrieving 10 was measured and not taken, see docs/benchmarks.md) — and
        the sentences it was found in.
        ``_wide``: the wide pool and its sentence table when ``decide`` already built them."""
        a = self.settings.answer
        if not pool or not self.settings.abstain.conflict_check:
            return None, []
        wide, wide_X = _wide
        if wide is None:
            wide = self._wide_pool(idx, res, pool, qvec)
        scored = self.model is not None and self.model.sentence is not None
        if scored:
            if wide_X is None:
                wide_X = sentence_table(idx, question, res, wide)
            rel = score_sentences(wide_X, self.model.sentence if self.model else None).tolist()
        else:
            rel = [p.sim for p in wide]
        best = max(rel)
        # With the sentence scorer, "relevant" is within a few log-odds of the best sentence; else a cosine floor.
        floor = best - a.conflict_margin if scored else max(a.min_sentence_similarity, best * a.relative_sentence_floor)
        if scored and min_score is not None:
            floor = max(floor, min_score)
        views = [SentenceView(p.row, idx.chunks[p.row].doc_id, p.start, p.end, p.text, r) for p, r in zip(wide, rel, strict=True)]
        superseded = superseded_map(cache_key(idx), idx.manifest["documents"])
        found = asked_about(idx, question, res, find_conflict(views, min_sim=floor, question=question, superseded=superseded))
        if found is None and res.compared:
            found = self._compared_conflict(idx, question, qvec, res, superseded)
        return found, wide

    def _wide_pool(self, idx: LoadedIndex, res: RetrievalResult, pool: list[Picked], qvec: np.ndarray) -> list[Picked]:
        """The sentences of up to twice the quoted passages. ``pool`` holds those of the first
        ``answer.candidate_chunks`` candidates, so when retrieval returned no more than that, it *is* the wide pool."""
        n = self.settings.answer.candidate_chunks
        if len(res.candidates) <= n:
            return list(pool)
        return candidate_sentences(idx, res.read(n * 2), qvec)

    def _compared_conflict(
        self, idx: LoadedIndex, question: str, qvec: np.ndarray, res: RetrievalResult, superseded: dict[str, str], per_group: int = 3,
    ) -> Conflict | None:
        """A question comparing named guidelines: each one's best sentences about the question (from its own
        top passages), compared across the guidelines, however low either ranks in the whole index."""
        sentence_model = self.model.sentence if self.model else None
        views: list[SentenceView] = []
        for g, group in enumerate(res.compared):
            sents = candidate_sentences(idx, group, qvec)
            if not sents:
                continue
            if sentence_model is not None:
                sub = replace(res, candidates=group, compared=[], recommended=[], graded=[])
                rel = score_sentences(sentence_table(idx, question, sub, sents), sentence_model).tolist()
            else:
                rel = [p.sim for p in sents]
            best = sorted(((p, r) for p, r in zip(sents, rel, strict=True) if not reported_from_elsewhere(p.text)), key=lambda t: -t[1])[:per_group]
            views += [SentenceView(p.row, idx.chunks[p.row].doc_id, p.start, p.end, p.text, r, group=g) for p, r in best]
        return find_conflict(views, min_sim=-np.inf, question=question, superseded=superseded)


def asked_about(idx: LoadedIndex, question: str, res: RetrievalResult, conflict: Conflict | None) -> Conflict | None:
    """``conflict`` when it is between guidelines the question asks about, else None.

    A question comparing named guidelines asks about those: a disagreement between two others, or within one of them
    (two VA/DoD guidelines, for "VA/DoD and the 2022 CDC guideline"), is not its answer (stop 47). A question naming one
    guideline by its topic ("the VA/DoD diabetes guideline") asks about that one: a disagreement with the issuer's
    guideline on another topic (its hypertension guideline) is not its answer either (stop 48)."""
    if conflict is None:
        return None
    if res.compared:
        return conflict if _names_both(idx, res, conflict) else None
    named = topic_named_docs(question, idx.manifest["documents"])
    if named is not None and not {conflict.a_doc, conflict.b_doc} <= named:
        return None
    return conflict


def _names_both(idx: LoadedIndex, res: RetrievalResult, conflict: Conflict) -> bool:
    """Whether the two sides of ``conflict`` are two of the guidelines a comparison question names."""
    groups = [{idx.chunks[c.row].doc_id for c in group} for group in res.compared]
    a = {i for i, g in enumerate(groups) if conflict.a_doc in g}
    b = {i for i, g in enumerate(groups) if conflict.b_doc in g}
    return bool(a and b and (len(a | b) >= 2))


def _is_prefix(pool: list[Picked], wide: list[Picked]) -> bool:
    """Whether ``pool`` is the first sentences of ``wide`` (same sentences, same similarities, same order)."""
    if len(pool) > len(wide):
        return False
    return all(
        (p.row, p.sent_idx, p.start, p.end, p.cand_rank, p.text) == (w.row, w.sent_idx, w.start, w.end, w.cand_rank, w.text)
        and (p.sim == w.sim or (p.sim != p.sim and w.sim != w.sim))
        for p, w in zip(pool, wide, strict=False)
    )
