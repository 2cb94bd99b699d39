"""`guideground calibrate`: collect examples on the clinician fit split and MedQuAD, fit, report, write.

Corpora:
- clinician: evalsets/clinician/fit.jsonl over an index of ../shared/data/guidelines (answerable vs
  near-miss and out-of-scope questions; the test split's documents are never seen here);
- medquad: consumer questions whose gold documents are indexed vs removed (app/eval/datasets.build_medquad),
  split by document into a fit half and a held-out half that is only reported;
- feedback: confirmed wrong abstentions / answers exported by the curation queue (optional file).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from app.calibration.collect import Example, collect
from app.calibration.fit import evaluate, fit
from app.eval.cases import load_cases
from app.query.holder import IndexHolder
from app.query.service import QueryService
from app.settings import Settings
from ingest.embed import Embedder, get_embedder


def plain_service(settings: Settings, index_dir: Path, embedder: Embedder) -> QueryService:
    plain = settings.model_copy(
        update={
            "abstain": settings.abstain.model_copy(update={"enabled": False}),
            "safety": settings.safety.model_copy(update={"enabled": False}),
        }
    )
    svc = QueryService(plain, embedder, IndexHolder(index_dir, 3600.0, (embedder.model_id, embedder.dim)))
    svc.cache.size = max(svc.cache.size, 20000)
    return svc


def _ensure_index(corpus: Path, index_dir: Path, settings: Settings, embedder: Embedder, progress: Any) -> Path:
    from ingest.pipeline import run_ingest

    # Always through ingest, which is incremental: a no-op when nothing changed, a rebuild when the index was made by
    # an earlier parser, text or merge revision (a stale MedQuAD index would calibrate on what serving never sees).
    run_ingest([corpus], index_dir, settings.ingest, embedder, progress=progress)
    return index_dir


def medquad_examples(settings: Settings, work: Path, n_docs: int, n_heldout: int, max_q: int, seed: int, embedder: Embedder, progress: Any) -> tuple[list[Example], list[Example]]:
    from app.eval.datasets import build_medquad

    corpus, cases_path = build_medquad(work / "medquad", n_docs, n_heldout, seed, Path(settings.data.shared_dir))
    index = _ensure_index(corpus, work / "medquad-index", settings, embedder, progress)
    cases, _ = load_cases(cases_path)
    rng = random.Random(seed)
    pos = [c for c in cases if c.expected == "answer"]
    neg = [c for c in cases if c.expected == "abstain"]
    rng.shuffle(pos)
    rng.shuffle(neg)
    chosen = pos[: max_q // 2] + neg[: max_q // 2]
    ex = collect(plain_service(settings, index, embedder), chosen, "medquad", progress)
    for e in ex:  # unanswerable questions have no gold doc: group by their own id
        e.group = e.group if e.label else e.case_id
    groups = sorted({e.group for e in ex})
    random.Random(seed + 1).shuffle(groups)
    held = set(groups[: len(groups) // 2])
    return [e for e in ex if e.group not in held], [e for e in ex if e.group in held]


def calibrate(
    settings: Settings,
    work_dir: Path,
    out_path: Path,
    guideline_index: Path | None = None,
    clinician_dir: Path = Path("evalsets/clinician"),
    n_docs: int = 800,
    n_heldout: int = 250,
    max_questions: int = 1000,
    seed: int = 13,
    feedback_cases: Path | None = None,
    embedder: Embedder | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    embedder = embedder or get_embedder(settings.ingest.embedding)
    work = Path(work_dir)
    gl_index = guideline_index or _ensure_index(Path(settings.data.shared_dir) / "guidelines", work / "guidelines-index", settings, embedder, progress)
    gl_svc = plain_service(settings, gl_index, embedder)
    # Disagreements are answered with both positions (not a gate decision): not fitted on.
    fit_cases = [c for c in load_cases(clinician_dir / "fit.jsonl")[0] if "disagreement" not in c.tags]
    test_cases = [c for c in load_cases(clinician_dir / "test.jsonl")[0] if "disagreement" not in c.tags]
    clin_fit = collect(gl_svc, fit_cases, "clinician", progress)
    clin_test = collect(gl_svc, test_cases, "clinician", progress)
    extra: list[Example] = []
    if feedback_cases is not None and Path(feedback_cases).is_file():
        extra = collect(gl_svc, load_cases(feedback_cases)[0], "feedback", progress)
    mq_fit, mq_test = (
        medquad_examples(settings, work, n_docs, n_heldout, max_questions, seed, embedder, progress) if n_docs > 0 else ([], [])
    )
    model, report = fit(clin_fit + mq_fit + extra, seed)
    report.update(
        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        command=f"guideground calibrate --docs {n_docs} --heldout {n_heldout} --max-questions {max_questions} --seed {seed}",
        data={
            "clinician_fit": len(clin_fit), "clinician_test": len(clin_test), "medquad_fit": len(mq_fit),
            "medquad_heldout": len(mq_test), "feedback": len(extra),
        },
        clinician_test=evaluate(model, clin_test),
        medquad_heldout=evaluate(model, mq_test),
        seconds=round(time.perf_counter() - t0, 1),
    )
    model.meta = {"report": report, "embedder": {"model_id": embedder.model_id, "dim": embedder.dim}}
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(model.to_json(), indent=2))
    return report

