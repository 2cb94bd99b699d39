"""Harmful-request screen, run before retrieval on the question vector the service already has.

A logistic regression over the MiniLM question embedding (plus a few lexical cues, see ``features``),
averaged with logistic regressions over hashed word and character n-grams, scores how much a question
looks like a harmful medical request (MedSafetyBench) rather than a clinical or consumer-health
question; a threshold chosen on a validation split turns the score into a refusal, and a
multinomial model names the likely harm category. Training lives in
``app.safety.train`` (``guideground safety train``); this module only loads and applies the artefact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from app.errors import ConfigError
from app.safety.intent import SELF_HARM_MESSAGE, harm_intent
from app.safety.ngrams import NgramLR
from app.safety.normalize import deobfuscate, sentences

if TYPE_CHECKING:
    from collections.abc import Callable

SCREEN_FORMAT = "guideground-screen/3"
FEATURE_SET = "minilm+lex1;lr+hashed-tfidf-ngrams;deobfuscated;sentence-max"
TRAIN_HINT = "unset GUIDEGROUND_SAFETY__SCREEN_FILE to use the screen shipped with the package, or retrain: guideground safety train (make screen)"

REFUSAL_MESSAGE = (
    "This service cannot help with requests that could cause harm. If someone is in danger, contact "
    "emergency services or Poison Control (1-800-222-1222 in the US)."
)

# MedSafetyBench categories 1-9 follow the nine AMA Principles of Medical Ethics in order. The shared
# data README does not name them, so the returned label is "category_N"; these are for humans.
CATEGORY_PRINCIPLES: dict[str, str] = {
    "category_1": "I. competent care with compassion and respect for human dignity and rights",
    "category_2": "II. professionalism and honesty; report deficient, fraudulent or deceptive physicians",
    "category_3": "III. respect the law; seek change to requirements contrary to patients' interests",
    "category_4": "IV. respect the rights of patients and colleagues; safeguard confidences and privacy",
    "category_5": "V. study, apply and advance scientific knowledge; share information; consult",
    "category_6": "VI. freedom to choose whom to serve and the environment of care (except emergencies)",
    "category_7": "VII. contribute to the improvement of the community and public health",
    "category_8": "VIII. responsibility to the patient is paramount",
    "category_9": "IX. support access to medical care for all people",
}

# Cheap lexical cues that MiniLM's mean-pooled vector blurs: the *task framing* of a harmful request
# (write/create a ... that misleads; how can I ... without consent) rather than its clinical topic.
_LEXICAL: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(rx, re.IGNORECASE))
    for name, rx in [
        ("imperative_artifact", r"^\s*(please\s+)?(write|create|develop|design|draft|generate|compose|produce|make|build|give me|provide)\b"),
        ("deceive", r"\b(deceiv|mislead|lie\b|lying|falsif|fake|fabricat|forg(e|ing|ery)\b|manipulat|trick|cover[- ]?up|exaggerat|false (claim|information|data))"),
        ("no_consent", r"\bwithout\b[^.?!]{0,40}\b(consent|knowledge|permission|authori[sz]ation|telling|informing|disclos)"),
        ("evade", r"\b(avoid (getting )?(caught|detection)|get away with|undetect|bypass|circumvent|loophole|evade)\b"),
        ("exploit", r"\b(exploit|coerce|pressure|bribe|kickback|for (financial|personal) gain|profit from|discriminat)\w*"),
    ]
]


def lexical_features(question: str) -> np.ndarray:
    return np.array([1.0 if rx.search(question) else 0.0 for _, rx in _LEXICAL], dtype=np.float32)


def features(questions: Sequence[str], vecs: np.ndarray) -> np.ndarray:
    """Model input: the L2-normalized embedding followed by the lexical cues."""
    vecs = np.asarray(vecs, dtype=np.float32).reshape(len(questions), -1)
    lex = np.stack([lexical_features(q) for q in questions]) if questions else np.zeros((0, len(_LEXICAL)), np.float32)
    return np.hstack([vecs, lex]).astype(np.float32)


def same_model(a: str, b: str) -> bool:
    return a.rsplit("/", 1)[-1].lower() == b.rsplit("/", 1)[-1].lower()


class ScreenDecision(BaseModel):
    refused: bool
    reason: Literal["unsafe_request"] | None = None
    category: str | None = Field(None, description="Harm category when refused.")
    score: float = Field(0.0, description="Screen score in [0, 1]; refused when ≥ the trained threshold.")
    message: str | None = None


ALLOW = ScreenDecision(refused=False, score=0.0)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


class RequestScreen:
    """Applies a trained screen artefact. Immutable after load, so safe to share between threads.

    score = mean of the members' probabilities: a logistic regression over ``features`` (the MiniLM
    vector, which says what the question is about, plus lexical cues) and logistic regressions over
    hashed word and character n-grams (``app.safety.ngrams``, which read how it is worded).
    """

    def __init__(
        self,
        coef: np.ndarray,
        intercept: float,
        threshold: float,
        cat_coef: np.ndarray,
        cat_intercept: np.ndarray,
        cat_names: Sequence[str],
        embedder_id: str,
        dim: int,
        ngram_models: Sequence[NgramLR] = (),
        version: str = "untrained",
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.coef = np.asarray(coef, dtype=np.float32).ravel()
        self.intercept = float(intercept)
        self.threshold = float(threshold)
        self.cat_coef = np.asarray(cat_coef, dtype=np.float32)
        self.cat_intercept = np.asarray(cat_intercept, dtype=np.float32).ravel()
        self.cat_names = [str(c) for c in cat_names]
        self.embedder_id = embedder_id
        self.dim = int(dim)
        self.ngram_models = tuple(ngram_models)
        self.version = version
        self.meta = meta or {}
        n_feat = self.dim + len(_LEXICAL)
        if self.coef.shape != (n_feat,) or self.cat_coef.shape != (len(self.cat_names), n_feat):
            raise ConfigError(f"safety screen artefact does not fit {FEATURE_SET} with {self.dim}-d vectors", hint=TRAIN_HINT)

    @classmethod
    def load(cls, path: Path | str, embedder_id: str | None = None, dim: int | None = None) -> RequestScreen:
        """Load an artefact; with ``embedder_id``/``dim`` also check it matches the serving embedder."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"safety screen not found at {path}", hint=TRAIN_HINT)
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"safety screen at {path} is unreadable: {exc}", hint=TRAIN_HINT) from None
        fmt = str(data.get("format", ""))
        if fmt != SCREEN_FORMAT or str(data.get("feature_set", "")) != FEATURE_SET:
            raise ConfigError(f"safety screen at {path} has format '{fmt}', expected {SCREEN_FORMAT}", hint=TRAIN_HINT)
        try:
            screen = cls(
                coef=data["coef"],
                intercept=float(data["intercept"]),
                threshold=float(data["threshold"]),
                cat_coef=data["cat_coef"],
                cat_intercept=data["cat_intercept"],
                cat_names=list(data["cat_names"]),
                embedder_id=str(data["embedder_id"]),
                dim=int(data["embedder_dim"]),
                ngram_models=[NgramLR.from_arrays(f"ngram{i}", data) for i in range(int(data["n_ngram_models"]))],
                version=str(data["version"]),
                meta=json.loads(str(data["meta"])),
            )
        except KeyError as exc:
            raise ConfigError(f"safety screen at {path} lacks {exc}", hint=TRAIN_HINT) from None
        except ValueError as exc:
            raise ConfigError(f"safety screen at {path} is inconsistent: {exc}", hint=TRAIN_HINT) from None
        if embedder_id is not None and not same_model(embedder_id, screen.embedder_id):
            raise ConfigError(
                f"safety screen was trained on {screen.embedder_id}, the service embeds with {embedder_id}",
                hint=TRAIN_HINT,
            )
        if dim is not None and dim != screen.dim:
            raise ConfigError(f"safety screen expects {screen.dim}-d vectors, the embedder gives {dim}", hint=TRAIN_HINT)
        return screen

    def _vecs(self, questions: Sequence[str], vecs: np.ndarray) -> np.ndarray:
        vecs = np.asarray(vecs, dtype=np.float32)
        if vecs.ndim == 1:
            vecs = vecs[None, :]
        if vecs.shape != (len(questions), self.dim):
            raise ConfigError(
                f"screen got vectors of shape {vecs.shape}, expected ({len(questions)}, {self.dim})", hint=TRAIN_HINT
            )
        return vecs

    def scores(self, questions: Sequence[str], vecs: np.ndarray) -> np.ndarray:
        """Harmful-request score per question, from the vectors the service already computed.

        The whole-text score is the mean of the three members (embedding view over the given vector,
        word and character views over the de-obfuscated text). A question of several sentences, or
        one whose characters were obfuscated, also gets the wording views' mean over its most
        harmful-looking sentence, and keeps the higher of the two: a request hidden in padding or a
        story, or spelled so the embedding misreads it, is read where it is.
        """
        vecs = self._vecs(questions, vecs)
        norm = [deobfuscate(q) for q in questions]
        # float64 from here on: thresholds are compared exactly (NumPy would compare a float32 score in float32).
        members = [_sigmoid((features(norm, vecs) @ self.coef).astype(np.float64) + self.intercept)]
        if not self.ngram_models:
            return members[0]
        owner, pieces = self._pieces(questions, norm)
        # one pass of each wording view over the whole texts and their sentences (each row is scored on its own)
        probs = [m.proba(list(norm) + pieces) for m in self.ngram_models]
        members += [p[: len(norm)] for p in probs]
        whole = np.mean(members, axis=0)
        if not pieces:
            return whole
        per_piece = np.mean([p[len(norm) :] for p in probs], axis=0)
        by_sentence = np.zeros(len(questions), np.float64)
        np.maximum.at(by_sentence, np.asarray(owner), per_piece)
        return np.maximum(whole, by_sentence)

    @staticmethod
    def _pieces(questions: Sequence[str], norm: Sequence[str]) -> tuple[list[int], list[str]]:
        """The sentences of every question of several sentences, or whose characters were obfuscated, and whose they are."""
        owner: list[int] = []
        pieces: list[str] = []
        for i, (q, n) in enumerate(zip(questions, norm, strict=True)):
            sents = sentences(n)
            if len(sents) > 1 or n != q:
                owner += [i] * len(sents)
                pieces += sents
        return owner, pieces

    def categories(self, questions: Sequence[str], vecs: np.ndarray) -> list[str]:
        logits = features([deobfuscate(q) for q in questions], self._vecs(questions, vecs)) @ self.cat_coef.T + self.cat_intercept
        return [self.cat_names[i] for i in np.argmax(logits, axis=1)]

    def decide_many(self, questions: Sequence[str], vecs: np.ndarray) -> list[ScreenDecision]:
        """Decisions for a batch: a harm-intent rule or a model score >= threshold refuses."""
        vecs = self._vecs(questions, vecs)
        scores = self.scores(questions, vecs)
        rules = [harm_intent(q) for q in questions]
        refused = [i for i, (sc, rule) in enumerate(zip(scores, rules, strict=True)) if rule or sc >= self.threshold]
        cats = self.categories([questions[i] for i in refused], vecs[refused]) if refused else []
        out = [ScreenDecision(refused=False, score=float(sc)) for sc in scores]
        for i, cat in zip(refused, cats, strict=True):
            rule = rules[i]
            out[i] = ScreenDecision(
                refused=True,
                reason="unsafe_request",
                category=rule or cat,
                score=1.0 if rule else float(scores[i]),
                message=SELF_HARM_MESSAGE if rule == "self_harm" else REFUSAL_MESSAGE,
            )
        return out

    def decide(self, question: str, qvec: np.ndarray) -> ScreenDecision:
        """Screen one question with the vector the service already computed (no second encoder call)."""
        return self.decide_many([question], qvec)[0]


def train_screen(
    shared_dir: Path,
    out_path: Path,
    cases_out: Path | None = None,
    seed: int = 13,
    embedder: Any = None,
    progress: Callable[[str, int, int], None] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Train, choose the threshold on validation, write the artefact + report; see app.safety.train
    (``options``: params, benign_file, feedback_file)."""
    from app.safety.train import train_screen as _train

    return _train(shared_dir, out_path, cases_out=cases_out, seed=seed, embedder=embedder, progress=progress, **options)
