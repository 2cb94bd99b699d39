"""Abstention is calibrated on labelled data: a small end-to-end calibration run on MedQuAD."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.query.abstain import FEATURES, AbstainModel, Signals
from app.query.calibrate import choose_threshold, risk_coverage


def test_threshold_maximizes_the_worse_of_the_two_rates():
    p = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.6, 0.2, 0.1])
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    t = choose_threshold(p, y)
    # t=0.4 answers 4/4 positives and abstains on 3/4 negatives: min = 0.75, the best possible here
    assert t == pytest.approx(0.4)


def test_risk_coverage_by_hand():
    p = np.array([0.9, 0.8, 0.3, 0.1])
    correct = np.array([1, 0, 1, 0])
    pts, aurc = risk_coverage(p, correct)
    # risks at coverage 1/4..4/4: 0, 1/2, 1/3, 1/2 → mean 0.3333
    assert aurc == pytest.approx((0 + 0.5 + 1 / 3 + 0.5) / 4)
    assert pts[0] == (0.25, 0.0)


def test_model_roundtrip_and_probability(tmp_path):
    m = AbstainModel([0.0] * len(FEATURES), [1.0] * len(FEATURES), [1.0] + [0.0] * (len(FEATURES) - 1), 0.0, 0.5, {"report": {}})
    path = tmp_path / "a.json"
    path.write_text(json.dumps(m.to_json()))
    m2 = AbstainModel.load(path)
    s = Signals(2.0, 0, 0, 0, 0, 0, 0, 0)
    assert m2.probability(s) == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert m2.should_answer(s)[0] and not m2.should_answer(Signals(-2.0, 0, 0, 0, 0, 0, 0, 0))[0]


@pytest.mark.slow
def test_calibration_run_separates_answerable_from_removed(tmp_path, embedder, shared_dir):
    from app.query.calibrate import calibrate
    from app.settings import Settings

    settings = Settings(data={"shared_dir": shared_dir})
    out = tmp_path / "abstain.json"
    report = calibrate(settings, tmp_path / "work", out, n_docs=150, n_heldout=60, max_questions=300, seed=5, embedder=embedder)
    t = report["test"]
    assert t["auroc"] >= 0.9
    assert t["answer_rate_answerable"] >= 0.85 and t["abstain_rate_unanswerable"] >= 0.85
    model = AbstainModel.load(out)
    assert model.meta["report"]["dataset"]["n_docs_indexed"] == 150


def test_bm25_idf_weighs_rare_terms_and_unseen_terms_most():
    from ingest.bm25 import Bm25Index

    texts = ["aspirin dose for adults", "aspirin in children", "aspirin and bleeding", "warfarin monitoring"]
    b = Bm25Index.build(texts)
    def stem(w: str) -> str:
        return b._stem([w])[0] if b._stem else w

    common, rare, unseen = b.idf(stem("aspirin")), b.idf(stem("warfarin")), b.idf("zzzunseen")
    assert 0 < common < rare < unseen
    # Lucene BM25 IDF from the document frequency: ln(1 + (N - df + 0.5) / (df + 0.5))
    assert rare == pytest.approx(np.log(1 + (4 - 1 + 0.5) / 1.5))
    assert unseen == pytest.approx(np.log(1 + 4.5 / 0.5))
