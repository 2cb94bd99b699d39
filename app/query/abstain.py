"""Abstention as data: evidence signals → a calibrated probability that the evidence answers.

The model is a logistic regression over a handful of retrieval signals, fitted by
`guideground calibrate` on MedQuAD questions whose gold documents are present (answerable) or
removed from the index (unanswerable). Its coefficients and the chosen threshold live in a JSON
file next to the settings (app/query/calibration/abstain.json) together with the calibration
report; nothing here is picked by hand.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import ConfigError

# Signals that transfer across corpora. Raw BM25 scores and the share of out-of-vocabulary terms
# are recorded for explanation but not used: both depend on the corpus size and vocabulary (a
# 3-document index makes every question look out of vocabulary).
FEATURES = [
    "dense_top",  # cosine of the best passage (dense)
    "rrf_top",  # fused score of the best passage, scaled to [0, 1 + bm25_weight]
    "agreement",  # Jaccard overlap of the top-5 documents of the two retrievers
    "term_coverage",  # share of the question's terms found in the top passages
    "best_sentence",  # best sentence cosine among the quotable sentences
    "title_coverage",  # share of the question's terms found in the top passages' titles and headings
    "idf_coverage",  # IDF-weighted share of the question's terms found in the top passages (text + headings)
    "missing_idf",  # the rarest absent question term's IDF, over the largest possible IDF (0 = none absent)
]


# Recorded with every decision (and in calibration dumps) but not necessarily in the model.
EXTRA = ["oov_share", "bm25_top_norm"]


@dataclass
class Signals:
    dense_top: float
    rrf_top: float
    agreement: float
    term_coverage: float
    oov_share: float
    best_sentence: float
    bm25_top_norm: float
    title_coverage: float = 0.0
    idf_coverage: float = 0.0
    missing_idf: float = 0.0

    def vector(self) -> list[float]:
        return [float(getattr(self, f)) for f in FEATURES]

    def as_dict(self) -> dict[str, float]:
        names = [*dict.fromkeys([*FEATURES, *EXTRA])]
        return {f: round(float(getattr(self, f)), 4) for f in names}


@dataclass
class AbstainModel:
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    threshold: float
    meta: dict[str, Any]

    def probability(self, s: Signals) -> float:
        z = self.intercept
        for x, m, sc, w in zip(s.vector(), self.mean, self.scale, self.coef, strict=True):
            z += w * (x - m) / (sc or 1.0)
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def should_answer(self, s: Signals) -> tuple[bool, float]:
        p = self.probability(s)
        return p >= self.threshold, p

    @classmethod
    def load(cls, path: Path) -> AbstainModel:
        if not Path(path).is_file():
            raise ConfigError(
                f"abstention calibration file not found: {path}",
                hint="run `guideground calibrate` (or set GUIDEGROUND_ABSTAIN__ENABLED=false)",
            )
        data = json.loads(Path(path).read_text())
        if data.get("features") != FEATURES:
            raise ConfigError(
                f"calibration file {path} was fitted on features {data.get('features')}, expected {FEATURES}",
                hint="run `guideground calibrate` again",
            )
        m = data["model"]
        return cls(m["mean"], m["scale"], m["coef"], float(m["intercept"]), float(data["threshold"]), data)

    def to_json(self) -> dict[str, Any]:
        return dict(
            self.meta,
            features=FEATURES,
            threshold=self.threshold,
            model={"mean": self.mean, "scale": self.scale, "coef": self.coef, "intercept": self.intercept},
        )
