"""The query adapter: a learned low-rank map applied to a question's vector before the dense search.

Clinicians' questions (a vignette, then the ask) and guideline prose sit apart in the encoder's space; the index's
chunk vectors stay as ingest wrote them and only the question's vector moves, ``q' = normalize(q + (q A) B)``.
Trained offline on the clinician dev set's fit split by ``guideground calibrate`` (app/calibration/adapter.py) and
shipped beside the gate's calibration. It changes which passages the dense retriever ranks first, nothing else: every
similarity the gate and the sentence scorer read is still the plain cosine to the question.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryAdapter:
    a: np.ndarray  # (dim, rank)
    b: np.ndarray  # (rank, dim)
    model_id: str
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.a.shape[0])

    @property
    def version(self) -> str:
        """A short content hash: what an answer's trace and the gate's calibration name."""
        h = hashlib.sha256(np.ascontiguousarray(self.a).tobytes() + np.ascontiguousarray(self.b).tobytes())
        return h.hexdigest()[:12]

    def __call__(self, q: np.ndarray) -> np.ndarray:
        v = q + (q @ self.a) @ self.b
        n = np.linalg.norm(v)
        return (v / n).astype(np.float32) if n > 0 else q

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            np.savez(fh, a=self.a.astype(np.float32), b=self.b.astype(np.float32),
                     meta=np.array(json.dumps({"model_id": self.model_id, "report": self.report})))

    @classmethod
    def load(cls, path: Path) -> QueryAdapter:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            return cls(z["a"].astype(np.float32), z["b"].astype(np.float32), meta["model_id"], meta.get("report", {}))


def load_adapter(path: Path | None, model_id: str, dim: int) -> QueryAdapter | None:
    """The adapter at ``path`` when it was trained for this encoder; ``None`` (plain vectors) when there is none or it
    was trained for another one (logged: retrieval then ranks as it did before adapters)."""
    if path is None or not str(path) or not Path(path).is_file():
        return None
    ad = QueryAdapter.load(Path(path))
    if ad.model_id != model_id or ad.dim != dim:
        log.warning("query adapter %s was trained for %s (%d dims), the encoder is %s (%d): not applied",
                    path, ad.model_id, ad.dim, model_id, dim)
        return None
    return ad
