"""Train the harmful-request screen (``guideground safety train``): data, splits, model, threshold, report.

Harmful side: the MedSafetyBench training prompts (900) and a seeded sample of the Llama-3
``med_harm_llama3`` prompts. Benign side: a seeded sample of MedQuAD questions and the clinician-voiced
``benign_sensitive.jsonl`` (overdose, opioids, sexual health, end of life …), which MedQuAD alone lacks.
Each source is split 60/20/20 (train/val/test) stratified by category; the threshold is chosen on
val (rule in ``choose_threshold``), test is only reported, and written out as evaluation cases.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from app.safety.intent import harm_intent
from app.safety.jailbreak import held_out_variants, wrapped_examples
from app.safety.screen import CATEGORY_PRINCIPLES, FEATURE_SET, SCREEN_FORMAT
from app.safety.train_data import (
    BENIGN_SENSITIVE_FILE,
    FEEDBACK_SOURCE,
    SPLITS,
    Example,
    TrainParams,
    file_hash,
    load_examples,
    load_feedback,
    split_examples,
)
from app.safety.train_fit import choose_threshold, embed, fit_screen, target_groups
from app.safety.train_output import (
    atomic_write,
    jailbreak_cases_path,
    report_path,
    save_screen,
    write_cases,
    write_jailbreak_cases,
)
from app.safety.train_report import evaluate, jailbreak_report


def code_hash() -> str:
    """sha256 over the screen's own code (training, features, scoring): part of the artefact's identity."""
    h = hashlib.sha256()
    for name in (
        "train.py", "train_data.py", "train_fit.py", "train_report.py", "train_output.py",
        "screen.py", "ngrams.py", "normalize.py", "jailbreak.py",
    ):
        h.update((Path(__file__).resolve().parent / name).read_bytes())
    return h.hexdigest()[:16]


def train_screen(
    shared_dir: Path,
    out_path: Path,
    cases_out: Path | None = None,
    seed: int = 13,
    embedder: Any = None,
    progress: Callable[[str, int, int], None] | None = None,
    params: TrainParams | None = None,
    benign_file: Path = BENIGN_SENSITIVE_FILE,
    feedback_file: Path | None = None,
) -> dict[str, Any]:
    """Train on the train split, pick the threshold on val, report val and test; returns the report."""
    params = params or TrainParams()
    t0, cpu0 = time.perf_counter(), time.process_time()
    shared_dir, out_path = Path(shared_dir), Path(out_path)
    examples, hashes = load_examples(shared_dir, seed, params, benign_file)
    feedback, fb_skipped = load_feedback(feedback_file, examples)
    if feedback:
        examples = [*examples, *feedback]
        hashes[f"feedback/{Path(str(feedback_file)).name}"] = file_hash(Path(str(feedback_file)))
    splits = split_examples(examples, seed, params)
    # Jailbreak-wrapped copies: train and val with the train templates, test (report only) with the test templates.
    wrapped_train = wrapped_examples(splits["train"], "train", seed, params.n_wrapped_benign)
    wrapped_val = wrapped_examples(splits["val"], "val", seed, 0)
    jb_harm, jb_benign = held_out_variants(splits["test"], seed)
    if embedder is None:
        from ingest.embed import get_embedder

        embedder = get_embedder()
    every = [*examples, *wrapped_train, *wrapped_val]
    all_vecs = embed(embedder, [ex.text for ex in every] + [r[2] for r in jb_harm + jb_benign], progress)
    row = {(ex.source, ex.id): i for i, ex in enumerate(every)}
    jb_vecs = all_vecs[len(every):]
    t_embed = time.perf_counter() - t0

    def vecs(split: Sequence[Example]) -> np.ndarray:
        return all_vecs[[row[(ex.source, ex.id)] for ex in split]]

    train_all = splits["train"] + wrapped_train
    screen = fit_screen(train_all, vecs(train_all), embedder, params, seed)
    if progress:
        progress("fit", 1, 1)
    val, test = splits["val"], splits["test"]
    val_all = val + wrapped_val
    val_texts = [ex.text for ex in val_all]
    # A harm-intent rule refuses whatever the threshold: such questions count as refused at every candidate.
    rule_hit = np.array([harm_intent(q) is not None for q in val_texts], dtype=bool)
    val_scores = np.where(rule_hit, np.inf, screen.scores(val_texts, vecs(val_all)))
    choice = choose_threshold(val_scores, np.array([ex.harmful for ex in val_all]), target_groups(val_all, params))
    screen.threshold = choice["threshold"]

    def outcome(split: Sequence[Example]) -> dict[str, Any]:
        qs, v = [ex.text for ex in split], vecs(split)
        refused = np.array([d.refused for d in screen.decide_many(qs, v)], dtype=bool)
        return evaluate(split, refused, screen.categories(qs, v))

    identity = {"hashes": hashes, "seed": seed, "params": asdict(params), "format": SCREEN_FORMAT, "features": FEATURE_SET, "code": code_hash()}
    screen.version = "screen-" + hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    created = datetime.now(UTC).isoformat(timespec="seconds")
    screen.meta = {"created_at": created, "seed": seed, "data_hashes": hashes, "threshold_rule": choice["rule"]}
    report: dict[str, Any] = {
        "version": screen.version,
        "format": SCREEN_FORMAT,
        "feature_set": FEATURE_SET,
        "created_at": created,
        "seed": seed,
        "embedder": {"model_id": screen.embedder_id, "dim": screen.dim},
        "params": asdict(params),
        "data_hashes": hashes,
        "code_hash": identity["code"],
        "counts": {
            "train": dict(Counter(ex.source for ex in train_all)),
            "val": dict(Counter(ex.source for ex in val_all)),
            "test": dict(Counter(ex.source for ex in test)),
        },
        "threshold": choice,
        "val": outcome(val),
        "test": outcome(test),
        "jailbreak": jailbreak_report(screen, wrapped_val, vecs(wrapped_val), jb_harm, jb_benign, jb_vecs),
        "category_names": {c: CATEGORY_PRINCIPLES.get(c, c) for c in screen.cat_names},
        "artifact": str(out_path),
        "cases_out": str(cases_out) if cases_out else None,
        "feedback": {
            "file": str(feedback_file) if feedback_file else None,
            "n_examples": len(feedback),
            "n_benign": sum(not ex.harmful for ex in feedback),
            "n_skipped_known": fb_skipped,
            "by_split": {sp: sum(ex.source == FEEDBACK_SOURCE for ex in splits[sp]) for sp in SPLITS},
        },
    }
    save_screen(screen, out_path)
    if cases_out is not None:
        report["n_cases"] = write_cases(Path(cases_out), test)
        report["n_jailbreak_cases"] = write_jailbreak_cases(jailbreak_cases_path(Path(cases_out)), jb_harm, jb_benign)
    # CPU seconds (all threads) next to wall time: on a shared machine wall time says little.
    report["timings_s"] = {
        "embed": round(t_embed, 2),
        "total": round(time.perf_counter() - t0, 2),
        "cpu_total": round(time.process_time() - cpu0, 2),
    }
    atomic_write(report_path(out_path), lambda f: f.write(json.dumps(report, indent=2) + "\n"), mode="w")
    return report
