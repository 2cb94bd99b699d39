"""The versioned JSON schema of an evaluation report: pydantic models, ``extra="forbid"`` everywhere."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
Rate = Annotated[float, Field(ge=0.0, le=1.0)] | None
Ms = Annotated[float, Field(ge=0.0)] | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RetrievalOut(_Strict):
    n: int = Field(description="Cases with gold_doc_ids (expected answer/abstain).")
    recall_at_1: Rate = Field(alias="recall@1")
    recall_at_3: Rate = Field(alias="recall@3")
    recall_at_5: Rate = Field(alias="recall@5")
    recall_at_10: Rate = Field(alias="recall@10")
    mrr_at_10: Rate = Field(alias="mrr@10")
    ndcg_at_10: Rate = Field(alias="ndcg@10")


class EvidenceOut(_Strict):
    n: int
    evidence_hit: Rate


class CitationsOut(_Strict):
    judge: str
    n_citations: int
    quote_invariant_rate: Rate
    n_answered: int
    n_sentences: int
    citation_recall: Rate
    citation_precision: Rate


class AbstentionOut(_Strict):
    n: int
    n_answered: int
    n_abstained: int
    n_expected_abstain: int
    coverage: Rate
    selective_accuracy: Rate
    selective_risk: Rate
    aurc: Rate
    abstain_precision: Rate
    abstain_recall: Rate
    risk_coverage: list[tuple[float, float]] = Field(description="(coverage, risk), at most 200 points.")


class AnswerabilityOut(_Strict):
    """The outside measure of usefulness (../shared/EVALUATION.md; app/eval/answerability.py)."""

    n_answerable: int
    answered: Rate
    gold_guideline_cited: Rate
    evidence_in_answer: Rate
    near_miss_abstained: Rate
    n_near_miss: int
    out_of_scope_abstained: Rate
    n_out_of_scope: int
    disagreement_reported: Rate
    n_disagreement: int
    false_disagreement: Rate = None
    n_agreeing: int = 0
    # since stop 36 (absent from older reports)
    evidence_in_closest: Rate = None
    unmatched_note_answered: Rate = None
    unmatched_note_near_miss: Rate = None
    item_note_answered: Rate = None  # since stop 49
    item_note_near_miss: Rate = None
    unindexed_note_answered: Rate = None  # since stop 56
    unindexed_note_near_miss: Rate = None
    n_near_miss_answered: int = 0
    absent_name_answerable: Rate = None  # since stop 57
    absent_name_near_miss: Rate = None
    # since stop 47
    disagreement_between_gold: Rate = None
    # since stop 48
    disagreement_quotes_evidence: Rate = None
    # since stop 49: both positions quoted, where the set records the second guideline's span too
    disagreement_quotes_both: Rate = None
    n_disagreement_both_spans: int = 0


class SafetyRates(_Strict):
    n_refuse: int
    refusal_rate: Rate
    n_other: int
    false_refusal_rate: Rate


class SafetyOut(SafetyRates):
    by_tag: dict[str, SafetyRates]


class LatencyOut(_Strict):
    n: int
    p50: Ms
    p95: Ms
    mean: Ms


class MetricsOut(_Strict):
    n_cases: int
    n_errors: int
    status_counts: dict[str, int]
    outcome_accuracy: Rate
    retrieval: RetrievalOut
    evidence: EvidenceOut
    citations: CitationsOut
    abstention: AbstentionOut
    answerability: AnswerabilityOut | None = None
    safety: SafetyOut
    latency_ms: dict[str, LatencyOut]


class CitationOut(_Strict):
    n: int
    chunk_id: str
    doc_id: str
    title: str
    start: int
    end: int
    quote: str
    quote_ok: bool
    chunk_found: bool


class SentenceOut(_Strict):
    text: str
    citations: list[int]


class ConflictPositionOut(_Strict):
    doc_id: str
    issuer: str
    published: str
    values: list[str]
    superseded: bool = False


class ConflictCaseOut(_Strict):
    kind: str
    positions: list[ConflictPositionOut]


class CaseOut(_Strict):
    id: str
    question: str
    expected: Literal["answer", "abstain", "refuse"]
    tags: list[str]
    gold_doc_ids: list[str]
    gold_evidence: str | None
    reference_answer: str | None
    status: Literal["answered", "abstained", "refused", "error"]
    reason: str | None
    category: str | None
    confidence: float | None
    error: str | None
    outcome_ok: bool
    correct: bool
    retrieved_doc_ids: list[str]
    gold_rank: int | None
    evidence_hit: bool | None
    citation_recall: Rate
    citation_precision: Rate
    sentences: list[SentenceOut]
    citations: list[CitationOut]
    # the disagreements the response reported (QueryResponse.conflicts); None in reports written before they were kept
    conflicts: list[ConflictCaseOut] | None = None
    # QueryResponse.unmatched_terms; None in reports written before stop 36
    unmatched_terms: list[str] | None = None
    # QueryResponse.unindexed_terms; None in reports written before stop 56
    unindexed_terms: list[str] | None = None
    # QueryResponse.unanswered_items; None in reports written before stop 49
    unanswered_items: list[str] | None = None
    # QueryResponse.read_as (words read past a typing slip); None in reports written before stop 43
    read_as: list[dict[str, str]] | None = None
    # QueryResponse.closest (an abstention's closest sentences, their texts); None in reports written before stop 36
    closest: list[str] | None = None
    timings_ms: dict[str, float]
    wall_ms: float


class RunInfo(_Strict):
    started_at: str
    duration_s: float
    mode: Literal["in-process", "http", "synthetic"]
    index: str | None
    url: str | None
    index_version: str | None
    cases_file: str | None
    n_cases_in_file: int
    limit: int | None
    seed: int | None
    top_k: int | None
    config: dict[str, Any] | None = Field(None, description="Settings sections that shape answers (in-process runs).")
    judge: str | None = Field(None, description="Citation judge (never the service's verifier), or none.")
    models: dict[str, str | None] | None = Field(
        None, description="Versions of the trained artefacts that shaped the answers: the request screen (null when off) and the calibration.")


class EvalReport(_Strict):
    schema_version: Literal[1]
    kind: Literal["guideground-eval"]
    run: RunInfo
    summary: dict[str, float | None] = Field(description="Headline metrics under stable names (compared by `eval --compare`).")
    metrics: MetricsOut
    cases: list[CaseOut]
