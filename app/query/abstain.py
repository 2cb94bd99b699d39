"""Abstention as data: evidence signals → a calibrated probability that the evidence answers.

Two small logistic regressions, both fitted offline by `guideground calibrate` (app/calibration/) and
stored with their report in app/query/calibration/abstain.json; nothing here is picked by hand:

- the **sentence scorer** rates each candidate sentence as the one holding the answer, from what the
  question asks for (app/query/asks.py), how much of its rare vocabulary the sentence covers, its
  similarity and its passage's rank (app/query/evidence.py);
- the **gate** turns question-level signals (the best sentences' scores, whether they hold the asked-for
  item, coverage, retriever agreement, the margin to the next guideline) into P(answerable).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.errors import ConfigError

FORMAT = 2


@dataclass
class Signals:
    """Question-level gate inputs by name (every computed signal is recorded, used or not)."""

    values: dict[str, float] = field(default_factory=dict)

    def vector(self, names: list[str]) -> list[float]:
        return [float(self.values.get(n, 0.0)) for n in names]

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in self.values.items()}


@dataclass
class LinearModel:
    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float

    def __post_init__(self) -> None:
        self._m = np.asarray(self.mean, dtype=np.float64)
        self._s = np.where(np.asarray(self.scale, dtype=np.float64) == 0, 1.0, np.asarray(self.scale, dtype=np.float64))
        self._w = np.asarray(self.coef, dtype=np.float64)

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Log-odds for each row of X (columns in ``features`` order)."""
        return ((np.asarray(X, dtype=np.float64) - self._m) / self._s) @ self._w + self.intercept

    def to_json(self) -> dict[str, Any]:
        return {"features": self.features, "mean": self.mean, "scale": self.scale, "coef": self.coef, "intercept": self.intercept}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LinearModel:
        return cls(list(d["features"]), list(d["mean"]), list(d["scale"]), list(d["coef"]), float(d["intercept"]))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))


@dataclass
class AbstainModel:
    gate: LinearModel
    threshold: float
    sentence: LinearModel | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """What the model decides with (weights, scaling, threshold), not when it was written: equal models, equal version."""
        body = {"threshold": self.threshold, "gate": self.gate.to_json(), "sentence": self.sentence.to_json() if self.sentence else None}
        return "calibration-" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]

    def probability(self, s: Signals) -> float:
        return sigmoid(float(self.gate.logits(np.array([s.vector(self.gate.features)]))[0]))

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
        if data.get("format") != FORMAT:
            raise ConfigError(
                f"calibration file {path} has format {data.get('format')}, expected {FORMAT}",
                hint="run `guideground calibrate` again",
            )
        sent = LinearModel.from_json(data["sentence_model"]) if data.get("sentence_model") else None
        return cls(LinearModel.from_json(data["gate_model"]), float(data["threshold"]), sent, data)

    def to_json(self) -> dict[str, Any]:
        return dict(
            self.meta,
            format=FORMAT,
            threshold=self.threshold,
            gate_model=self.gate.to_json(),
            sentence_model=self.sentence.to_json() if self.sentence else None,
        )
