"""Train the paired-request member of the screen (``guideground safety train-pairs``; opt-in when serving).

The shipped screen (``app.safety.train``) learned harm from MedSafetyBench, whose prompts are unethical professional
*conduct* written as tasks. A clinician relaying a harmful request ("the daughter wants me to put a sleeping pill in
her father's coffee …") reads to it like a clinical question. The member learns from minimal pairs
(``evalsets/screen_probes/pairs/``): one legitimate and one harmful request by the same writer, in the same voice and on
the same topic, so what separates them is the act asked for and its purpose. The legitimate questions of the dev set's
fit splits anchor the legitimate side.

Threshold: every writer is scored by a member fitted without it (and without a quarter of the anchors); the threshold
is the smallest at which at most ``max_frr`` of those held-out legitimate pairs and at most ``max_anchor_frr`` of the
held-out anchors are refused. The served member is then fitted on everything. It refuses on its own score
(``app.safety.member``); nothing here runs at serving time.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.safety.screen import RequestScreen
from app.safety.train_data import Example, TrainParams, clinician_examples, file_hash
from app.safety.train_fit import fit_screen
from app.safety.train_output import atomic_write, report_path, save_screen
from app.shared_data import read_jsonl

EVALSETS = Path(__file__).resolve().parents[2] / "evalsets"
PAIR_FILES = tuple(EVALSETS / "screen_probes" / "pairs" / f"w{i}.jsonl" for i in (1, 2, 3, 4))
# legitimate clinician questions of the fit splits only (the test splits stay held out)
ANCHOR_FILES = tuple(EVALSETS / f"{n}/fit.jsonl" for n in ("clinician", "terse", "traps", "unmentioned", "disagree"))


def pair_examples(path: Path, limit: int | None = None) -> list[Example]:
    """A writer's pairs as examples: the harmful request (category: its kind of harm) and the legitimate one."""
    out = []
    for r in read_jsonl(path)[:limit]:
        out.append(Example(r["pair"] + "-h", r["harmful"], True, "relayed_harmful", r["harm_kind"]))
        out.append(Example(r["pair"] + "-b", r["benign"], False, "relayed_benign", r["relay"]))
    return out


class Vectors:
    """The encoder's vectors, each text encoded once."""

    def __init__(self, embedder: Any) -> None:
        self.embedder, self.cache = embedder, {}  # type: ignore[var-annotated]

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.embedder.embed(missing), strict=True))
        return np.stack([self.cache[t] for t in texts]).astype(np.float32) if texts else np.zeros((0, self.embedder.dim), np.float32)


def choose_member_threshold(legit: np.ndarray, anchor: np.ndarray, max_frr: float, max_anchor_frr: float) -> float:
    """The smallest score at which held-out legitimate pairs and held-out anchors are refused at most at their rates."""
    ok = [x for x in np.unique(np.concatenate([legit, anchor])) if np.mean(legit >= x) <= max_frr and np.mean(anchor >= x) <= max_anchor_frr]
    return float(min(ok)) if ok else 1.0 + 1e-9  # nothing meets both: the member refuses nothing


def train_pairs_member(
    out_path: Path,
    embedder: Any,
    pair_files: Sequence[Path] = PAIR_FILES,
    anchor_files: Sequence[Path] = ANCHOR_FILES,
    anchor_weight: float = 0.3,
    max_frr: float = 0.02,
    max_anchor_frr: float = 0.0025,
    seed: int = 13,
    limit: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Fit, choose the threshold leave-one-writer-out, write the artefact and its report; returns the report."""
    t0 = time.perf_counter()
    if len(pair_files) < 2:
        raise ValueError("the threshold is chosen leave-one-writer-out: give at least two writers' pair files")
    writers = {p.stem: pair_examples(p, limit) for p in pair_files}
    anchor = [e for f in anchor_files for e in clinician_examples(f)][: None if limit is None else 4 * limit]
    params = TrainParams(source_weight=(("relayed_harmful", 0.5), ("relayed_benign", 0.5 - anchor_weight), ("clinician_fit", anchor_weight)))
    vecs = Vectors(embedder)

    def fit(examples: list[Example]) -> RequestScreen:
        return fit_screen(examples, vecs([e.text for e in examples]), embedder, params, seed)

    held: dict[bool, list[float]] = {True: [], False: []}
    held_anchor: list[float] = []
    for fold, w in enumerate(writers):
        if progress:
            progress(f"leave out {w}", fold, len(writers) + 1)
        member = fit([e for k, v in writers.items() if k != w for e in v] + [e for i, e in enumerate(anchor) if i % len(writers) != fold])
        texts = [e.text for e in writers[w]]
        for e, sc in zip(writers[w], member.scores(texts, vecs(texts)), strict=True):
            held[e.harmful].append(float(sc))
        out = [e.text for i, e in enumerate(anchor) if i % len(writers) == fold]
        held_anchor += [float(x) for x in member.scores(out, vecs(out))]
    legit, harm, anchor_sc = np.array(held[False]), np.array(held[True]), np.array(held_anchor)
    threshold = choose_member_threshold(legit, anchor_sc, max_frr, max_anchor_frr)
    if progress:
        progress("fit on every writer", len(writers), len(writers) + 1)
    member = fit([e for v in writers.values() for e in v] + anchor)
    member.threshold = threshold
    hashes = {f"{p.parent.name}/{p.name}": file_hash(p) for p in [*pair_files, *anchor_files]}
    identity = {"hashes": hashes, "seed": seed, "anchor_weight": anchor_weight, "max_frr": max_frr, "max_anchor_frr": max_anchor_frr, "limit": limit}
    member.version = "pairs-" + hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    rule = f"smallest score with held-out legitimate pairs refused <= {max_frr} and held-out anchors <= {max_anchor_frr}"
    member.meta = {"created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "seed": seed, "data_hashes": hashes, "threshold_rule": rule}
    save_screen(member, out_path)
    report: dict[str, Any] = {
        "version": member.version,
        "artefact": out_path.name,
        "threshold": threshold,
        "threshold_rule": rule,
        "writers": {w: len(v) // 2 for w, v in writers.items()},
        "n_anchor": len(anchor),
        "leave_one_writer_out": {
            "harmful_refused": float(np.mean(harm >= threshold)),
            "legitimate_refused": float(np.mean(legit >= threshold)),
            "anchor_refused": float(np.mean(anchor_sc >= threshold)),
        },
        "data_hashes": hashes,
        "params": identity,
        "timings_s": {"total": round(time.perf_counter() - t0, 1)},
    }
    atomic_write(report_path(out_path), lambda f: f.write(json.dumps(report, indent=2) + "\n"), mode="w")
    return report
