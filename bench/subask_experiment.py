"""Experiment R-S (stop 42): every part of a compound question must pass the gate.

A clinician often asks two things at once: "Should I order transient elastography, and what liver stiffness in kPa
would point to cirrhosis?" When the guideline answers the first part and not the second, the gate reads the whole
question against passages that answer half of it, and may answer. Here such a question is also read as one variant
per part (the vignette's story + that part alone, through the whole pipeline), and its gate probability becomes the
least of the full question's and its parts'. Variants are never training rows: the gate is fitted exactly as shipped;
fit-split variants are read by the fold model that never saw their document, held-out ones by the final model, and
the threshold is chosen by the shipped rule on the combined out-of-fold probabilities::

    python bench/gate_experiment.py collect --index var/shared-idx      # the questions themselves (var/gate/examples.pkl)
    python bench/subask_experiment.py collect --index var/shared-idx    # their parts (var/gate/subasks.pkl)
    python bench/subask_experiment.py report

The rule it was judged by, and the result, are in docs/benchmarks.md ("Stop 42"). Nothing here is used at serving time.
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

from app.query.asks import ask_part  # noqa: E402

EXAMPLES = Path("var/gate/examples.pkl")
OUT = Path("var/gate/subasks.pkl")
# A second ask: "and/or/but" before a wh-word ("… begin and how often …?"), ", and" before an auxiliary ("…
# supplements, and should …?"; without the comma "… who remain negative and are not infected" is one ask), or a
# second sentence ending in '?'. Written before any figure was read (stop 42's rule); not tuned afterwards.
SPLIT = re.compile(
    r"(?:,\s*)?\b(?:and|or|but)\s+(?=(?:if so,?\s+)?(?:what|which|how|when|whether|at what|for how|by how)\b)"
    r"|,\s*(?:and|or|but)\s+(?=(?:if so,?\s+)?(?:should|is|are|does|do|can|would)\b)|(?<=\?)\s+(?=[A-Z])",
    re.I,
)


def parts(question: str) -> list[str]:
    """The asking part's separate asks (one, for a question that asks one thing)."""
    ask = ask_part(question)
    return [p.strip(" ,;") for p in SPLIT.split(ask) if p and len(p.split()) >= 3]


def variants(question: str) -> list[str]:
    """One question per part, each asking only that part: the story, then the other parts as statements (so that
    retrieval still reads the subject a later part refers to: "… what is its grade?"), then the part, ending in '?'
    (app.query.asks reads the ask from the first sentence ending in '?', and the asked kinds from the last)."""
    ps = parts(question)
    if len(ps) < 2:
        return []
    i = question.find(ask_part(question)[:20])
    story = question[:i].strip() if i > 0 else ""
    out = []
    for k, p in enumerate(ps):
        others = " ".join(_sentence(q, ".") for j, q in enumerate(ps) if j != k)
        out.append(" ".join(s for s in (story, others, _sentence(p, "?")) if s))
    return out


def _sentence(part: str, end: str) -> str:
    part = part.rstrip(" ?.")
    return part[0].upper() + part[1:] + end


def collect(index: Path, work: Path, examples: Path, out: Path) -> dict[str, int]:
    from app.calibration.collect import collect as collect_cases
    from app.calibration.run import plain_service
    from app.eval.cases import EvalCase
    from app.settings import get_settings
    from ingest.embed import get_embedder

    settings = get_settings()
    emb = get_embedder(settings.ingest.embedding)
    with open(examples, "rb") as fh:
        sets = pickle.load(fh)["sets"]
    services = {"guidelines": plain_service(settings, index, emb), "medquad": plain_service(settings, work / "medquad-index", emb)}
    found: dict[str, Any] = {}
    for name, exs in sets.items():
        svc = services["medquad" if name.startswith("medquad") else "guidelines"]
        cases = [
            EvalCase(id=f"{e.case_id}#{i}", question=v, expected="answer" if e.label else "abstain", gold_doc_ids=[e.group], tags=e.tags)
            for e in exs for i, v in enumerate(variants(e.question))
        ]
        found[name] = collect_cases(svc, cases, name) if cases else []
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        pickle.dump(found, fh)
    return {k: len(v) for k, v in found.items()}


def _combine(parents: list[Any], p: np.ndarray, var: dict[str, float]) -> np.ndarray:
    """min(p of the question, p of each of its parts)."""
    low: dict[str, float] = {}
    for vid, pv in var.items():
        pid = vid.rsplit("#", 1)[0]
        low[pid] = min(low.get(pid, 1.0), pv)
    return np.array([min(pi, low.get(e.case_id, 1.0)) for e, pi in zip(parents, p, strict=True)])


def _probs(gate: Any, sent: Any, exs: list[Any]) -> np.ndarray:
    from app.calibration.fit import gate_matrix
    from app.query.abstain import sigmoid

    return np.array([sigmoid(z) for z in gate.logits(gate_matrix(exs, sent))]) if exs else np.zeros(0)


def _read(exs: list[Any], p: np.ndarray, t: float) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    y = np.array([e.label for e in exs])
    near = np.array(["near_miss" in e.tags for e in exs])
    neg = near if near.any() else y == 0
    ans = p >= t
    out: dict[str, Any] = {"answered": round(float(ans[y == 1].mean()), 3) if (y == 1).any() else None}
    out["near_miss_abstained" if near.any() else "abstained"] = round(float(1 - ans[neg].mean()), 3) if neg.any() else None
    if (y == 1).any() and neg.any():
        sel = (y == 1) | neg
        out["auroc"] = round(float(roc_auc_score(y[sel], p[sel])), 4)
    return out


def report(examples: Path, subasks: Path, use_parts: bool) -> dict[str, Any]:
    from app.calibration.fit import (
        GATE_FEATURES,
        auroc_by_source,
        document_folds,
        fit_linear,
        fit_sentence_model,
        gate_matrix,
        rate_groups,
    )
    from app.calibration.thresholds import choose_threshold, group_rates

    with open(examples, "rb") as fh:
        sets = pickle.load(fh)["sets"]
    with open(subasks, "rb") as fh:
        var_sets = pickle.load(fh) if use_parts else {}
    train = sets["fit"] + sets["medquad_fit"]
    train_vars = var_sets.get("fit", []) + var_sets.get("medquad_fit", [])
    p, pv = np.zeros(len(train)), {}
    for test in document_folds([e.group for e in train], 5, 13):  # as app.calibration.fit.out_of_fold, plus the parts
        tr = [train[i] for i in np.setdiff1d(np.arange(len(train)), test)]
        sent = fit_sentence_model(tr)
        gate = fit_linear(gate_matrix(tr, sent), np.array([e.label for e in tr]), GATE_FEATURES)
        p[test] = _probs(gate, sent, [train[i] for i in test])
        ids = {train[i].case_id for i in test}
        vs = [v for v in train_vars if v.case_id.rsplit("#", 1)[0] in ids]
        pv.update(zip([v.case_id for v in vs], _probs(gate, sent, vs), strict=True))
    oof = _combine(train, p, pv)
    groups = rate_groups(train)
    t = choose_threshold(oof, [(m, pos) for _, m, pos in groups])
    sent = fit_sentence_model(train)
    gate = fit_linear(gate_matrix(train, sent), np.array([e.label for e in train]), GATE_FEATURES)
    rep: dict[str, Any] = {
        "parts": use_parts,
        "threshold": round(t, 4),
        "out_of_fold": {n: round(r, 4) for (n, _, _), r in zip(groups, group_rates(oof, [(m, pos) for _, m, pos in groups], t), strict=True)},
        "out_of_fold_auroc": auroc_by_source(train, oof),
        "compound": {k: len({v.case_id.rsplit("#", 1)[0] for v in vs}) for k, vs in var_sets.items()},
    }
    rep["out_of_fold_worst"] = min(rep["out_of_fold"].values())
    read: dict[str, tuple[list[Any], np.ndarray]] = {}
    for name, exs in sets.items():
        if name in ("fit", "medquad_fit"):
            continue
        vs = var_sets.get(name, [])
        read[name] = (exs, _combine(exs, _probs(gate, sent, exs), dict(zip([v.case_id for v in vs], _probs(gate, sent, vs), strict=True))))
        rep[name] = _read(exs, read[name][1], t)
    if "blind" in read:
        rep["test+blind"] = _read(read["test"][0] + read["blind"][0], np.concatenate([read["test"][1], read["blind"][1]]), t)
    return rep


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/subask_experiment.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect", help="run each part of every compound question through the pipeline once")
    c.add_argument("--index", type=Path, required=True, help="an index of ../shared/data/guidelines")
    c.add_argument("--work", type=Path, default=Path("var/calibration"), help="where calibrate built the MedQuAD index")
    c.add_argument("--examples", type=Path, default=EXAMPLES)
    c.add_argument("--out", type=Path, default=OUT)
    r = sub.add_parser("report", help="the shipped fit, read with and without the parts")
    r.add_argument("--examples", type=Path, default=EXAMPLES)
    r.add_argument("--subasks", type=Path, default=OUT)
    a = ap.parse_args(argv)
    if a.cmd == "collect":
        print(json.dumps(collect(a.index, a.work, a.examples, a.out), indent=2))
        return 0
    print(json.dumps({"baseline": report(a.examples, a.subasks, False), "parts": report(a.examples, a.subasks, True)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
