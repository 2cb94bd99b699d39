"""Choosing an operating threshold on scores (one definition, used by every calibration)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def group_rates(p: np.ndarray, groups: Sequence[tuple[np.ndarray, bool]], t: float) -> list[float]:
    """For each (mask, positive) group: the answer rate (positive) or abstain rate (negative) at threshold t."""
    ans = p >= t
    return [float(ans[m].mean() if pos else (~ans[m]).mean()) for m, pos in groups if m.any()]


def choose_threshold(p: np.ndarray, groups: Sequence[tuple[np.ndarray, bool]]) -> float:
    """The threshold maximizing the worst group's rate (ties: the larger sum of rates, then the higher t).

    With one positive and one negative group this maximizes min(answer rate, abstain rate).
    Candidates are midpoints between adjacent distinct scores, so a margin is kept on both sides.
    """
    p = np.asarray(p, dtype=np.float64)
    u = np.unique(p)
    cands = np.concatenate([[u[0] - 1e-9], (u[:-1] + u[1:]) / 2.0, [u[-1] + 1e-9]]) if len(u) else np.array([0.5])
    best_t, best = 0.5, (-1.0, -1.0, -1.0)
    for t in cands:
        r = group_rates(p, groups, float(t))
        key = (min(r) if r else 0.0, sum(r), float(t))
        if key > best:
            best, best_t = key, float(t)
    return best_t


def binary_groups(y: np.ndarray) -> list[tuple[np.ndarray, bool]]:
    y = np.asarray(y)
    return [(y == 1, True), (y == 0, False)]


def abstained_at_answered(
    p: np.ndarray, answerable: np.ndarray, negative: np.ndarray, answered: Sequence[float] = (0.85, 0.87, 0.89)
) -> dict[str, float]:
    """How many ``negative`` questions are abstained on with the threshold that answers a given share of the
    ``answerable`` ones: the separation read at fixed answer rates, whatever threshold a rule would pick.

    Keys are the answer rates actually reached (three decimals), values the negatives' abstention rate."""
    p, answerable, negative = np.asarray(p, dtype=np.float64), np.asarray(answerable, bool), np.asarray(negative, bool)
    out: dict[str, float] = {}
    if not answerable.any() or not negative.any():
        return out
    for a in answered:
        t = float(np.quantile(p[answerable], 1 - a))
        out[f"{float(np.mean(p[answerable] >= t)):.3f}"] = round(float(np.mean(p[negative] < t)), 3)
    return out
