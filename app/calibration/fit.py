"""Fit the sentence scorer and the gate on collected examples; choose the threshold out of fold."""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from typing import Any

import numpy as np

from app.calibration.collect import Example
from app.calibration.thresholds import choose_threshold, group_rates
from app.query.abstain import AbstainModel, LinearModel, Signals, sigmoid
from app.query.signals import NO_DOCUMENT, SENTENCE_FEATURES, score_sentences, summarize

GATE_FEATURES = [
    "s_best", "s_second", "best_item_match", "top3_item_match", "best_idf_cov_ctx", "max_idf_cov", "best_sim",
    "doc_margin", "dense_top", "agreement", "idf_coverage", "missing_idf", "title_coverage", "open_question",
    "log_q_terms", "ask_cov_doc", "ask_missing_doc", "ask_num_absent", "best_ask_cov", "top3_ask_cov", "ask_unit_absent",
    "ask_action_absent", "subject_value_absent", "subject_unit_absent", "subjects_value_absent",
]


def fit_linear(X: np.ndarray, y: np.ndarray, names: list[str], C: float = 1.0, sample_weight: np.ndarray | None = None) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=2000)
    lr.fit((X - mean) / scale, y, sample_weight=sample_weight)
    return LinearModel(names, mean.tolist(), scale.tolist(), lr.coef_[0].tolist(), float(lr.intercept_[0]))


def fit_sentence_model(examples: Sequence[Example]) -> LinearModel | None:
    rows = [e for e in examples if e.source == "clinician" and len(e.X)]
    if not rows or not any(e.y_sent.any() for e in rows):
        return None
    X = np.vstack([e.X for e in rows])
    y = np.concatenate([e.y_sent for e in rows])
    return fit_linear(X, y, list(SENTENCE_FEATURES))


# Candidate signals tried offline (bench/gate_experiment.py --candidate): (example, the rows of its sentence
# table the gate reads, best-scored first) → more named signals. Serving never passes one.
Extra = Callable[[Example, np.ndarray], dict[str, float]]


def gate_matrix(examples: Sequence[Example], sent: LinearModel | None, extra: Extra | None = None) -> np.ndarray:
    rows = []
    for e in examples:
        X, docs = e.X, e.sent_docs
        rows_read = np.arange(len(X))
        if e.read is not None and not e.read.all():  # the gate does not read the graded statements
            X, docs, rows_read = X[e.read], [d for d, r in zip(docs, e.read.tolist(), strict=True) if r], rows_read[e.read]
        scores = score_sentences(X, sent)
        v = dict(e.passage)
        top = docs[int(np.argmax(scores))] if len(scores) else ""
        v.update(e.doc_signals.get(top) or NO_DOCUMENT)
        v = summarize(X, docs, scores, v)
        if extra is not None:
            v.update(extra(e, rows_read[np.argsort(-scores, kind="stable")]))
        rows.append(Signals(v).vector(GATE_FEATURES))
    return np.array(rows, dtype=np.float64)


def document_folds(groups: Sequence[str], k: int, seed: int) -> list[np.ndarray]:
    """k folds of example indexes, every group (a document) in one fold: the folds ``out_of_fold`` fits over."""
    uniq = sorted(set(groups))
    rng = np.random.default_rng(seed)
    rng.shuffle(uniq)
    fold_of = {g: i % k for i, g in enumerate(uniq)}
    f = np.array([fold_of[g] for g in groups])
    return [np.flatnonzero(f == i) for i in range(k)]


def out_of_fold(examples: Sequence[Example], k: int = 5, seed: int = 13, extra: Extra | None = None,
                weights: np.ndarray | None = None) -> np.ndarray:
    """P(answerable) for every example from models that never saw its document (``weights``: per example, in the gate's
    fit only)."""
    p = np.zeros(len(examples))
    for test in document_folds([e.group for e in examples], k, seed):
        train = np.setdiff1d(np.arange(len(examples)), test)
        tr = [examples[i] for i in train]
        sent = fit_sentence_model(tr)
        gate = fit_linear(gate_matrix(tr, sent, extra), np.array([e.label for e in tr]), GATE_FEATURES,
                          sample_weight=None if weights is None else weights[train])
        te = [examples[i] for i in test]
        p[test] = [sigmoid(z) for z in gate.logits(gate_matrix(te, sent, extra))]
    return p


def rate_groups(examples: Sequence[Example]) -> list[tuple[str, np.ndarray, bool]]:
    out = []
    for src in sorted({e.source for e in examples}):
        for lab, name in ((1, "answer_rate"), (0, "abstain_rate")):
            m = np.array([e.source == src and e.label == lab for e in examples])
            if m.any():
                out.append((f"{src}.{name}", m, lab == 1))
    return out


def fit(
    examples: Sequence[Example], seed: int = 13, extra: Extra | None = None, threshold_sources: Container[str] | None = None,
    weights: Sequence[float] | None = None,
) -> tuple[AbstainModel, dict[str, Any]]:
    """Fit the gate and the sentence scorer on every example; the threshold maximizes the worst per-source rate
    out of fold, over the sources in ``threshold_sources`` (default: all). ``weights``: each example's weight in the
    gate's fit (default 1; the sentence scorer is fitted unweighted)."""
    y = np.array([e.label for e in examples])
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    oof = out_of_fold(examples, seed=seed, extra=extra, weights=w)
    groups = rate_groups(examples)
    chosen = [(m, pos) for name, m, pos in groups if threshold_sources is None or name.split(".")[0] in threshold_sources]
    t = choose_threshold(oof, chosen)
    sent = fit_sentence_model(examples)
    gate = fit_linear(gate_matrix(examples, sent, extra), y, GATE_FEATURES, sample_weight=w)
    model = AbstainModel(gate, t, sent)
    report = {
        "threshold_rule": "maximize the worst of the per-source answer/abstain rates, on out-of-fold probabilities (folds by document)",
        "out_of_fold": {name: round(r, 4) for (name, _, _), r in zip(groups, group_rates(oof, [(m, pos) for _, m, pos in groups], t), strict=True)},
        "out_of_fold_auroc": auroc_by_source(examples, oof),
        "gate_weights": dict(zip(GATE_FEATURES, [round(w, 4) for w in gate.coef], strict=True)),
        "sentence_weights": dict(zip(SENTENCE_FEATURES, [round(w, 4) for w in sent.coef], strict=True)) if sent else None,
    }
    return model, report


def auroc_by_source(examples: Sequence[Example], p: np.ndarray) -> dict[str, float | None]:
    from sklearn.metrics import roc_auc_score

    out: dict[str, float | None] = {}
    for src in sorted({e.source for e in examples}):
        idx = [i for i, e in enumerate(examples) if e.source == src]
        ys = [examples[i].label for i in idx]
        out[src] = round(float(roc_auc_score(ys, p[idx])), 4) if len(set(ys)) == 2 else None
    return out


def evaluate(model: AbstainModel, examples: Sequence[Example]) -> dict[str, Any]:
    """Rates and AUROC of a fitted model on examples it was not fitted on."""
    p = np.array([sigmoid(z) for z in model.gate.logits(gate_matrix(examples, model.sentence))]) if examples else np.zeros(0)
    groups = rate_groups(examples)
    rates = group_rates(p, [(m, pos) for _, m, pos in groups], model.threshold)
    return {
        "n": len(examples),
        "rates": {name: round(r, 4) for (name, _, _), r in zip(groups, rates, strict=True)},
        "auroc": auroc_by_source(examples, p),
    }
