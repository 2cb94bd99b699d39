"""`guideground calibrate`: fit the abstention model on MedQuAD with gold documents present vs removed.

1. Build a MedQuAD corpus where a held-out slice of documents (and every document sharing their
   focus) is left out (app/eval/datasets.build_medquad).
2. Index it, run every question through the same retrieval and sentence scoring as the service,
   and record the evidence signals (app/query/abstain.FEATURES).
3. Split questions 50/50 (stratified, seeded) into fit and test. Fit a logistic regression on the
   fit half; choose the threshold on the fit half to maximize min(answer rate on answerable,
   abstain rate on unanswerable). Report both rates, AUROC and the risk–coverage curve on the test half.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.query.abstain import FEATURES, AbstainModel
from app.settings import Settings
from ingest.embed import Embedder, get_embedder


def _rates(p: np.ndarray, y: np.ndarray, t: float) -> tuple[float, float]:
    ans = p >= t
    answer_rate = float(ans[y == 1].mean()) if (y == 1).any() else 0.0
    abstain_rate = float((~ans[y == 0]).mean()) if (y == 0).any() else 0.0
    return answer_rate, abstain_rate


def choose_threshold(p: np.ndarray, y: np.ndarray) -> float:
    best_t, best = 0.5, -1.0
    for t in np.unique(np.concatenate([p, [0.5]])):
        a, b = _rates(p, y, float(t))
        score = min(a, b) + 1e-3 * (a + b)
        if score > best:
            best, best_t = score, float(t)
    return best_t


def risk_coverage(p: np.ndarray, correct: np.ndarray) -> tuple[list[tuple[float, float]], float]:
    """Points (coverage, risk) answering the most confident first, and the area under the curve."""
    order = np.argsort(-p, kind="stable")
    c = correct[order].astype(float)
    n = len(c)
    risks = 1.0 - np.cumsum(c) / np.arange(1, n + 1)
    cov = np.arange(1, n + 1) / n
    pts = [(round(float(cov[i]), 4), round(float(risks[i]), 4)) for i in range(0, n, max(1, n // 50))]
    return pts, float(risks.mean())


def build_medquad_split(
    shared_dir: Path, out_dir: Path, n_docs: int, n_heldout: int, seed: int
) -> tuple[Path, list[dict[str, Any]]]:
    """MedQuAD documents as Markdown (text = the document's QA answers) with a held-out slice.

    Held-out documents and every document sharing a held-out focus are not written, so their
    questions have no gold document in the index (expected "abstain").
    """
    import csv
    import re

    by_doc: dict[str, list[dict[str, Any]]] = {}
    with open(shared_dir / "medquad" / "medquad_qa.jsonl", encoding="utf-8") as fh:
        for line in fh:
            q = json.loads(line)
            if q.get("answer", "").strip():
                by_doc.setdefault(q["gold_doc_id"], []).append(q)
    docs = sorted(by_doc)
    rng = random.Random(seed)
    rng.shuffle(docs)
    focus = {d: by_doc[d][0]["focus"].strip().lower() for d in docs}
    held = docs[:n_heldout]
    held_focus = {focus[d] for d in held}
    kept = [d for d in docs[n_heldout:] if focus[d] not in held_focus][:n_docs]
    corpus = out_dir / "corpus"
    if corpus.exists():
        import shutil

        shutil.rmtree(corpus)
    corpus.mkdir(parents=True)
    with open(corpus / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["doc_id", "file", "title", "issuer", "published", "version", "url", "license"])
        for d in kept:
            qa = by_doc[d]
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", d) + ".md"
            # Answers only: the questions themselves are not in the text (they would make retrieval
            # trivially lexical and the calibration too optimistic for real guidelines).
            body = [f"# {qa[0]['focus']}"] + [q["answer"].strip() for q in qa]
            (corpus / name).write_text("\n\n".join(body) + "\n", encoding="utf-8")
            w.writerow([d, name, qa[0]["focus"], qa[0].get("subset", "MedQuAD"), "", "", qa[0].get("source_url", ""), "MedQuAD (CC BY 4.0)"])
    cases = [{"question": q["question"], "expected": "answer", "gold_doc_ids": [d]} for d in kept for q in by_doc[d]]
    cases += [{"question": q["question"], "expected": "abstain", "gold_doc_ids": []} for d in held for q in by_doc[d]]
    return corpus, cases


def calibrate(
    settings: Settings,
    work_dir: Path,
    out_path: Path,
    n_docs: int = 800,
    n_heldout: int = 250,
    max_questions: int = 1600,
    seed: int = 13,
    embedder: Embedder | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from app.query.service import IndexHolder, QueryService
    from ingest.pipeline import run_ingest

    t0 = time.perf_counter()
    embedder = embedder or get_embedder(settings.ingest.embedding)
    work_dir = Path(work_dir)
    corpus_dir, all_cases = build_medquad_split(Path(settings.data.shared_dir), work_dir / "medquad", n_docs, n_heldout, seed)
    index_dir = work_dir / "index"
    run_ingest([Path(corpus_dir)], index_dir, settings.ingest, embedder, progress=progress)
    plain = settings.model_copy(
        update={
            "abstain": settings.abstain.model_copy(update={"enabled": False}),
            "safety": settings.safety.model_copy(update={"enabled": False}),
        }
    )
    svc = QueryService(plain, embedder, IndexHolder(index_dir, 3600.0, (embedder.model_id, embedder.dim)))
    rng = random.Random(seed)
    pos = [c for c in all_cases if c["expected"] == "answer"]
    neg = [c for c in all_cases if c["expected"] == "abstain"]
    rng.shuffle(pos)
    rng.shuffle(neg)
    half = max_questions // 2
    cases = pos[:half] + neg[:half]
    X, y, correct, dump = [], [], [], []
    svc.cache.size = max(svc.cache.size, len(cases))
    for c, v in zip(cases, embedder.embed([c["question"] for c in cases]), strict=True):  # one batched encode
        svc.cache.put(c["question"], v)
    for i, c in enumerate(cases):
        sig, res, idx = svc.explain(c["question"])
        X.append(sig.vector())
        y.append(1 if c["expected"] == "answer" else 0)
        docs = [idx.chunks[cd.row].doc_id for cd in res.candidates[: settings.retrieval.top_k]]
        correct.append(1 if (c["expected"] == "answer" and set(c["gold_doc_ids"]) & set(docs)) else 0)
        dump.append({"question": c["question"], "expected": c["expected"], "gold_in_top": correct[-1], "signals": sig.as_dict()})
        if progress:
            progress("signals", i + 1, len(cases))
    # Every signal of every question, for studying new features without re-running retrieval.
    with open(work_dir / "signals.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(d) + "\n" for d in dump)
    Xa, ya, ca = np.array(X), np.array(y), np.array(correct)
    perm = np.random.default_rng(seed).permutation(len(ya))
    fit_idx, test_idx = [], []
    for cls in (0, 1):
        members = [i for i in perm if ya[i] == cls]
        fit_idx += members[: len(members) // 2]
        test_idx += members[len(members) // 2 :]
    fit, test = np.array(fit_idx), np.array(test_idx)
    mean = Xa[fit].mean(axis=0)
    scale = Xa[fit].std(axis=0) + 1e-9
    lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    lr.fit((Xa[fit] - mean) / scale, ya[fit])
    model = AbstainModel(mean.tolist(), scale.tolist(), lr.coef_[0].tolist(), float(lr.intercept_[0]), 0.5, {})
    p = np.array([1 / (1 + np.exp(-(lr.intercept_[0] + ((x - mean) / scale) @ lr.coef_[0]))) for x in Xa])
    model.threshold = choose_threshold(p[fit], ya[fit])
    ans_fit, abs_fit = _rates(p[fit], ya[fit], model.threshold)
    ans_test, abs_test = _rates(p[test], ya[test], model.threshold)
    # Risk–coverage on the test half: "correct" = answerable and a gold document retrieved.
    pts, aurc = risk_coverage(p[test], ca[test])
    report = {
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": f"guideground calibrate --docs {n_docs} --heldout {n_heldout} --max-questions {max_questions} --seed {seed}",
        "dataset": {
            "source": "MedQuAD (medquad_qa.jsonl); held-out documents and all documents sharing their focus removed from the index",
            "n_docs_indexed": n_docs,
            "n_docs_heldout": n_heldout,
            "n_questions": int(len(ya)),
            "n_answerable": int(ya.sum()),
            "n_unanswerable": int((ya == 0).sum()),
            "seed": seed,
        },
        "threshold_rule": "maximize min(answer rate on answerable, abstain rate on unanswerable) on the fit half",
        "fit": {"answer_rate_answerable": round(ans_fit, 4), "abstain_rate_unanswerable": round(abs_fit, 4), "n": int(len(fit))},
        "test": {
            "answer_rate_answerable": round(ans_test, 4),
            "abstain_rate_unanswerable": round(abs_test, 4),
            "auroc": round(float(roc_auc_score(ya[test], p[test])), 4),
            "n": int(len(test)),
            "aurc": round(aurc, 4),
            "risk_coverage": pts,
        },
        "feature_weights": dict(zip(FEATURES, [round(float(w), 4) for w in lr.coef_[0]], strict=True)),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    model.meta = {"report": report, "embedder": {"model_id": embedder.model_id, "dim": embedder.dim}}
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(model.to_json(), indent=2))
    return report
