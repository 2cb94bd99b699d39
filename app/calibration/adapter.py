"""Train the query adapter (app/query/adapter.py) on the clinician fit split: each answerable question → the chunks
of its gold document that hold its evidence span, against every other chunk of the index (a full softmax).

Settings were chosen once, by document-grouped 5-fold cross-validation on the fit split's dense recall@5 (stop 40,
docs/benchmarks.md): rank 32, no weight penalty, 100 full-batch Adam steps at lr 1e-3, temperature 0.05. The chunk
vectors are the index's own, so the index is not rebuilt; the report gives dense recall before and after on the fit
split (in sample) and on the test split (documents never trained on).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.calibration.collect import Example, collect
from app.calibration.fit import doc_folds
from app.eval.cases import EvalCase
from app.eval.citations import normalize_ws
from app.query.adapter import QueryAdapter
from app.query.service import QueryService
from app.settings import Settings
from ingest.embed import Embedder
from ingest.store import LoadedIndex, load_version


@dataclass(frozen=True)
class AdapterParams:
    rank: int = 32
    steps: int = 100
    lr: float = 1e-3
    temperature: float = 0.05
    seed: int = 0


def evidence_pairs(index: LoadedIndex, cases: Sequence[EvalCase]) -> list[tuple[str, list[int]]]:
    """(question, rows of the gold document's chunks holding the evidence) for each answerable case that has one."""
    texts = [normalize_ws(c.text) for c in index.chunks]
    by_doc: dict[str, list[int]] = {}
    for row, c in enumerate(index.chunks):
        by_doc.setdefault(c.doc_id, []).append(row)
    out = []
    for case in cases:
        if case.expected != "answer" or not case.gold_evidence:
            continue
        ev = normalize_ws(case.gold_evidence)
        rows = [r for d in case.gold_doc_ids for r in by_doc.get(d, []) if ev in texts[r]]
        if rows:
            out.append((case.question, rows))
    return out


def dense_recall(vectors: np.ndarray, q: np.ndarray, pairs: Sequence[tuple[str, list[int]]], ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """Share of questions with an evidence chunk among the top k by cosine (exact search)."""
    if not pairs:
        return {}
    top = np.argsort(-(q @ vectors.T), axis=1)[:, : max(ks)]
    return {f"recall@{k}": round(float(np.mean([bool(set(top[i, :k].tolist()) & set(p)) for i, (_, p) in enumerate(pairs)])), 4) for k in ks}


def train_adapter(
    index: LoadedIndex, embedder: Embedder, fit_cases: Sequence[EvalCase], test_cases: Sequence[EvalCase] = (),
    params: AdapterParams = AdapterParams(), report_on: bool = True,
) -> QueryAdapter:
    import torch

    pairs = evidence_pairs(index, fit_cases)
    if not pairs:
        raise ValueError("no answerable fit case has its evidence in the index: is it an index of ../shared/data/guidelines?")
    torch.manual_seed(params.seed)
    chunks = torch.tensor(np.asarray(index.vectors, dtype=np.float32))
    qv = embedder.embed([q for q, _ in pairs]).astype(np.float32)
    q = torch.tensor(qv)
    positive = torch.zeros(len(pairs), len(chunks), dtype=torch.bool)
    for i, (_, rows) in enumerate(pairs):
        positive[i, rows] = True
    dim = qv.shape[1]
    a = torch.nn.Parameter(torch.zeros(dim, params.rank))
    b = torch.nn.Parameter(torch.randn(params.rank, dim) * 0.01)
    opt = torch.optim.Adam([a, b], lr=params.lr)
    for _ in range(params.steps):
        moved = torch.nn.functional.normalize(q + (q @ a) @ b, dim=-1)
        logits = moved @ chunks.T / params.temperature
        loss = (torch.logsumexp(logits, 1) - torch.logsumexp(logits.masked_fill(~positive, -1e9), 1)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    adapter = QueryAdapter(a.detach().numpy().copy(), b.detach().numpy().copy(), embedder.model_id)
    report: dict[str, Any] = {"params": params.__dict__, "fit_pairs": len(pairs), "final_loss": round(float(loss.detach()), 4)}
    if not report_on:
        return QueryAdapter(adapter.a, adapter.b, adapter.model_id, report)
    vectors = np.asarray(index.vectors, dtype=np.float32)
    for name, cs in (("fit", fit_cases), ("test", test_cases)):
        ps = evidence_pairs(index, cs)
        if ps:
            plain = embedder.embed([x for x, _ in ps]).astype(np.float32)
            report[name] = {"pairs": len(ps), "plain": dense_recall(vectors, plain, ps),
                            "adapted": dense_recall(vectors, np.stack([adapter(v) for v in plain]), ps)}
    return QueryAdapter(adapter.a, adapter.b, adapter.model_id, report)


def cross_fitted_examples(
    index_dir: Path, settings: Settings, embedder: Embedder, fit_cases: Sequence[EvalCase], work: Path,
    service: Callable[[Settings, Path, Embedder], QueryService], k: int = 5, seed: int = 13, progress: Any = None,
) -> list[Example]:
    """The fit split's examples, each collected with an adapter trained on the other folds' documents: the gate must
    learn what retrieval gives a question the adapter never saw, not the near-perfect ranking of its own training set."""
    index = load_version(index_dir, expect_embedder=(embedder.model_id, embedder.dim))
    groups = [(c.gold_doc_ids or [c.id])[0] for c in fit_cases]
    by_case: dict[int, Example] = {}
    for i, held in enumerate(doc_folds(groups, k, seed)):
        held_set = set(held.tolist())
        ad = train_adapter(index, embedder, [c for j, c in enumerate(fit_cases) if j not in held_set], report_on=False)
        path = work / "adapters" / f"fold{i}.npz"
        ad.save(path)
        svc = service(with_adapter(settings, path), index_dir, embedder)
        for j, e in zip(held.tolist(), collect(svc, [fit_cases[j] for j in held.tolist()], "clinician", progress), strict=True):
            by_case[j] = e
    return [by_case[j] for j in range(len(fit_cases))]


def with_adapter(settings: Settings, path: Path | None) -> Settings:
    return settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"query_adapter": path})})
