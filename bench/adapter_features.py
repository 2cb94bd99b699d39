"""Stop 40, R2: the adapted question vector as a gate signal (retrieval unchanged). Writes var/gate/adfeat.pkl, which
bench/gate_candidates.py's ``ad_chunk_max`` / ``ad_sent_max`` read::

    python bench/gate_experiment.py collect --index var/shared-idx      # once (var/gate/examples.pkl)
    python bench/adapter_features.py                                     # ≈ 2 min
    python bench/gate_experiment.py report --brief --candidate ad_sent_max

Per case, the best cosine of the adapted question vector (bench/adapter_experiment.py's map: rank 32, no penalty,
100 steps) to a chunk and to a sentence of the pool the gate reads. Fit-split cases are read with an adapter trained
on the other four folds' documents (sha1 of the case's group, mod 5), every other set with the one trained on the
whole fit split. Nothing here is used at serving time.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    import torch
    from adapter_experiment import pairs_of, train

    from app.calibration.run import plain_service
    from app.settings import get_settings
    from ingest.embed import get_embedder

    with open("var/gate/examples.pkl", "rb") as fh:
        sets = pickle.load(fh)["sets"]
    s = get_settings()
    emb = get_embedder(s.ingest.embedding)
    gl = plain_service(s, Path("var/shared-idx"), emb)
    mq = plain_service(s, Path("var/calibration/medquad-index"), emb)
    idx = gl.holder.get()
    C = torch.tensor(np.asarray(idx.vectors, dtype=np.float32))
    fit = pairs_of(idx, Path("evalsets/clinician/fit.jsonl"))
    Qf = torch.tensor(emb.embed([q for q, _, _ in fit]).astype(np.float32))
    fold = np.array([int(hashlib.sha1(d.encode()).hexdigest(), 16) % 5 for _, _, d in fit])
    ads = {k: train(C, Qf[torch.tensor(fold != k)], [d for d, f in zip(fit, fold, strict=True) if f != k], 32, 0.0, 100) for k in range(5)}
    final = train(C, Qf, fit, 32, 0.0, 100)
    out: dict[str, tuple[float, float]] = {}
    for name, exs in sets.items():
        svc = mq if name.startswith("medquad") else gl
        for e in exs:
            ad = ads[int(hashlib.sha1(e.group.encode()).hexdigest(), 16) % 5] if name == "fit" else final
            _, ix, pool = svc.explain(e.question)
            qa = ad(torch.tensor(svc.embed_query(e.question)[None, :].astype(np.float32))).detach().numpy()[0]
            rows = sorted({p.row for p in pool})
            chunk = float(max(ix.vectors[rows] @ qa)) if rows else 0.0
            sent = max((float(ix.sentence_block(p.row)[p.sent_idx] @ qa) for p in pool), default=0.0)
            out[e.case_id] = (chunk, sent)
        print(name, len(exs), file=sys.stderr)
    with open("var/gate/adfeat.pkl", "wb") as fh:
        pickle.dump(out, fh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
