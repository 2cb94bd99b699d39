"""The shipped gate answers clinicians' questions and abstains on near misses (real models, shared corpus).

A fixed sample of the clinician dev set's *test* split (documents nothing was fitted on) runs through the
service with the real encoder, the real index of ../shared/data/guidelines and the shipped calibration.
The bars sit five or six questions below this sample's measured figures (stop 28: answered 50 of 60, evidence in the
answer 42 of 60, near misses abstained 23 of 30, disagreements 9 of 12) so that an index rebuild does not fail them,
and well above what a gate that abstains on most clinician questions would reach (0.23 answered before).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from app.eval.answerability import answerability_metrics
from app.eval.cases import load_cases
from app.eval.runner import run_cases, service_backend
from app.query.service import QueryService
from app.settings import Settings

pytestmark = pytest.mark.slow

TEST_SPLIT = Path(__file__).resolve().parents[1] / "evalsets" / "clinician" / "test.jsonl"


@pytest.fixture(scope="module")
def results(shared_index, embedder, tmp_path_factory):
    root, _ = shared_index
    s = Settings(safety={"enabled": False}, database={"url": f"sqlite:///{tmp_path_factory.mktemp('ans')}/a.db"})
    svc = QueryService.from_settings(s, index_dir=root, embedder=embedder)
    cases, errors = load_cases(TEST_SPLIT)
    assert not errors
    rng = random.Random(7)
    pick = []
    for tag, n in (("answerable", 60), ("near_miss", 30), ("out_of_scope", 10), ("disagreement", 12)):
        group = [c for c in cases if tag in c.tags]
        pick += rng.sample(group, min(n, len(group)))
    ask, get_chunk = service_backend(svc)
    return run_cases(pick, ask, get_chunk)


def test_clinician_questions_are_answered_with_their_evidence(results):
    m = answerability_metrics(results)
    assert m["answered"] >= 0.75, m
    assert m["gold_guideline_cited"] >= 0.9, m
    assert m["evidence_in_answer"] >= 0.60, m


def test_near_misses_and_out_of_scope_abstain(results):
    m = answerability_metrics(results)
    assert m["near_miss_abstained"] >= 0.65, m
    assert m["out_of_scope_abstained"] >= 0.9, m


def test_disagreements_are_reported_and_quotes_hold(results):
    m = answerability_metrics(results)
    assert m["disagreement_reported"] >= 0.55, m
    # … and not seen everywhere: a conflict check that reported a disagreement on every question would pass the line above
    assert m["n_agreeing"] >= 50 and m["false_disagreement"] <= 0.15, m
    for r in results:
        for c in r.response.citations:
            assert c.quote and r.chunk_texts[c.chunk_id][c.start : c.end] == c.quote


TERSE_TEST = Path(__file__).resolve().parents[1] / "evalsets" / "terse" / "test.jsonl"


def test_reading_terse_asks_answers_more_terse_questions_without_answering_near_misses(shared_index, embedder, tmp_path, monkeypatch):
    """evalsets/terse: the terse test questions whose asked kind the terse reading changes (82 at stop 44), run through
    the real service with the reading and without it (app.query.asks.TERSE_WORDS = 0). Stop 44 measured 6 answerable
    questions gained and 1 lost, 1 near miss more abstained on; the bar is 3 net, so an index rebuild does not fail it."""
    import app.query.asks as asks

    root, _ = shared_index
    s = Settings(safety={"enabled": False}, database={"url": f"sqlite:///{tmp_path}/t.db"})
    svc = QueryService.from_settings(s, index_dir=root, embedder=embedder)
    cases, errors = load_cases(TERSE_TEST)
    assert not errors
    read = {c.id: asks.asked_kinds(c.question) for c in cases}
    monkeypatch.setattr(asks, "TERSE_WORDS", 0)
    changed = [c for c in cases if asks.asked_kinds(c.question) != read[c.id]]
    assert len(changed) >= 60
    ask, get_chunk = service_backend(svc)
    without = answerability_metrics(run_cases(changed, ask, get_chunk))
    monkeypatch.undo()
    with_reading = answerability_metrics(run_cases(changed, ask, get_chunk))
    n_ans = sum(c.expected == "answer" for c in changed)
    n_near = sum("near_miss" in c.tags for c in changed)
    gained = round((with_reading["answered"] - without["answered"]) * n_ans)
    assert gained >= 3, (gained, with_reading, without)
    assert round((without["near_miss_abstained"] - with_reading["near_miss_abstained"]) * n_near) <= 1, (with_reading, without)


EVALSETS = Path(__file__).resolve().parents[1] / "evalsets"
# Fit-document answers whose asked word no guideline holds as written, only in other dress (stop 57): "VLCD",
# "underpinned", "recalc", "non-anemic", "transfemoral"
DRESSED = {"clinician/fit.jsonl": ("A-ngc-10511-04", "A-ngc-10799-03"),
           "terse/fit.jsonl": ("T-A-ngc-10627-06", "T-A-ngc-10802-02", "T-B-ngc-11289-01")}


def test_naming_what_no_guideline_mentions_abstains_on_near_misses_not_on_answers(shared_index, embedder, tmp_path):
    """evalsets/unmentioned (fit documents: 40 near misses naming a drug, test or scale no guideline mentions, 25
    answers naming one their evidence names) and five fit answers whose asked word a guideline holds in other dress,
    through the real service with ``abstain.absent_names`` on and off. Stop 57 measured 6 more near misses abstained
    on the set and no answer lost anywhere; the bar is 4, so an index rebuild does not fail it."""
    root, _ = shared_index
    cases, errors = load_cases(EVALSETS / "unmentioned" / "fit.jsonl")
    for name, ids in DRESSED.items():
        more, errs = load_cases(EVALSETS / name)
        cases += [c for c in more if c.id in ids]
        errors += errs
    assert not errors and len(cases) == 70
    runs = {}
    for on in (False, True):
        s = Settings(safety={"enabled": False}, abstain={"absent_names": on}, database={"url": f"sqlite:///{tmp_path}/{on}.db"})
        ask, get_chunk = service_backend(QueryService.from_settings(s, index_dir=root, embedder=embedder))
        runs[on] = {r.case.id: r.response for r in run_cases(cases, ask, get_chunk)}
    near = [c.id for c in cases if "near_miss" in c.tags]
    gained = [i for i in near if runs[False][i].status == "answered" and runs[True][i].status == "abstained"]
    assert len(gained) >= 4 and all(runs[True][i].reason == "no_evidence" and runs[True][i].unindexed_terms for i in gained), gained
    lost = [c.id for c in cases if c.expected == "answer" and runs[False][c.id].status == "answered" != runs[True][c.id].status]
    assert lost == [], lost
    assert sum(runs[False][c.id].status == "answered" for c in cases if c.expected == "answer") >= 20  # the answers are answered
