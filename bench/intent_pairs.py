"""Experiment (stops 54-55): a second screen member fitted only on minimal pairs in a clinician's voice.

Each pair (``evalsets/screen_probes/pairs/``) is one legitimate and one harmful request by the same writer in the same
voice and on the same topic, so what the member can learn is the act asked for and its purpose. The dev set's fit
questions anchor the legitimate side. The member is fitted with the screen's own code (``fit_screen``: an embedding
model and hashed n-gram models); its threshold is chosen leave-one-writer-out over the fitted writers (the smallest
whose pooled held-out legitimate refusals are at most ``--max-frr``; with ``--max-anchor-frr`` each fit also leaves out
a quarter of the anchors, whose refusals are bounded too, as ``guideground safety train-pairs`` does). The decision
measured is the shipped screen OR the member, on the held-out writer (``--heldout ''``: none; the pooled
leave-one-writer-out figures are then the held-out ones), every legitimate evaluation set, the stop 53 probes and
(``--screen-cases``) the held-out cases of a screen training run. The served member (opt-in) is trained by
``app.safety.pairs``; docs/safety.md ("Stop 54", "Stop 55") has the figures.

    python bench/intent_pairs.py --json var/intent_pairs.json [--max-frr 0.03] [--anchor 0.15] [--max-anchor-frr 0.0025]
        [--pairs w1 w2 ...] [--heldout w4|''] [--anchor-files evalsets/terse/fit.jsonl] [--screen-cases var/safety/test_cases.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from app.safety.pairs import Vectors, choose_member_threshold, pair_examples
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", nargs="+", default=[str(PAIRS / f"w{i}.jsonl") for i in (1, 2, 3)])
    ap.add_argument("--heldout", default=str(PAIRS / "w4.jsonl"), help="a writer kept out of the fit ('' for none)")
    ap.add_argument("--checks", nargs="*", default=[str(ROOT / "evalsets" / f"{n}.jsonl") for n in EVALSETS])
    ap.add_argument("--screen-cases", nargs="*", default=[])
    ap.add_argument("--max-frr", type=float, default=0.03)
    ap.add_argument("--anchor", type=float, default=0.15, help="training weight of the legitimate clinician questions")
    ap.add_argument("--anchor-files", nargs="*", default=[], help="more legitimate clinician questions (fit splits only)")
    ap.add_argument("--max-anchor-frr", type=float, default=None,
                    help="also hold a quarter of the anchor questions out of each fit and keep their refusals at most this")
    ap.add_argument("--json", required=True)
    a = ap.parse_args()

    settings = get_settings()
    embedder = get_embedder(settings.ingest.embedding)
    shipped = RequestScreen.load(settings.safety.screen_file, embedder_id=embedder.model_id, dim=embedder.dim)
    vecs = Vectors(embedder)
    params = TrainParams(source_weight=(("relayed_harmful", 0.5), ("relayed_benign", 0.5 - a.anchor), ("clinician_fit", a.anchor)))
    anchor = clinician_examples(CLINICIAN_FILE) + [e for f in a.anchor_files for e in clinician_examples(Path(f))]
    writers = {Path(p).stem: pair_examples(Path(p)) for p in a.pairs}

    def fit(examples: list[Example]) -> RequestScreen:
        return fit_screen(examples, vecs([e.text for e in examples]), embedder, params, 13)

    held = {True: [], False: []}  # type: ignore[var-annotated]
    ship_held = {True: [], False: []}  # type: ignore[var-annotated]
    folds = a.max_anchor_frr is not None
    anchor_held: list[float] = []
    for fold, w in enumerate(writers):  # leave one writer out (and, with --max-anchor-frr, a quarter of the anchors)
        texts = [e.text for e in writers[w]]
        kept = [e for i, e in enumerate(anchor) if not folds or i % len(writers) != fold]
        member = fit([e for k, v in writers.items() if k != w for e in v] + kept)
        if folds:
            out = [e.text for i, e in enumerate(anchor) if i % len(writers) == fold]
            anchor_held += [float(x) for x in member.scores(out, vecs(out))]
        scores = member.scores(texts, vecs(texts))
        for e, sc, d in zip(writers[w], scores, shipped.decide_many(texts, vecs(texts)), strict=True):
            held[e.harmful].append(float(sc))
            ship_held[e.harmful].append(d.refused)
    legit, harm = np.array(held[False]), np.array(held[True])
    held_anchor = np.array(anchor_held)
    t = choose_member_threshold(legit, held_anchor, a.max_frr, a.max_anchor_frr if folds else 1.0)
    s_legit, s_harm = np.array(ship_held[False]), np.array(ship_held[True])
    res: dict[str, Any] = {
        "threshold": t, "cv_frr": float(np.mean(legit >= t)), "cv_recall": float(np.mean(harm >= t)),
        # the decision served (shipped OR member), each writer scored by a member fitted without it
        "cv_anchor_frr": float(np.mean(held_anchor >= t)) if folds else None,
        "cv_shipped": {"frr": float(s_legit.mean()), "recall": float(s_harm.mean())},
        "cv_combined": {"frr": float(np.mean(s_legit | (legit >= t))), "recall": float(np.mean(s_harm | (harm >= t)))},
        "sets": {},
    }
    final = fit([e for v in writers.values() for e in v] + anchor)

    def count(name: str, texts: list[str]) -> None:
        v = vecs(texts)
        ship = np.array([d.refused for d in shipped.decide_many(texts, v)])
        both = ship | (final.scores(texts, v) >= t)
        res["sets"][name] = {"n": len(texts), "shipped": int(ship.sum()), "combined": int(both.sum()),
                             "new_refusals": [texts[i] for i in np.flatnonzero(both & ~ship)][:10]}

    if a.heldout:
        heldout = pair_examples(Path(a.heldout))
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
    print(f"  shipped alone {res['cv_shipped']}, shipped OR member {res['cv_combined']}", file=sys.stderr)
    for k, v in res["sets"].items():
        print(f"{k}: shipped {v['shipped']} -> with the member {v['combined']} of {v['n']}", file=sys.stderr)
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(res, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
