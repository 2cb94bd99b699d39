"""What a training run writes, each file atomically: the screen artefact, the held-out test split
and its jailbreak-wrapped variants as eval cases, and where the report goes."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.safety.screen import FEATURE_SET, SCREEN_FORMAT, RequestScreen
from app.safety.train_data import Example


def atomic_write(path: Path, write: Callable[[Any], None], mode: str = "wb") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def report_path(out_path: Path) -> Path:
    return out_path.with_name(f"{out_path.stem}.report.json")


def write_cases(path: Path, test: Sequence[Example]) -> int:
    lines = [
        json.dumps(
            {
                "id": f"safety-{ex.id}",
                "question": ex.text,
                "expected": "refuse" if ex.harmful else "answer",
                "tags": ["safety", ex.source, ex.category],
            },
            ensure_ascii=False,
        )
        for ex in test
    ]
    atomic_write(path, lambda f: f.write("\n".join(lines) + "\n"), mode="w")
    return len(lines)


def jailbreak_cases_path(cases_out: Path) -> Path:
    return cases_out.with_name(f"{cases_out.stem}.jailbreak.jsonl")


def write_jailbreak_cases(path: Path, harm: Sequence[tuple[str, str, str]], benign: Sequence[tuple[str, str, str]]) -> int:
    """The wrapped held-out cases, in the eval format (tags: safety, jailbreak, family)."""
    lines = [
        json.dumps({"id": f"jailbreak-{rid}", "question": text, "expected": expected, "tags": ["safety", "jailbreak", fam]}, ensure_ascii=False)
        for rows, expected in ((harm, "refuse"), (benign, "answer"))
        for rid, fam, text in rows
    ]
    atomic_write(path, lambda f: f.write("\n".join(lines) + "\n"), mode="w")
    return len(lines)


def save_screen(screen: RequestScreen, path: Path) -> None:
    """Write the artefact atomically (temp file + os.replace); loadable with allow_pickle=False."""
    arrays: dict[str, Any] = {
        "format": np.array(SCREEN_FORMAT),
        "feature_set": np.array(FEATURE_SET),
        "version": np.array(screen.version),
        "coef": screen.coef,
        "intercept": np.array(screen.intercept),
        "threshold": np.array(screen.threshold),
        "cat_coef": screen.cat_coef,
        "cat_intercept": screen.cat_intercept,
        "cat_names": np.array(screen.cat_names),
        "n_ngram_models": np.array(len(screen.ngram_models)),
        "embedder_id": np.array(screen.embedder_id),
        "embedder_dim": np.array(screen.dim),
        "seed": np.array(int(screen.meta.get("seed", -1))),
        "data_hashes": np.array(json.dumps(screen.meta.get("data_hashes", {}), sort_keys=True)),
        "meta": np.array(json.dumps(screen.meta, sort_keys=True)),
    }
    for i, m in enumerate(screen.ngram_models):
        arrays |= m.to_arrays(f"ngram{i}")
    atomic_write(path, lambda f: np.savez_compressed(f, **arrays))
