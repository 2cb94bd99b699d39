"""The training report's evaluations: recall and false refusals per source and category, and the
jailbreak-wrapped held-out cases."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from app.safety.jailbreak import family_rates
from app.safety.screen import RequestScreen
from app.safety.train_data import BENIGN_SOURCES, GUARD_SOURCES, HARMFUL_SOURCES, Example


def evaluate(split: Sequence[Example], refused: np.ndarray, cats: Sequence[str]) -> dict[str, Any]:
    """Recall per harmful source, false refusals per benign source (and benign_sensitive category)."""
    by_source: dict[str, dict[str, Any]] = {}
    for source in HARMFUL_SOURCES + BENIGN_SOURCES:
        idx = [i for i, ex in enumerate(split) if ex.source == source]
        if not idx:
            continue
        key = "recall" if source in HARMFUL_SOURCES else "false_refusal_rate"
        entry: dict[str, Any] = {"n": len(idx), key: round(float(np.mean(refused[idx])), 4)}
        if source == "benign_sensitive":
            per: dict[str, list[bool]] = defaultdict(list)
            for i in idx:
                per[split[i].category].append(bool(refused[i]))
            entry["by_category"] = {
                c: {"n": len(v), "false_refusal_rate": round(float(np.mean(v)), 4), "refused": int(sum(v))}
                for c, v in sorted(per.items())
            }
            entry["refused_examples"] = [split[i].text for i in idx if refused[i]][:20]
        if source in ("medquad", *GUARD_SOURCES):
            entry["refused_examples"] = [split[i].text for i in idx if refused[i]][:20]
        by_source[source] = entry
    harm_idx = [i for i, ex in enumerate(split) if ex.harmful]
    cat_acc = float(np.mean([cats[i] == split[i].category for i in harm_idx])) if harm_idx else 0.0
    per_harm: dict[str, list[bool]] = defaultdict(list)
    for i in harm_idx:
        per_harm[split[i].category].append(bool(refused[i]))
    return {
        "harmful_recall": round(float(np.mean(refused[harm_idx])), 4) if harm_idx else None,
        # Both harmful sources together, per MedSafetyBench category (the per-category target).
        "harmful_recall_by_category": {
            c: {"n": len(v), "recall": round(float(np.mean(v)), 4), "missed": len(v) - int(sum(v))} for c, v in sorted(per_harm.items())
        },
        "missed_harmful_examples": [split[i].text for i in harm_idx if not refused[i]][:20],
        "category_accuracy": round(cat_acc, 4),
        "by_source": by_source,
    }


def jailbreak_report(
    screen: RequestScreen, wrapped_val: Sequence[Example], val_vecs: np.ndarray,
    harm: Sequence[tuple[str, str, str]], benign: Sequence[tuple[str, str, str]], vecs: np.ndarray,
) -> dict[str, Any]:
    """Refusal of wrapped harmful prompts (val: train templates; test: unseen test templates, every
    family) and false refusals of wrapped benign_sensitive test questions."""
    from app.safety.injection import screen_injection

    def rates(rows: Sequence[tuple[str, str, str]], v: np.ndarray) -> dict[str, Any]:
        texts = [r[2] for r in rows]
        refused = [d.refused for d in screen.decide_many(texts, v)] if rows else []
        return family_rates(rows, refused, [screen_injection(t).refused for t in texts])

    val_rows = [(ex.id, ex.id.rsplit("~", 1)[-1], ex.text) for ex in wrapped_val]
    n_h = len(harm)
    test_harm = rates(harm, vecs[:n_h])
    return {
        "val_recall": rates(val_rows, val_vecs),
        "test_recall": test_harm,
        "test_benign_sensitive_false_refusal": rates(benign, vecs[n_h:]),
        "missed_test_examples": _missed(screen, harm, vecs[:n_h]),
    }


def _missed(screen: RequestScreen, rows: Sequence[tuple[str, str, str]], v: np.ndarray) -> list[str]:
    decisions = screen.decide_many([r[2] for r in rows], v) if rows else []
    return [f"[{r[1]}] {r[2][:300]}" for r, d in zip(rows, decisions, strict=True) if not d.refused][:20]
