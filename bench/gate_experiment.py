"""Offline experiment harness for the abstention gate: collect once, refit and read in seconds.

`guideground calibrate` collects what the gate sees for every labelled question (retrieval, the sentence
table, the per-document signals), fits, and writes the model. Trying a change to a feature or to the fit
that way costs a full collection per try. Here the collection is done once and pickled; `report` refits
the gate exactly as `guideground calibrate` does (app.calibration.fit.fit on the clinician fit split plus
MedQuAD's fit half) and reads it on every held-out set, optionally without some features::

    python bench/gate_experiment.py collect --index var/shared-idx          # ≈ 1 min once the MedQuAD index exists
    python bench/gate_experiment.py report                                  # the shipped model's figures
    python bench/gate_experiment.py report --drop log_q_terms               # a variant
    python bench/gate_experiment.py report --candidate unmet3               # a candidate signal (bench/gate_candidates.py)
    python bench/gate_experiment.py report --candidate tech4_absent --brief # the figures a rule reads, one line

Sets: the clinician dev set's fit and test splits (disagreements left out, as calibration does), the blind
set, the trap near misses (neither fitted on), MedQuAD's fit and held-out halves (seed 13, as calibrate).
After changing how a signal is computed, collect again (`--out` another file) and compare the reports. `collect`
also keeps each pool's sentence texts and terms, so a new signal can first be tried as a candidate
(bench/gate_candidates.py, `--candidate NAME`) before it is written into app/query/signals.py.

Read per held-out set: answered / near-miss / out-of-scope abstention at the fitted threshold (the issue's
figures; `guideground eval` gives the same numbers), AUROC answerable vs near miss, and near misses
abstained at fixed answer rates (app.calibration.thresholds.abstained_at_answered) — the separation,
whatever threshold the rule picks. Nothing here is used at serving time.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OUT = Path("var/gate/examples.pkl")
WORD = re.compile(r"[a-z]{4,}")
SIDE_SETS = ("blind=evalsets/blind/test.jsonl", "traps=evalsets/traps/fit.jsonl", "unmentioned=evalsets/unmentioned/fit.jsonl")


def aux_of(svc: Any, examples: list[Any]) -> dict[str, Any]:
    """What bench/gate_candidates.py reads about each example's pool: its texts and terms, the asked words' IDF."""
    from gate_candidates import Aux

    from app.query.asks import ask_part
    from app.query.signals import framing_terms
    from app.query.termcache import DOC_TERMS

    out: dict[str, Any] = {}
    for e in examples:
        _, idx, pool = svc.explain(e.question)
        bm = idx.bm25
        if len(pool) != len(e.X):
            raise SystemExit(f"{e.case_id}: the pool changed since it was collected")
        framing = framing_terms(bm)
        ask = {t: bm.idf(t) for t in set(bm.terms(ask_part(e.question))) if t not in framing}
        row_docs = tuple(idx.chunks[p.row].doc_id for p in pool)
        doc_has = {d: frozenset(t for t in ask if t in DOC_TERMS.get(idx, d)) for d in set(row_docs)}
        words = tuple((w, s) for w in dict.fromkeys(WORD.findall(ask_part(e.question).lower())) for s in bm.terms(w)[:1] if s not in framing)
        out[e.case_id] = Aux([p.text for p in pool], [frozenset(bm.terms(p.text)) for p in pool], ask, bm.max_idf, row_docs, doc_has, words)
    return out


def collect(index: Path, work: Path, clinician: Path, extra: list[str], out: Path) -> dict[str, int]:
    from app.calibration.collect import collect as collect_cases
    from app.calibration.run import medquad_examples, plain_service
    from app.eval.cases import load_cases
    from app.settings import get_settings
    from ingest.embed import get_embedder

    settings = get_settings()
    emb = get_embedder(settings.ingest.embedding)
    svc = plain_service(settings, index, emb)

    def cases(path: Path) -> list[Any]:
        return [c for c in load_cases(path)[0] if "disagreement" not in c.tags]

    sets: dict[str, Any] = {
        "fit": collect_cases(svc, cases(clinician / "fit.jsonl"), "clinician"),
        "test": collect_cases(svc, cases(clinician / "test.jsonl"), "clinician"),
    }
    for spec in extra:
        name, _, path = spec.partition("=")
        sets[name] = collect_cases(svc, cases(Path(path)), name)
    sets["medquad_fit"], sets["medquad_heldout"] = medquad_examples(settings, work, 800, 250, 1000, 13, emb, None)
    aux = aux_of(svc, [e for k, v in sets.items() if not k.startswith("medquad") for e in v])
    aux.update(aux_of(plain_service(settings, work / "medquad-index", emb), sets["medquad_fit"] + sets["medquad_heldout"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        pickle.dump({"sets": sets, "aux": aux}, fh)
    return {k: len(v) for k, v in sets.items()}


def read_set(model: Any, examples: list[Any], extra: Any = None) -> dict[str, Any]:
    """The issue's rates at the model's threshold, and its separation at fixed answer rates."""
    from sklearn.metrics import roc_auc_score

    from app.calibration.fit import gate_matrix
    from app.calibration.thresholds import abstained_at_answered
    from app.query.abstain import sigmoid

    p = np.array([sigmoid(z) for z in model.gate.logits(gate_matrix(examples, model.sentence, extra))])
    y = np.array([e.label for e in examples])
    near = np.array(["near_miss" in e.tags for e in examples])
    oos = np.array(["out_of_scope" in e.tags for e in examples])
    ans = p >= model.threshold
    out: dict[str, Any] = {"n": len(examples)}
    if (y == 1).any():
        out["answered"] = round(float(ans[y == 1].mean()), 3)
    if near.any():
        out["near_miss_abstained"] = round(float(1 - ans[near].mean()), 3)
    if oos.any():
        out["out_of_scope_abstained"] = round(float(1 - ans[oos].mean()), 3)
    if (y == 0).any() and not near.any():
        out["abstained"] = round(float(1 - ans[y == 0].mean()), 3)
    neg = near if near.any() else y == 0
    if (y == 1).any() and neg.any():
        sel = (y == 1) | neg
        out["auroc_answerable_vs_" + ("near_miss" if near.any() else "unanswerable")] = round(float(roc_auc_score(y[sel], p[sel])), 3)
        out["near_miss_abstained_at_answered" if near.any() else "abstained_at_answered"] = abstained_at_answered(p, y == 1, neg)
    return out


def report(
    examples_path: Path, drop: list[str], candidates: list[str] | None = None, fit_extra: list[str] | None = None,
    threshold_on_original: bool = False, fit_extra_weight: float = 1.0,
) -> dict[str, Any]:
    from gate_candidates import GATE_CANDIDATES, SENTENCE_CANDIDATES

    import app.calibration.fit as fit_mod
    import app.query.signals as signals_mod

    with open(examples_path, "rb") as fh:
        data = pickle.load(fh)
    if "sets" not in data:
        raise SystemExit(f"{examples_path} is from an older collect: collect again")
    sets, aux = data["sets"], data["aux"]
    candidates = candidates or []
    fit_extra = fit_extra or []
    if sorted(set(fit_extra) - set(sets)):
        raise SystemExit(f"not collected sets: {', '.join(sorted(set(fit_extra) - set(sets)))} (collect with --extra NAME=PATH)")
    unknown = sorted(set(drop) - set(fit_mod.GATE_FEATURES))
    if unknown:
        raise SystemExit(f"not gate features: {', '.join(unknown)} (see app/calibration/fit.py GATE_FEATURES)")
    unknown = sorted(set(candidates) - set(GATE_CANDIDATES) - set(SENTENCE_CANDIDATES))
    if unknown:
        raise SystemExit(f"not candidates: {', '.join(unknown)} (see bench/gate_candidates.py)")
    gate_c = [c for c in candidates if c in GATE_CANDIDATES]
    sent_c = [c for c in candidates if c in SENTENCE_CANDIDATES]
    for exs in sets.values():  # a sentence candidate is one more column of every sentence table
        for e in exs:
            if sent_c:
                cols = [SENTENCE_CANDIDATES[c](e, aux[e.case_id]) for c in sent_c]
                e.X = np.hstack([e.X, np.array(cols, dtype=np.float64).T.reshape(len(e.X), len(sent_c))])

    def extra(e: Any, order: np.ndarray) -> dict[str, float]:
        return {c: GATE_CANDIDATES[c](e, aux[e.case_id], order) for c in gate_c}

    saved, saved_sent = list(fit_mod.GATE_FEATURES), list(signals_mod.SENTENCE_FEATURES)
    # the one list gate_matrix and fit read (and the sentence scorer's, which summarize indexes by name)
    fit_mod.GATE_FEATURES[:] = [f for f in saved if f not in drop] + gate_c
    signals_mod.SENTENCE_FEATURES[:] = saved_sent + sent_c
    ext = extra if gate_c else None
    try:
        # the fit sets' sources are "clinician" and "medquad"; an --fit-extra set's is its collect name
        base, added = sets["fit"] + sets["medquad_fit"], [e for n in fit_extra for e in sets[n]]
        model, rep = fit_mod.fit(base + added, extra=ext,
                                 threshold_sources={"clinician", "medquad"} if threshold_on_original else None,
                                 weights=None if fit_extra_weight == 1.0 else [1.0] * len(base) + [fit_extra_weight] * len(added))
        out: dict[str, Any] = {
            "dropped": drop,
            "fit_extra": fit_extra,
            "candidates": candidates,
            "threshold": round(model.threshold, 4),
            "out_of_fold": rep["out_of_fold"],
            "out_of_fold_worst": min(v for k, v in rep["out_of_fold"].items()
                                     if not threshold_on_original or k.split(".")[0] in ("clinician", "medquad")),
            "threshold_on_original": threshold_on_original,
            "fit_extra_weight": fit_extra_weight,
            "out_of_fold_auroc": rep["out_of_fold_auroc"],
            "gate_weights": rep["gate_weights"],
            "sentence_weights": rep["sentence_weights"],
        }
        for name, exs in sets.items():
            if name not in ("fit", "medquad_fit", *fit_extra):
                out[name] = read_set(model, exs, ext)
        if "blind" in sets:
            out["test+blind"] = read_set(model, sets["test"] + sets["blind"], ext)
    finally:
        fit_mod.GATE_FEATURES[:] = saved
        signals_mod.SENTENCE_FEATURES[:] = saved_sent
    return out


def brief(rep: dict[str, Any]) -> str:
    """The figures the stop-33-35 rules read, as one line (a row of docs/benchmarks.md's candidate tables)."""
    oof = rep["out_of_fold"]
    parts = [
        "+".join(rep["candidates"] + [f"-{d}" for d in rep["dropped"]] + [f"fit+{n}" + (f"@{rep['fit_extra_weight']:g}" if rep.get("fit_extra_weight", 1.0) != 1.0 else "")
                                                                                   for n in rep.get("fit_extra", [])]
                 + (["threshold on clinician+medquad"] if rep.get("threshold_on_original") else [])) or "(shipped features)",
        f"worst OOF {rep['out_of_fold_worst']:.4f}",
        f"clinician OOF {oof.get('clinician.answer_rate', 0):.3f}/{oof.get('clinician.abstain_rate', 0):.4f}",
        f"clinician OOF AUROC {rep['out_of_fold_auroc'].get('clinician', 0):.4f}",
    ]
    for name in ("test", "blind", "terse_test"):
        if name in rep:
            parts.append(f"{name} {rep[name].get('answered', 0):.3f}/{rep[name].get('near_miss_abstained', 0):.3f}")
    if "test+blind" in rep:
        parts.append(f"test+blind AUROC {rep['test+blind'].get('auroc_answerable_vs_near_miss', 0):.3f}")
    if "terse_test" in rep:
        parts.append(f"terse_test out-of-scope {rep['terse_test'].get('out_of_scope_abstained', 0):.3f}")
    if "traps" in rep:
        parts.append(f"traps {rep['traps'].get('near_miss_abstained', 0):.3f}")
    if "unmentioned" in rep:  # since stop 41; earlier collections lack it
        parts.append(f"unmentioned {rep['unmentioned'].get('answered', 0):.3f}/{rep['unmentioned'].get('near_miss_abstained', 0):.3f}")
    m = rep.get("medquad_heldout", {})
    parts.append(f"MedQuAD held-out {m.get('answered', 0):.3f}/{m.get('abstained', 0):.3f}")
    return " | ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/gate_experiment.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect", help="run every labelled question through retrieval once and pickle what the gate sees")
    c.add_argument("--index", type=Path, required=True, help="an index of ../shared/data/guidelines")
    c.add_argument("--work", type=Path, default=Path("var/calibration"), help="where calibrate builds (or has built) the MedQuAD index")
    c.add_argument("--clinician", type=Path, default=Path("evalsets/clinician"))
    c.add_argument("--extra", action="append", default=None, metavar="NAME=PATH", help=f"held-out sets (default: {', '.join(SIDE_SETS)})")
    c.add_argument("--out", type=Path, default=OUT)
    r = sub.add_parser("report", help="refit the gate as calibrate does and read it on every held-out set")
    r.add_argument("--examples", type=Path, default=OUT)
    r.add_argument("--drop", action="append", default=[], metavar="FEATURE", help="fit without this gate feature (repeatable)")
    r.add_argument("--candidate", action="append", default=[], metavar="NAME",
                   help="fit with this candidate signal from bench/gate_candidates.py (repeatable)")
    r.add_argument("--fit-extra", action="append", default=[], metavar="NAME",
                   help="also fit on this collected set (an --extra of collect), as calibrate fits on the clinician fit split")
    r.add_argument("--threshold-on-original", action="store_true",
                   help="choose the threshold on the clinician and MedQuAD groups only (a --fit-extra set enters the weights)")
    r.add_argument("--fit-extra-weight", type=float, default=1.0, metavar="W",
                   help="each --fit-extra example's weight in the gate's fit (default 1; the sentence scorer is unweighted)")
    r.add_argument("--json", action="store_true", help="the whole report, gate weights included")
    r.add_argument("--brief", action="store_true", help="one line: the figures a decision rule reads (worst out-of-fold "
                   "rate, clinician AUROC, held-out answered / near-miss, traps, MedQuAD held-out)")
    a = ap.parse_args(argv)
    if a.cmd == "collect":
        info: dict[str, Any] = collect(a.index, a.work, a.clinician, list(SIDE_SETS) if a.extra is None else a.extra, a.out)
        print(json.dumps(info, indent=2))
        return 0
    rep = report(a.examples, a.drop, a.candidate, a.fit_extra, a.threshold_on_original, a.fit_extra_weight)
    if a.brief:
        print(brief(rep))
        return 0
    if not a.json:
        rep = {k: v for k, v in rep.items() if k not in ("gate_weights", "sentence_weights")}
    print(json.dumps(rep, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
