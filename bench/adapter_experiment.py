"""Query-adapter retrieval experiment (stop 40): does a learned low-rank map on the question's MiniLM vector bring
the chunk holding a clinician question's evidence into the dense top k? Dense search only, exact, over the shared
index's own chunk vectors (nothing is re-encoded but the questions)::

    python bench/adapter_experiment.py --index var/shared-idx            # CV grid on the fit split, then test and blind

Settings are chosen by document-grouped 5-fold cross-validation on the fit split (dense recall@5), then the chosen
setting is trained on the whole fit split and read once on the test split and the blind set. The service-side
wiring that was tried with it (calibrate training the adapter, cross-fitted gate examples) is commit a242e98, reverted
by the next commit: see docs/benchmarks.md, "Stop 40". Nothing here is used at serving time.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pairs_of(index: Any, path: Path) -> list[tuple[str, list[int], str]]:
    from app.eval.cases import load_cases
    from app.eval.citations import normalize_ws

    texts = [normalize_ws(c.text) for c in index.chunks]
    out = []
    for c in load_cases(path)[0]:
        if c.expected == "answer" and c.gold_evidence:
            ev = normalize_ws(c.gold_evidence)
            rows = [i for i, ch in enumerate(index.chunks) if ch.doc_id in c.gold_doc_ids and ev in texts[i]]
            if rows:
                out.append((c.question, rows, c.gold_doc_ids[0]))
    return out


def recall(C: Any, q: Any, data: list[tuple[str, list[int], str]], ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    top = np.argsort(-(q @ C.T).detach().numpy(), axis=1)[:, : max(ks)]
    return {f"@{k}": round(float(np.mean([bool(set(top[i, :k].tolist()) & set(p)) for i, (_, p, _) in enumerate(data)])), 3) for k in ks}


def train(C: Any, Q: Any, data: list[tuple[str, list[int], str]], rank: int, lam: float, steps: int, seed: int = 0) -> Any:
    import torch

    torch.manual_seed(seed)
    a = torch.nn.Parameter(torch.zeros(Q.shape[1], rank))
    b = torch.nn.Parameter(torch.randn(rank, Q.shape[1]) * 0.01)
    opt = torch.optim.Adam([a, b], lr=1e-3)
    pos = torch.zeros(len(data), len(C), dtype=torch.bool)
    for i, (_, p, _) in enumerate(data):
        pos[i, p] = True
    for _ in range(steps):
        s = torch.nn.functional.normalize(Q + (Q @ a) @ b, dim=-1) @ C.T / 0.05
        loss = (torch.logsumexp(s, 1) - torch.logsumexp(s.masked_fill(~pos, -1e9), 1)).mean() + lam * ((a @ b) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return lambda q: torch.nn.functional.normalize(q + (q @ a) @ b, dim=-1)


def main(argv: list[str] | None = None) -> int:
    import torch

    from ingest.embed import get_embedder
    from ingest.store import load_version

    ap = argparse.ArgumentParser(prog="python bench/adapter_experiment.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    a = ap.parse_args(argv)
    idx = load_version(a.index)
    C = torch.tensor(np.asarray(idx.vectors, dtype=np.float32))
    emb = get_embedder()
    sets = {n: pairs_of(idx, Path(p)) for n, p in
            (("fit", "evalsets/clinician/fit.jsonl"), ("test", "evalsets/clinician/test.jsonl"), ("blind", "evalsets/blind/test.jsonl"))}
    Q = {n: torch.tensor(emb.embed([q for q, _, _ in d]).astype(np.float32)) for n, d in sets.items()}
    fit = sets["fit"]
    docs = sorted({d for _, _, d in fit})
    fold = np.array([int(hashlib.sha1(d.encode()).hexdigest(), 16) % 5 for _, _, d in fit])
    out: dict[str, Any] = {"plain": {n: recall(C, Q[n], d) for n, d in sets.items()}, "cv": {}, "documents_fit": len(docs)}
    for rank, lam, steps in itertools.product([8, 32], [0.0, 0.1, 1.0], [100, 300]):
        hit = {"@1": 0.0, "@5": 0.0, "@10": 0.0}
        for k in range(5):
            tr = [d for d, f in zip(fit, fold, strict=True) if f != k]
            te = [d for d, f in zip(fit, fold, strict=True) if f == k]
            m = train(C, Q["fit"][torch.tensor(fold != k)], tr, rank, lam, steps)
            for key, v in recall(C, m(Q["fit"][torch.tensor(fold == k)]), te).items():
                hit[key] += v * len(te)
        out["cv"][f"rank={rank} lambda={lam} steps={steps}"] = {key: round(v / len(fit), 3) for key, v in hit.items()}
        print(json.dumps({f"rank={rank} lambda={lam} steps={steps}": out["cv"][f"rank={rank} lambda={lam} steps={steps}"]}), file=sys.stderr)
    best = max(out["cv"], key=lambda s: (out["cv"][s]["@5"], out["cv"][s]["@10"]))
    out["chosen"] = best
    p = dict(kv.split("=") for kv in best.split())
    m = train(C, Q["fit"], fit, int(p["rank"]), float(p["lambda"]), int(p["steps"]))
    out["adapted"] = {n: recall(C, m(Q[n]), d) for n, d in sets.items()}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
