"""How often the sentence scorer ranks the evidence sentence first, out of fold on the clinician fit split.

The gate harness (bench/gate_experiment.py) reads answerability; this reads what the answer quotes: for every fit-split
answerable question whose pool holds its evidence, whether the best-scored sentence holds it, and whether one of the
best 3 does, from sentence scorers fitted on the other folds' documents (folds as app.calibration.fit.out_of_fold),
with and without candidate columns from bench/gate_candidates.py::

    python bench/gate_experiment.py collect --index var/shared-idx
    python bench/sentence_rank.py --candidate s_age_fit
"""

from __future__ import annotations

import argparse
import copy
import json
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def ranking(sets: dict[str, Any], aux: dict[str, Any], candidates: list[str]) -> dict[str, Any]:
    from gate_candidates import SENTENCE_CANDIDATES

    import app.query.signals as signals_mod
    from app.calibration.fit import document_folds, fit_sentence_model
    from app.query.signals import score_sentences

    train = copy.deepcopy(sets["fit"] + sets["medquad_fit"])
    for e in train:
        if candidates:
            cols = np.array([SENTENCE_CANDIDATES[c](e, aux[e.case_id]) for c in candidates], dtype=np.float64)
            e.X = np.hstack([e.X, cols.T.reshape(len(e.X), len(candidates))])
    saved = list(signals_mod.SENTENCE_FEATURES)
    signals_mod.SENTENCE_FEATURES[:] = saved + candidates
    try:
        first: dict[str, int] = {}
        top3 = 0
        for test in document_folds([e.group for e in train], 5, 13):
            sent = fit_sentence_model([train[i] for i in np.setdiff1d(np.arange(len(train)), test)])
            for i in test:
                e = train[i]
                keep = np.ones(len(e.X), dtype=bool) if e.read is None else e.read
                X, y = e.X[keep], e.y_sent[keep]
                if e.source != "clinician" or not len(X) or not y.any():
                    continue
                order = np.argsort(-score_sentences(X, sent), kind="stable")
                first[e.case_id] = int(y[order[0]])
                top3 += int(y[order[:3]].any())
        weights = dict(zip(signals_mod.SENTENCE_FEATURES, (round(w, 3) for w in fit_sentence_model(train).coef), strict=True))
    finally:
        signals_mod.SENTENCE_FEATURES[:] = saved
    return {"candidates": candidates, "n": len(first), "evidence_first": sum(first.values()), "evidence_in_top3": top3,
            "weights": {c: weights[c] for c in candidates}, "first": first}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/sentence_rank.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=Path, default=Path("var/gate/examples.pkl"))
    ap.add_argument("--candidate", action="append", default=[], metavar="NAME", help="a sentence candidate (repeatable)")
    a = ap.parse_args(argv)
    with open(a.examples, "rb") as fh:
        data = pickle.load(fh)
    base, cand = ranking(data["sets"], data["aux"], []), ranking(data["sets"], data["aux"], a.candidate)
    moved = sorted(k for k in base["first"] if base["first"][k] != cand["first"].get(k))
    out = {r["candidates"] and "+".join(r["candidates"]) or "shipped": {k: v for k, v in r.items() if k != "first"} for r in (base, cand)}
    out["moved"] = {k: f"{base['first'][k]} -> {cand['first'][k]}" for k in moved}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
