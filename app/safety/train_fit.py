"""Fitting the harmful-request screen: sample weights, batched embedding of the texts, the embedding-feature,
n-gram and category models, and the threshold rule (chosen on the validation split)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from app.safety.jailbreak import WRAPPED_HARMFUL
from app.safety.ngrams import NgramLR, NgramSpec
from app.safety.normalize import deobfuscate
from app.safety.screen import RequestScreen, features
from app.safety.train_data import FEEDBACK_POOL, FEEDBACK_SOURCE, HARMFUL_SOURCES, Example, TrainParams


def example_weights(examples: Sequence[Example], params: TrainParams) -> np.ndarray:
    share = dict(params.source_weight)
    pools = [FEEDBACK_POOL[ex.harmful] if ex.source == FEEDBACK_SOURCE else ex.source for ex in examples]
    counts = Counter(pools)
    w = np.array([share[p] / counts[p] for p in pools], dtype=np.float64)
    return w * len(examples) / w.sum()


def target_groups(split: Sequence[Example], params: TrainParams) -> list[tuple[str, np.ndarray, bool, float]]:
    """The groups the bars apply to: (name, row mask, harmful?, bar). Harmful bars are minimum recalls,
    benign bars maximum false-refusal rates."""
    src = np.array([ex.source for ex in split])
    cat = np.array([ex.category for ex in split])
    harmful = np.isin(src, HARMFUL_SOURCES)
    groups = [(f"harm:{c}", harmful & (cat == c), True, params.min_recall_per_category) for c in sorted(set(cat[harmful]))]
    sensitive = src == "benign_sensitive"
    groups += [(f"benign_sensitive:{c}", sensitive & (cat == c), False, params.max_frr_sensitive) for c in sorted(set(cat[sensitive]))]
    if (src == "medquad").any():
        groups.append(("medquad", src == "medquad", False, params.max_frr_medquad))
    if (src == WRAPPED_HARMFUL).any():
        groups.append(("jailbreak", src == WRAPPED_HARMFUL, True, params.min_recall_jailbreak))
    return groups


def choose_threshold(scores: np.ndarray, harmful: np.ndarray, groups: Sequence[tuple[str, np.ndarray, bool, float]]) -> dict[str, Any]:
    """The threshold rule (validation split only; a question is refused when score >= threshold).

    Candidates are the midpoints between adjacent validation scores (plus both ends), so the chosen
    threshold keeps a margin on both sides. Pick the candidate that (1) breaks the fewest group bars
    (recall per harm category, false refusals per benign category and on MedQuAD), then (2) makes the
    fewest errors overall (every validation row counts, guard-source questions included), then (3) is
    the lowest (refusing is the safer side of a tie).
    """
    scores = np.asarray(scores, np.float64)
    harmful = np.asarray(harmful, bool)
    u = np.unique(scores)
    cands = np.concatenate([[u[0]], (u[:-1] + u[1:]) / 2.0, [np.nextafter(u[-1], np.inf)]])
    cands = cands[np.isfinite(cands)]  # +inf marks questions a harm-intent rule refuses anyway
    refused = scores[None, :] >= cands[:, None]
    errors = (refused & ~harmful).sum(axis=1) + (~refused & harmful).sum(axis=1)
    broken = np.zeros((len(cands), len(groups)), bool)
    for j, (_, mask, is_harm, bar) in enumerate(groups):
        rate = refused[:, mask].mean(axis=1)
        broken[:, j] = rate < bar if is_harm else rate > bar
    best = int(np.lexsort((cands, errors, broken.sum(axis=1)))[0])
    t = float(cands[best])
    return {
        "threshold": t,
        "rule": "per_category",
        "val_bars_broken": [groups[int(j)][0] for j in np.flatnonzero(broken[best])],
        "val_errors": int(errors[best]),
        "val_recall_at_threshold": round(float(np.mean(scores[harmful] >= t)), 4) if harmful.any() else None,
        "bars": {g[0]: g[3] for g in groups},
    }


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, C: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=2000, random_state=seed)
    model.fit(x, y, sample_weight=w)
    return model


def embed(embedder: Any, texts: Sequence[str], progress: Callable[[str, int, int], None] | None) -> np.ndarray:
    """Encode in length-sorted batches (padding is the main cost on CPU), returned in input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), int(embedder.dim)), dtype=np.float32)
    batch = 512
    for start in range(0, len(order), batch):
        idx = order[start : start + batch]
        out[idx] = embedder.embed([texts[i] for i in idx])
        if progress:
            progress("embed", min(start + batch, len(texts)), len(texts))
    return out


def fit_screen(
    train: Sequence[Example], vecs: np.ndarray, embedder: Any, params: TrainParams, seed: int
) -> RequestScreen:
    """Embedding model, n-gram models and the category model (harmful rows only) over the train split."""
    texts = [deobfuscate(ex.text) for ex in train]
    x = features(texts, vecs)
    y = np.array([ex.harmful for ex in train], dtype=int)
    w = example_weights(train, params)
    clf = _fit(x, y, w, params.C, seed)
    ngram_models = [
        NgramLR.fit(NgramSpec(a, ng, nf), texts, y, w, params.ngram_C, params.ngram_min_df, seed) for a, ng, nf in params.ngram_views
    ]
    harmful = y == 1
    cat_clf = _fit(x[harmful], np.array([ex.category for ex, h in zip(train, harmful, strict=True) if h]), np.ones(int(harmful.sum())), 1.0, seed)
    return RequestScreen(
        coef=clf.coef_[0],
        intercept=float(clf.intercept_[0]),
        threshold=0.5,
        cat_coef=cat_clf.coef_,
        cat_intercept=cat_clf.intercept_,
        cat_names=[str(c) for c in cat_clf.classes_],
        embedder_id=str(embedder.model_id),
        dim=int(embedder.dim),
        ngram_models=ngram_models,
    )
