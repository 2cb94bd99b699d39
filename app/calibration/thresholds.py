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
