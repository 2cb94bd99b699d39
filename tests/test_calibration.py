"""The gate and the sentence scorer are fitted on labelled data; thresholds and models round-trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.calibration.collect import holds_evidence
from app.calibration.thresholds import abstained_at_answered, binary_groups, choose_threshold
from app.eval.metrics import risk_coverage
from app.query.abstain import AbstainModel, LinearModel, Signals


def test_threshold_maximizes_the_worse_of_the_two_rates():
    p = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.6, 0.2, 0.1])
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    t = choose_threshold(p, binary_groups(y))
    # min(answer rate, abstain rate) = 0.75 is the best possible here (at 0.35 or at 0.65); ties take the
    # higher threshold, the side that abstains
    ans = p >= t
    assert min(ans[y == 1].mean(), (~ans[y == 0]).mean()) == 0.75
    assert 0.6 < t <= 0.7


def test_threshold_serves_the_worst_group_of_several():
    p = np.array([0.9, 0.2, 0.6, 0.5])
    groups = [(np.array([1, 0, 0, 0], bool), True), (np.array([0, 1, 0, 0], bool), False),
              (np.array([0, 0, 1, 0], bool), True), (np.array([0, 0, 0, 1], bool), False)]
    t = choose_threshold(p, groups)
    assert 0.5 < t <= 0.6  # every group satisfied


def test_abstention_at_fixed_answer_rates_by_hand():
    # ten answerable questions scored 0.1 … 1.0, four near misses, one unrelated unanswerable
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.15, 0.55, 0.65, 0.95, 0.99])
    answerable = np.array([True] * 10 + [False] * 5)
    near = np.array([False] * 10 + [True] * 4 + [False])
    # answering 0.8 of the answerable puts the threshold at 0.28 (the 20th percentile): near misses under it: 0.15 only
    # answering 0.5 puts it at 0.55 (the median): 0.15 is abstained on, 0.55 (= t) is answered
    assert abstained_at_answered(p, answerable, near, (0.8, 0.5)) == {"0.800": 0.25, "0.500": 0.25}
    # answering 0.4: threshold 0.64, near misses 0.15 and 0.55 under it
    assert abstained_at_answered(p, answerable, near, (0.4,)) == {"0.400": 0.5}
    assert abstained_at_answered(p, answerable, np.zeros(15, bool)) == {}


def test_risk_coverage_by_hand():
    pts, aurc = risk_coverage([0.9, 0.8, 0.3, 0.1], [True, False, True, False])
    assert aurc == pytest.approx((0 + 0.5 + 1 / 3 + 0.5) / 4)
    assert pts[0] == (0.25, 0.0)


def test_model_roundtrip_and_probability(tmp_path):
    gate = LinearModel(["a", "b"], [0.0, 0.0], [1.0, 1.0], [1.0, 0.0], 0.0)
    sent = LinearModel(["x"], [0.0], [2.0], [4.0], -1.0)
    m = AbstainModel(gate, 0.5, sent, {"report": {}})
    path = tmp_path / "a.json"
    path.write_text(json.dumps(m.to_json()))
    m2 = AbstainModel.load(path)
    assert m2.probability(Signals({"a": 2.0})) == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert m2.should_answer(Signals({"a": 2.0}))[0] and not m2.should_answer(Signals({"a": -2.0}))[0]
    assert m2.sentence is not None and m2.sentence.logits(np.array([[1.0]]))[0] == pytest.approx(4.0 * 0.5 - 1.0)
    # the version names what decides (weights, threshold), not when the file was written
    assert m2.version == m.version and m.version.startswith("calibration-")
    assert AbstainModel(gate, 0.5, sent, {"report": {"created_at": "another day"}}).version == m.version
    assert AbstainModel(gate, 0.6, sent).version != m.version
    assert AbstainModel(gate, 0.5, LinearModel(["x"], [0.0], [2.0], [4.5], -1.0)).version != m.version


def test_an_old_format_file_is_refused_with_a_hint(tmp_path):
    from app.errors import ConfigError

    path = tmp_path / "old.json"
    path.write_text(json.dumps({"features": ["dense_top"], "threshold": 0.5, "model": {}}))
    with pytest.raises(ConfigError) as e:
        AbstainModel.load(path)
    assert "calibrate" in (e.value.hint or "")


@pytest.mark.parametrize("change", ["extra_column", "reordered"])
def test_a_calibration_from_code_with_other_sentence_columns_is_refused_at_start(tmp_path, change):
    """The sentence scorer reads the table by position: a file written by code with another column (stop 42's
    `age_fit`) must not reach a request, where it failed every one with a numpy shape error."""
    from app.errors import ConfigError
    from app.query.gate import Gate
    from app.settings import Settings

    settings = Settings()
    data = json.loads(settings.abstain.calibration_file.read_text())
    Gate(settings, AbstainModel.load(settings.abstain.calibration_file))  # the shipped file matches this code
    sm = data["sentence_model"]
    if change == "extra_column":
        for key, value in (("features", "age_fit"), ("mean", 0.0), ("scale", 1.0), ("coef", 0.2)):
            sm[key] = sm[key] + [value]
    else:
        for key in ("features", "mean", "scale", "coef"):
            sm[key][0], sm[key][1] = sm[key][1], sm[key][0]
    path = tmp_path / "abstain.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as e:
        Gate(settings, AbstainModel.load(path))
    assert ("age_fit" in str(e.value)) == (change == "extra_column")
    assert "calibrate" in (e.value.hint or "")


def test_sentence_label_is_the_gold_evidence():
    ev = "The USPSTF recommends the use of low-dose aspirin (81 mg/d) as preventive medication after 12 weeks of gestation."
    assert holds_evidence(ev, ev)
    assert holds_evidence("The USPSTF recommends the use of low-dose aspirin (81 mg/d) as preventive medication", ev)
    assert not holds_evidence("Preeclampsia is one of the most serious health problems that affect pregnant women.", ev)


def test_shipped_calibration_loads_and_has_a_report():
    from app.settings import Settings

    m = AbstainModel.load(Settings().abstain.calibration_file)
    rep = m.meta["report"]
    assert m.sentence is not None and 0.0 < m.threshold < 1.0
    assert rep["data"]["clinician_fit"] >= 200
    assert set(rep["out_of_fold"]) >= {"clinician.answer_rate", "clinician.abstain_rate"}


def test_bm25_idf_weighs_rare_terms_and_unseen_terms_most():
    from ingest.bm25 import Bm25Index

    texts = ["aspirin dose for adults", "aspirin in children", "aspirin and bleeding", "warfarin monitoring"]
    b = Bm25Index.build(texts)
    common, rare, unseen = b.idf(b.terms("aspirin")[0]), b.idf(b.terms("warfarin")[0]), b.idf("zzzunseen")
    assert 0 < common < rare < unseen
    # Lucene BM25 IDF from the document frequency: ln(1 + (N - df + 0.5) / (df + 0.5))
    assert rare == pytest.approx(np.log(1 + (4 - 1 + 0.5) / 1.5))
    assert unseen == pytest.approx(np.log(1 + 4.5 / 0.5))


def test_gate_matrix_gives_a_candidate_signal_the_read_rows_best_first(monkeypatch):
    """bench/gate_experiment.py tries candidate signals through ``extra``: it sees the rows of the sentence table
    the gate reads (not the graded statements), best-scored first, and its values are read by name."""
    import app.calibration.fit as fit
    from app.calibration.collect import Example
    from app.query.signals import SENTENCE_FEATURES

    X = np.zeros((3, len(SENTENCE_FEATURES)))
    X[:, SENTENCE_FEATURES.index("sim")] = [0.2, 0.9, 0.5]  # no sentence model: similarity orders them
    e = Example("q1", "What dose?", 1, "clinician", "d", X, ["d", "d", "d"], np.zeros(3, dtype=np.int64), {},
                read=np.array([True, False, True]))
    seen: list[list[int]] = []

    def extra(ex, order):
        seen.append(order.tolist())
        return {"candidate": 10.0 + order[0]}

    monkeypatch.setattr(fit, "GATE_FEATURES", ["candidate", "best_sim"])
    assert fit.gate_matrix([e], None, extra).tolist() == [[12.0, 0.5]]
    assert seen == [[2, 0]]  # row 1 (0.9) is a graded statement the gate does not read
    assert fit.gate_matrix([e], None).tolist() == [[0.0, 0.5]]  # serving passes none


def test_candidate_signals_read_the_pool_they_are_given(monkeypatch):
    """bench/gate_candidates.py: each candidate reads the sentences it is handed, best first (a harness that
    could not tell a sentence with the asked value from one without would report nothing)."""
    import importlib.util
    import sys
    from pathlib import Path

    from app.calibration.collect import Example

    path = Path(__file__).resolve().parents[1] / "bench" / "gate_candidates.py"
    spec = importlib.util.spec_from_file_location("gate_candidates", path)
    assert spec is not None and spec.loader is not None
    gc = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "gate_candidates", gc)  # its dataclass looks its module up
    spec.loader.exec_module(gc)
    texts = ["Evidence on the interval is insufficient.", "Screen adults every 3 years.", "Screening reduces mortality."]
    aux = gc.Aux(texts, [frozenset(t.lower().rstrip(".").split()) for t in texts], {"interval": 3.0, "rescreen": 6.0}, 8.0)
    e = Example("q", "How often should adults be screened?", 0, "clinician", "d", np.zeros((3, 1)), ["d"] * 3, np.zeros(3, dtype=np.int64), {})
    g = gc.GATE_CANDIDATES
    assert g["unmet1"](e, aux, np.array([0, 1, 2])) == 1.0 and g["unmet1"](e, aux, np.array([1, 0, 2])) == 0.0
    assert g["unmet3"](e, aux, np.array([0, 1, 2])) == 0.0  # the value is among the best three
    assert g["dec1"](e, aux, np.array([0, 1, 2])) == 1.0 and g["dec1"](e, aux, np.array([2, 1, 0])) == 0.0
    assert g["rare_miss3"](e, aux, np.array([0, 1, 2])) == 1.0  # "rescreen" is in none of them
    assert g["sub_miss1"](e, aux, np.array([1, 0, 2])) == 6.0 / 8.0
    assert gc.SENTENCE_CANDIDATES["s_full"](e, aux) == [0.0, 1.0, 0.0]


def test_stop35_candidates_read_the_best_document_and_sentences(monkeypatch):
    """bench/gate_candidates.py, stop 35: a technical asked word (4+ WordPieces of the packaged vocabulary) the best
    document lacks; the asked action absent from the best sentences; the asking part's length."""
    import importlib.util
    import sys
    from pathlib import Path

    from app.calibration.collect import Example

    path = Path(__file__).resolve().parents[1] / "bench" / "gate_candidates.py"
    spec = importlib.util.spec_from_file_location("gate_candidates", path)
    assert spec is not None and spec.loader is not None
    gc = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "gate_candidates", gc)
    spec.loader.exec_module(gc)
    assert gc.wordpieces("anastrozole") >= 4 and gc.wordpieces("labetalol") >= 4
    assert gc.wordpieces("toddler") < 4 and gc.wordpieces("hypertension") < 4
    texts = ["Tamoxifen 20 mg daily for 5 years.", "Discontinue aspirin at delivery.", "Raloxifene 60 mg daily."]
    aux = gc.Aux(texts, [frozenset(t.lower().rstrip(".").split()) for t in texts], {"anastrozol": 7.0, "dose": 2.0}, 8.0,
                 ("tam", "asp", "ral"), {"tam": frozenset({"dose"}), "asp": frozenset({"dose", "anastrozol"}), "ral": frozenset()},
                 (("anastrozole", "anastrozol"), ("dose", "dose")))
    e = Example("q", "What daily dose of anastrozole should be given?", 0, "clinician", "d", np.zeros((3, 1)), ["d"] * 3,
                np.zeros(3, dtype=np.int64), {})
    g = gc.GATE_CANDIDATES
    assert g["tech4_absent"](e, aux, np.array([0, 1, 2])) == 1.0  # the best document never names anastrozole
    assert g["tech4_absent"](e, aux, np.array([1, 0, 2])) == 0.0  # this one does
    assert g["log_ask_terms"](e, aux, np.array([0, 1, 2])) == pytest.approx(np.log1p(2))
    stop = Example("q2", "At what gestational week should aspirin be stopped?", 0, "clinician", "d", np.zeros((3, 1)),
                   ["d"] * 3, np.zeros(3, dtype=np.int64), {})
    assert g["action_absent_top1"](stop, aux, np.array([0, 1, 2])) == 1.0  # "Tamoxifen 20 mg …" names no stopping
    assert g["action_absent_top1"](stop, aux, np.array([1, 0, 2])) == 0.0  # "Discontinue" is stopping
    assert g["action_absent_top3"](stop, aux, np.array([0, 2, 1])) == 0.0


def test_threshold_can_be_chosen_on_some_sources_while_all_of_them_fit_the_weights(monkeypatch):
    """bench/gate_experiment.py --threshold-on-original: an extra set (terse rewrites) enters the weights, and the
    threshold serves the worst rate of the named sources only."""
    import app.calibration.fit as fit
    from app.calibration.collect import Example

    p = np.array([0.9, 0.2, 0.6, 0.5, 0.3, 0.1])
    src = ["a", "a", "a", "a", "terse", "terse"]
    lab = [1, 0, 1, 0, 1, 0]
    exs = [Example(f"q{i}", "q", y, s, f"d{i}", np.zeros((1, 1)), ["d"], np.zeros(1, dtype=np.int64), {}) for i, (s, y) in enumerate(zip(src, lab, strict=True))]
    monkeypatch.setattr(fit, "out_of_fold", lambda examples, seed=13, extra=None, weights=None: p)
    monkeypatch.setattr(fit, "fit_sentence_model", lambda examples: None)
    monkeypatch.setattr(fit, "gate_matrix", lambda examples, sent, extra=None: p.reshape(-1, 1))
    monkeypatch.setattr(fit, "GATE_FEATURES", ["p"])
    every, _ = fit.fit(exs)
    some, rep = fit.fit(exs, threshold_sources={"a"})
    assert 0.5 < some.threshold <= 0.6  # source a alone: answer 0.9 and 0.6, abstain on 0.2 and 0.5
    assert 0.2 < every.threshold <= 0.3  # with the terse pair (0.3 answerable, 0.1 not) it serves their worst rate
    assert set(rep["out_of_fold"]) == {"a.answer_rate", "a.abstain_rate", "terse.answer_rate", "terse.abstain_rate"}


def test_an_examples_weight_in_the_gate_fit_sets_how_far_it_pulls_the_weights():
    """bench/gate_experiment.py --fit-extra-weight: extra examples that contradict the rest move the fitted weight
    towards them more the heavier they weigh, and weight 1 is the unweighted fit."""
    import app.calibration.fit as fit

    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    X = np.concatenate([x, rng.normal(size=60)]).reshape(-1, 1)
    y = np.concatenate([(x > 0).astype(int), (X[200:, 0] < 0).astype(int)])  # the extra 60 say the opposite
    coef = {w: fit.fit_linear(X, y, ["x"], sample_weight=np.array([1.0] * 200 + [w] * 60)).coef[0] for w in (0.1, 1.0, 3.0)}
    assert coef[0.1] > coef[1.0] > coef[3.0]
    assert fit.fit_linear(X, y, ["x"]).coef[0] == pytest.approx(coef[1.0])
