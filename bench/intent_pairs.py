"""Experiment (stop 54): a second screen member fitted only on minimal pairs in a clinician's voice.

Each pair (``evalsets/screen_probes/pairs/``) is one legitimate and one harmful request by the same writer in the same
voice and on the same topic, so what the member can learn is the act asked for and its purpose. The dev set's fit
questions anchor the legitimate side. The member is fitted with the screen's own code (``fit_screen``: an embedding
model and hashed n-gram models); its threshold is chosen leave-one-writer-out over the fitted writers (the smallest
whose pooled held-out legitimate refusals are at most ``--max-frr``). The decision measured is the shipped screen OR
the member, on the held-out writer, every legitimate evaluation set, the stop 53 probes and (``--screen-cases``) the
held-out cases of a screen training run. Nothing here is served; docs/safety.md ("Stop 54") has the figures.

    python bench/intent_pairs.py --json var/intent_pairs.json [--max-frr 0.03] [--anchor 0.15]
        [--anchor-files evalsets/terse/fit.jsonl] [--screen-cases var/safety/test_cases.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from app.safety.screen import RequestScreen
from app.safety.train_data import CLINICIAN_FILE, Example, TrainParams, clinician_examples
from app.safety.train_fit import fit_screen
from app.settings import get_settings
from ingest.embed import get_embedder

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT / "evalsets" / "screen_probes" / "pairs"
EVALSETS = ["clinician/fit", "clinician/test", "blind/test", "blind2/test", "traps/fit", "unmentioned/fit", "terse/fit",
            "terse/test", "disagree/fit", "disagree/test", "screen_probes/benign", "screen_probes/harmful"]


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def pair_examples(path: str | Path) -> list[Example]:
    out = []
    for r in read_jsonl(path):
        out.append(Example(r["pair"] + "-h", r["harmful"], True, "relayed_harmful", r["harm_kind"]))
        out.append(Example(r["pair"] + "-b", r["benign"], False, "relayed_benign", r["relay"]))
    return out


class Vectors:
    """The real encoder's vectors, each text encoded once."""

    def __init__(self, embedder: Any) -> None:
        self.embedder, self.cache = embedder, {}  # type: ignore[var-annotated]

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.embedder.embed(missing), strict=True))
        return np.stack([self.cache[t] for t in texts]).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", nargs="+", default=[str(PAIRS / f"w{i}.jsonl") for i in (1, 2, 3)])
    ap.add_argument("--heldout", default=str(PAIRS / "w4.jsonl"))
    ap.add_argument("--checks", nargs="*", default=[str(ROOT / "evalsets" / f"{n}.jsonl") for n in EVALSETS])
    ap.add_argument("--screen-cases", nargs="*", default=[])
    ap.add_argument("--max-frr", type=float, default=0.03)
    ap.add_argument("--anchor", type=float, default=0.15, help="training weight of the legitimate clinician questions")
    ap.add_argument("--anchor-files", nargs="*", default=[], help="more legitimate clinician questions (fit splits only)")
    ap.add_argument("--json", required=True)
    a = ap.parse_args()

    settings = get_settings()
    embedder = get_embedder(settings.ingest.embedding)
    shipped = RequestScreen.load(settings.safety.screen_file, embedder_id=embedder.model_id, dim=embedder.dim)
    vecs = Vectors(embedder)
    params = TrainParams(source_weight=(("relayed_harmful", 0.5), ("relayed_benign", 0.5 - a.anchor), ("clinician_fit", a.anchor)))
    anchor = clinician_examples(CLINICIAN_FILE) + [e for f in a.anchor_files for e in clinician_examples(Path(f))]
    writers = {Path(p).stem: pair_examples(p) for p in a.pairs}

    def fit(examples: list[Example]) -> RequestScreen:
        return fit_screen(examples, vecs([e.text for e in examples]), embedder, params, 13)

    held = {True: [], False: []}  # type: ignore[var-annotated]
    for w in writers:  # leave one writer out
        member = fit([e for k, v in writers.items() if k != w for e in v] + anchor)
        scores = member.scores([e.text for e in writers[w]], vecs([e.text for e in writers[w]]))
        for e, sc in zip(writers[w], scores, strict=True):
            held[e.harmful].append(float(sc))
    legit, harm = np.array(held[False]), np.array(held[True])
    t = float(min(x for x in np.unique(np.concatenate([legit, harm])) if np.mean(legit >= x) <= a.max_frr))
    res: dict[str, Any] = {"threshold": t, "cv_frr": float(np.mean(legit >= t)), "cv_recall": float(np.mean(harm >= t)), "sets": {}}
    final = fit([e for v in writers.values() for e in v] + anchor)

    def count(name: str, texts: list[str]) -> None:
        v = vecs(texts)
        ship = np.array([d.refused for d in shipped.decide_many(texts, v)])
        both = ship | (final.scores(texts, v) >= t)
        res["sets"][name] = {"n": len(texts), "shipped": int(ship.sum()), "combined": int(both.sum()),
                             "new_refusals": [texts[i] for i in np.flatnonzero(both & ~ship)][:10]}

    heldout = pair_examples(a.heldout)
    count("heldout_legitimate", [e.text for e in heldout if not e.harmful])
    count("heldout_harmful", [e.text for e in heldout if e.harmful])
    for path in a.checks:
        count(str(Path(path).relative_to(ROOT) if Path(path).is_relative_to(ROOT) else path), [r["question"] for r in read_jsonl(path)])
    for path in a.screen_cases:  # a training run's held-out cases, by source (tags[1])
        by: dict[str, list[str]] = {}
        for r in read_jsonl(path):
            by.setdefault(r["tags"][1], []).append(r["question"])
        for src, texts in sorted(by.items()):
            count(f"screen_test:{src}", texts)
    print(f"threshold {t:.4f}: writers held out in turn refuse {res['cv_recall']:.3f} of harmful, {res['cv_frr']:.3f} of legitimate", file=sys.stderr)
    for k, v in res["sets"].items():
        print(f"{k}: shipped {v['shipped']} -> with the member {v['combined']} of {v['n']}", file=sys.stderr)
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(res, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
