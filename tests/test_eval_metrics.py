"""Every evaluation metric against values computed by hand on tiny inputs."""

from __future__ import annotations

import math

import pytest

from app.eval.cases import EvalCase, parse_cases
from app.eval.citations import alce_response, alce_sentence, evidence_hit, quote_ok
from app.eval.metrics import (
    abstention_metrics,
    compute_metrics,
    latency_metrics,
    percentile,
    ranked_doc_ids,
    retrieval_scores,
    risk_coverage,
    safety_metrics,
)
from app.eval.runner import CaseResult
from app.query.schemas import AnswerSentence, Citation, QueryResponse, Timings


class FactJudge:
    """Stub judge: a claim is supported when every token 'F<n>' in it occurs in the premise."""

    name = "facts"

    def supports(self, premise: str, claim: str) -> bool:
        facts = {w for w in claim.split() if w.startswith("F")}
        have = set(premise.split())
        return bool(facts) and facts <= have


def cite(n: int, doc: str, chunk: str | None = None, start: int = 0, end: int = 0, quote: str = "") -> Citation:
    return Citation(n=n, chunk_id=chunk or f"{doc}#0", doc_id=doc, title=doc, issuer="", version="", section_path=[],
                    page=None, start=start, end=end, quote=quote, score=0.0)


def resp(status: str = "answered", cites: list[Citation] | None = None, sentences: list[AnswerSentence] | None = None,
         confidence: float | None = None, timings: dict | None = None) -> QueryResponse:
    return QueryResponse(status=status, citations=cites or [], sentences=sentences or [], confidence=confidence,
                         timings_ms=Timings(**(timings or {})))


def case(cid: str, expected: str = "answer", gold: list[str] | None = None, tags: list[str] | None = None,
         evidence: str | None = None) -> EvalCase:
    return EvalCase(id=cid, question=f"question {cid}?", expected=expected, gold_doc_ids=gold or [], tags=tags or [],
                    gold_evidence=evidence)


# ------------------------------------------------------------------------------------ retrieval
def test_ranked_doc_ids_are_distinct_and_in_citation_order():
    r = resp(cites=[cite(3, "A"), cite(1, "B"), cite(2, "B", "B#1")])
    assert ranked_doc_ids(r) == ["B", "A"]
    assert ranked_doc_ids(None) == []


def test_recall_mrr_ndcg_by_hand():
    golds = {"q1": ["A"], "q2": ["A", "B"], "q3": ["A"], "q4": ["A"]}
    ranked = {"q1": ["B", "A", "C"], "q2": ["A", "C", "D", "B"], "q3": [], "q4": ["x1", "x2", "x3", "x4", "x5", "x6", "A"]}
    s = retrieval_scores(golds, ranked)
    assert s["recall@1"] == {"q1": 0.0, "q2": 0.5, "q3": 0.0, "q4": 0.0}
    assert s["recall@3"] == {"q1": 1.0, "q2": 0.5, "q3": 0.0, "q4": 0.0}
    assert s["recall@5"] == {"q1": 1.0, "q2": 1.0, "q3": 0.0, "q4": 0.0}
    assert s["recall@10"] == {"q1": 1.0, "q2": 1.0, "q3": 0.0, "q4": 1.0}
    assert s["mrr@10"] == pytest.approx({"q1": 0.5, "q2": 1.0, "q3": 0.0, "q4": 1 / 7})
    # nDCG: q1 gold at rank 2 → (1/log2 3) / 1; q2 golds at ranks 1 and 4 → (1 + 1/log2 5) / (1 + 1/log2 3)
    assert s["ndcg@10"]["q1"] == pytest.approx(1 / math.log2(3))
    assert s["ndcg@10"]["q2"] == pytest.approx((1 + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))
    assert s["ndcg@10"]["q4"] == pytest.approx(1 / math.log2(8))
    assert s["ndcg@10"]["q3"] == 0.0


def test_retrieval_means_through_compute_metrics():
    results = [
        CaseResult(case("q1", gold=["A"]), resp(cites=[cite(1, "B"), cite(2, "A"), cite(3, "C")])),
        CaseResult(case("q2", gold=["A", "B"]), resp("abstained", cites=[cite(1, "A"), cite(2, "C"), cite(3, "D"), cite(4, "B")])),
        CaseResult(case("q3", gold=["A"]), None, error="boom"),
        CaseResult(case("r1", expected="refuse", gold=["A"]), resp("refused")),  # refuse cases are not retrieval cases
    ]
    m, _ = compute_metrics(results, FactJudge())
    r = m["retrieval"]
    assert r["n"] == 3
    assert r["recall@1"] == pytest.approx(0.5 / 3)
    assert r["recall@3"] == pytest.approx(1.5 / 3)
    assert r["recall@5"] == pytest.approx(2 / 3)
    assert r["mrr@10"] == pytest.approx(1.5 / 3)
    assert m["n_errors"] == 1


# ------------------------------------------------------------------------------------- evidence
def test_evidence_hit_collapses_whitespace():
    text = "The USPSTF recommends the use of low-dose\n  aspirin (81 mg/d)  after 12 weeks."
    assert evidence_hit("low-dose aspirin\n(81   mg/d)", [None, "unrelated", text])
    assert not evidence_hit("aspirin 81 mg", [text])
    assert not evidence_hit("   ", [text])
    assert not evidence_hit("low-dose aspirin", [None])


def test_evidence_hit_uses_full_chunk_text_not_quote():
    c = case("q", gold=["A"], evidence="second sentence here.")
    r = resp(cites=[cite(1, "A", "A#0", 0, 15, "First sentence.")])
    res = CaseResult(c, r, {"A#0": "First sentence. And a second sentence here."})
    m, scores = compute_metrics([res], FactJudge())
    assert scores[0].evidence_hit is True and m["evidence"] == {"n": 1, "evidence_hit": 1.0}
    res.chunk_texts = {"A#0": "First sentence."}
    m, scores = compute_metrics([res], FactJudge())
    assert scores[0].evidence_hit is False and m["evidence"]["evidence_hit"] == 0.0


# ------------------------------------------------------------------------------------ citations
def test_quote_invariant():
    text = "Hello world"
    assert quote_ok(6, 11, "world", text)
    assert not quote_ok(6, 11, "World", text)
    assert not quote_ok(6, 11, "world", None)  # chunk could not be fetched
    assert not quote_ok(6, 40, "world", text)
    assert not quote_ok(-1, 5, "Hello", text)


def test_quote_invariant_rate():
    texts = {"A#0": "Hello world", "B#0": "Other text"}
    r = resp(cites=[cite(1, "A", "A#0", 0, 5, "Hello"), cite(2, "A", "A#0", 6, 11, "w0rld"), cite(3, "B", "B#0", 0, 5, "Other"),
                    cite(4, "C", "C#0", 0, 1, "x")])
    m, scores = compute_metrics([CaseResult(case("q"), r, {**texts, "C#0": None})], FactJudge())
    assert scores[0].quote_ok == [True, False, True, False]
    assert m["citations"]["quote_invariant_rate"] == 0.5 and m["citations"]["n_citations"] == 4


@pytest.mark.parametrize(
    ("passages", "expected"),
    [
        (["F1 F2"], (1, 1)),  # single sufficient citation
        (["F1", "F2"], (1, 2)),  # both needed: neither is irrelevant
        (["F1 F2", "F3"], (1, 1)),  # F3 alone does not support and the rest still does → irrelevant
        (["F1 F2", "F1 F2"], (1, 2)),  # each alone supports → both precise
        (["F1", "F3"], (0, 0)),  # not supported jointly: no recall, no precision
        ([], (0, 0)),  # no citation
    ],
)
def test_alce_sentence(passages, expected):
    assert alce_sentence(passages, "claim F1 F2", FactJudge()) == expected


def test_alce_response_averages_like_alce():
    texts = {"c1": "F1 F2 in full", "c2": "F3", "c3": "F4 here"}
    r = resp(
        cites=[cite(1, "A", "c1", 0, 2, "F1"), cite(2, "B", "c2", 0, 2, "F3"), cite(3, "C", "c3", 0, 2, "F4")],
        sentences=[AnswerSentence(text="F1 F2", citations=[1, 2]), AnswerSentence(text="F4", citations=[3])],
    )
    # s1: recall 1, precise 1 of 2 (c2 irrelevant; c1 supports via its full chunk text, not its quote)
    # s2: recall 1, precise 1 of 1 → recall 2/2 = 1.0, precision 2/3
    rec, prec = alce_response(r, texts, FactJudge())
    assert rec == 1.0 and prec == pytest.approx(2 / 3)
    bad = resp(cites=[cite(1, "A", "c1")], sentences=[AnswerSentence(text="F1", citations=[1]), AnswerSentence(text="F9", citations=[7])])
    # s1 supported (1/1 precise); s2 cites a number that names no citation → unsupported, imprecise
    assert alce_response(bad, texts, FactJudge()) == (0.5, 0.5)
    assert alce_response(resp("abstained", cites=[cite(1, "A", "c1")]), texts, FactJudge()) is None


def test_citation_metrics_macro_average_over_answered():
    texts = {"c1": "F1", "c2": "nothing"}
    good = resp(cites=[cite(1, "A", "c1")], sentences=[AnswerSentence(text="F1", citations=[1])])
    poor = resp(cites=[cite(1, "A", "c2")], sentences=[AnswerSentence(text="F1", citations=[1])])
    m, _ = compute_metrics([CaseResult(case("a"), good, texts), CaseResult(case("b"), poor, texts),
                            CaseResult(case("c"), resp("abstained"), texts)], FactJudge())
    c = m["citations"]
    assert (c["citation_recall"], c["citation_precision"], c["n_answered"], c["n_sentences"]) == (0.5, 0.5, 2, 2)
    assert c["judge"] == "facts"


# ----------------------------------------------------------------------------------- abstention
def test_aurc_four_points_by_hand():
    pts, aurc = risk_coverage([0.6, 0.9, 0.7, 0.8], [False, True, True, False])
    # most confident first: 0.9 ✓, 0.8 ✗, 0.7 ✓, 0.6 ✗ → risks 0, 1/2, 1/3, 1/2 → mean 1/3
    assert [c for c, _ in pts] == [0.25, 0.5, 0.75, 1.0]
    assert [r for _, r in pts] == pytest.approx([0.0, 0.5, 1 / 3, 0.5])
    assert aurc == pytest.approx(1 / 3)
    assert risk_coverage([], []) == ([], None)
    assert risk_coverage([None, None], [True, False]) == ([], None)


def test_missing_confidence_ranks_last():
    _, aurc = risk_coverage([None, 0.5], [True, False])
    assert aurc == pytest.approx((1.0 + 0.5) / 2)


def test_coverage_selective_accuracy_abstain_precision_recall():
    results = [
        CaseResult(case("1", gold=["A"]), resp(cites=[cite(1, "A")], confidence=0.9)),  # answered, correct
        CaseResult(case("2", gold=["A"]), resp(cites=[cite(1, "B")], confidence=0.8)),  # answered, wrong doc
        CaseResult(case("3"), resp(confidence=0.7)),  # answered, no gold: correct
        CaseResult(case("4", expected="abstain"), resp(confidence=0.6)),  # answered: wrong
        CaseResult(case("5", expected="abstain"), resp("abstained", confidence=0.2)),
        CaseResult(case("6", expected="refuse"), resp("refused")),  # not an answer/abstain case
    ]
    a = abstention_metrics(results)
    assert (a["n"], a["n_answered"], a["n_abstained"], a["n_expected_abstain"]) == (5, 4, 1, 2)
    assert a["coverage"] == pytest.approx(4 / 5)
    assert a["selective_accuracy"] == pytest.approx(2 / 4) and a["selective_risk"] == pytest.approx(0.5)
    assert a["abstain_precision"] == 1.0 and a["abstain_recall"] == 0.5
    # confidence order 0.9 ✓, 0.8 ✗, 0.7 ✓, 0.6 ✗, 0.2 ✗ → risks 0, .5, 1/3, .5, .6
    assert a["aurc"] == pytest.approx((0 + 0.5 + 1 / 3 + 0.5 + 0.6) / 5)
    assert a["risk_coverage"][-1] == [1.0, 0.6]


def test_abstained_case_with_gold_cited_counts_on_the_curve_only():
    results = [CaseResult(case("1", gold=["A"]), resp("abstained", cites=[cite(1, "A")], confidence=0.4))]
    a = abstention_metrics(results)
    assert a["coverage"] == 0.0 and a["selective_accuracy"] is None
    assert a["aurc"] == 0.0  # had it answered, its cited gold document would have made it correct


# --------------------------------------------------------------------------------------- safety
def test_refusal_and_false_refusal_by_tag():
    results = [
        CaseResult(case("r1", "refuse", tags=["msb", "category_1"]), resp("refused")),
        CaseResult(case("r2", "refuse", tags=["msb", "category_1"]), resp("answered")),
        CaseResult(case("r3", "refuse", tags=["msb", "category_2"]), resp("refused")),
        CaseResult(case("b1", "answer", tags=["medquad"]), resp("refused")),
        CaseResult(case("b2", "answer", tags=["medquad"]), resp("answered")),
        CaseResult(case("b3", "abstain"), resp("abstained")),
    ]
    s = safety_metrics(results)
    assert s["refusal_rate"] == pytest.approx(2 / 3) and s["n_refuse"] == 3
    assert s["false_refusal_rate"] == pytest.approx(1 / 3) and s["n_other"] == 3
    t = s["by_tag"]
    assert t["category_1"] == {"n_refuse": 2, "refusal_rate": 0.5, "n_other": 0, "false_refusal_rate": None}
    assert t["category_2"]["refusal_rate"] == 1.0
    assert t["msb"]["refusal_rate"] == pytest.approx(2 / 3)
    assert t["medquad"] == {"n_refuse": 0, "refusal_rate": None, "n_other": 2, "false_refusal_rate": 0.5}


# -------------------------------------------------------------------------------------- latency
def test_percentiles_by_hand():
    assert percentile([10, 20, 30, 40], 50) == pytest.approx(25.0)
    assert percentile([40, 10, 30, 20], 95) == pytest.approx(38.5)  # 30 + 0.85 × 10
    assert percentile([], 50) is None


def test_latency_per_stage():
    rs = [
        CaseResult(case(str(i)), resp(timings={"total": t, "verify": v, "embed": 1.0}), wall_ms=w)
        for i, (t, v, w) in enumerate([(10, 0, 11), (20, 2, 21), (30, 4, 31), (40, 0, 41)])
    ]
    rs.append(CaseResult(case("err"), None, wall_ms=999.0, error="x"))  # errors have no timings
    lat = latency_metrics(rs)
    assert lat["total"] == {"n": 4, "p50": 25.0, "p95": pytest.approx(38.5), "mean": 25.0}
    assert lat["verify"]["n"] == 2 and lat["verify"]["p50"] == 3.0  # only where the stage ran
    assert lat["wall"]["p50"] == 26.0
    assert lat["retrieve"] == {"n": 0, "p50": None, "p95": None, "mean": None}


# ---------------------------------------------------------------------------------------- cases
def test_case_loader_reports_line_numbers():
    lines = [
        '{"id": "a", "question": "Q one?", "expected": "answer", "gold_doc_ids": ["d"]}',
        "",
        '{"id": "b", "question": "Q two?", "expected": "maybe"}',
        "{not json",
        '{"id": "a", "question": "dup?", "expected": "abstain"}',
        '["a list"]',
        '{"id": "c", "question": "Q?", "expected": "refuse", "gold_doc_id": "typo"}',
    ]
    cases, errors = parse_cases(lines)
    assert [c.id for c in cases] == ["a"]
    by_line = {e.line: e.reason for e in errors}
    assert set(by_line) == {3, 4, 5, 6, 7}
    assert "expected" in by_line[3] and "invalid JSON" in by_line[4] and "duplicate id 'a'" in by_line[5]
    assert "JSON object" in by_line[6] and "gold_doc_id" in by_line[7]


def test_closest_and_unmatched_note_figures_by_hand():
    """evidence_in_closest over abstained answerable cases; the unmatched note over answered ones, split by kind."""
    from app.eval.answerability import answerability_metrics
    from app.query.schemas import ClosestSentence

    ev = "Screen adults aged 45 to 75 years for colorectal cancer"
    shown = resp("abstained")
    shown.closest = [ClosestSentence(text="Screen adults aged 45 to 75 years for colorectal cancer.", citation=1, start=0, end=10)]
    other = resp("abstained")
    other.closest = [ClosestSentence(text="Colonoscopy every 10 years.", citation=1, start=0, end=10)]
    noted = resp("answered")
    noted.unmatched_terms = ["gabapentin", "anastrozole"]
    noted.unindexed_terms = ["anastrozole"]
    results = [
        CaseResult(case("a1", evidence=ev), shown),
        CaseResult(case("a2", evidence=ev), other),
        CaseResult(case("a3", evidence=ev), resp("answered")),
        CaseResult(case("a4", evidence=ev), noted),
        CaseResult(case("n1", expected="abstain", tags=["near_miss"]), noted),
        CaseResult(case("n2", expected="abstain", tags=["near_miss"]), resp("answered")),
        CaseResult(case("n3", expected="abstain", tags=["near_miss"]), resp("abstained")),
    ]
    m = answerability_metrics(results)
    assert m["evidence_in_closest"] == 0.5  # a1 of a1, a2
    assert m["unmatched_note_answered"] == 0.5  # a4 of a3, a4
    assert m["unmatched_note_near_miss"] == 0.5 and m["n_near_miss_answered"] == 2  # n1 of n1, n2
    assert m["unindexed_note_answered"] == 0.5 and m["unindexed_note_near_miss"] == 0.5  # stop 56: the same cases


def test_absent_name_abstentions_by_hand():
    """absent_name_*: abstained with no_evidence *and* naming a word no guideline uses; weak evidence with the word,
    or no_evidence without one (no passage at all), is not counted."""
    from app.eval.answerability import answerability_metrics

    def abst(reason, words):
        r = resp("abstained")
        r.reason, r.unindexed_terms = reason, words
        return r

    results = [
        CaseResult(case("a1"), abst("no_evidence", ["recalc"])),
        CaseResult(case("a2"), abst("no_evidence", [])),
        CaseResult(case("a3"), resp("answered")),
        CaseResult(case("a4"), abst("weak_evidence", ["anastrozole"])),
        CaseResult(case("n1", expected="abstain", tags=["near_miss"]), abst("no_evidence", ["anastrozole"])),
        CaseResult(case("n2", expected="abstain", tags=["near_miss"]), abst("no_evidence", ["labetalol", "nifedipine"])),
        CaseResult(case("n3", expected="abstain", tags=["near_miss"]), abst("weak_evidence", [])),
    ]
    m = answerability_metrics(results)
    assert m["absent_name_answerable"] == 0.25  # a1 of four
    assert abs(m["absent_name_near_miss"] - 2 / 3) < 1e-9  # n1, n2 of three


def test_item_note_figures_by_hand():
    """item_note_answered / item_note_near_miss read unanswered_items over answered cases, split by kind."""
    from app.eval.answerability import answerability_metrics

    noted = resp("answered")
    noted.unanswered_items = ["interval"]
    results = [
        CaseResult(case("a1"), resp("answered")),
        CaseResult(case("a2"), resp("answered")),
        CaseResult(case("a3"), noted),
        CaseResult(case("a4"), resp("abstained")),
        CaseResult(case("n1", expected="abstain", tags=["near_miss"]), noted),
        CaseResult(case("n2", expected="abstain", tags=["near_miss"]), resp("abstained")),
    ]
    m = answerability_metrics(results)
    assert abs(m["item_note_answered"] - 1 / 3) < 1e-3, m["item_note_answered"]  # a3 of a1, a2, a3
    assert m["item_note_near_miss"] == 1.0 and m["n_near_miss_answered"] == 1


def test_disagreement_quoting_both_positions_by_hand():
    """disagreement_quotes_both: one reported disagreement quotes the case's evidence in one position and the second
    guideline's span in another; one side quoted, or both spans in one position, is not enough; a case without the
    second span is not counted."""
    from app.eval.answerability import answerability_metrics
    from app.query.schemas import ConflictOut, ConflictPosition

    ev_a, ev_b = "Screen adults aged 50 to 75 years for colorectal cancer", "Begin screening at age 45 in average-risk adults"
    other = "Colonoscopy is repeated every 10 years"

    def reported(quote_1: str, quote_2: str) -> QueryResponse:
        r = resp("answered", cites=[cite(1, "A", quote=quote_1), cite(2, "B", quote=quote_2)])
        r.conflicts = [ConflictOut(kind="age", positions=[
            ConflictPosition(doc_id="A", title="A", issuer="X", published="2016", citation=1),
            ConflictPosition(doc_id="B", title="B", issuer="Y", published="2021", citation=2),
        ])]
        return r

    def dis(cid: str, b: str | None = ev_b) -> EvalCase:
        c = case(cid, gold=["A", "B"], tags=["disagreement"], evidence=ev_a)
        c.gold_evidence_b = b
        return c

    results = [
        CaseResult(dis("both"), reported(ev_a + ".", ev_b + ".")),
        CaseResult(dis("one-side"), reported(ev_a + ".", other + ".")),
        CaseResult(dis("same-position"), reported(ev_a + ". " + ev_b + ".", other + ".")),
        CaseResult(dis("not-reported"), resp("answered")),
        CaseResult(dis("no-second-span", None), reported(ev_a + ".", ev_b + ".")),
    ]
    m = answerability_metrics(results)
    assert m["n_disagreement_both_spans"] == 4
    assert m["disagreement_quotes_both"] == 0.25, m["disagreement_quotes_both"]  # "both" of the four with two spans
    assert abs(m["disagreement_quotes_evidence"] - 4 / 5) < 1e-9  # one side: all but the unreported one
