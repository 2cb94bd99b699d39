"""The query contract: request and response models shared by the API, the CLI and evaluation."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from app.query.limits import MAX_QUESTION_CHARS, MAX_TOP_K, MIN_QUESTION_CHARS

Status = Literal["answered", "abstained", "refused"]
Reason = Literal[
    "no_evidence", "weak_evidence", "unsupported", "conflicting_evidence", "out_of_scope", "unsafe_request"
]


# At least one non-blank character, at most 200: what `_non_empty` checks, stated in the schema too.
FilterValue = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
# A question is stripped; what is left must be at least MIN_QUESTION_CHARS long (first and last
# non-blank characters at least two apart). The pattern states that in the schema.
QUESTION_PATTERN = r"\S[\s\S]{" + str(MIN_QUESTION_CHARS - 2) + r",}\S"


class QueryFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_id: list[FilterValue] | None = Field(None, description="Only passages from these documents.", min_length=1, max_length=200)
    issuer: list[FilterValue] | None = Field(
        None, description="Only these issuers (case-insensitive substring match).", min_length=1, max_length=50
    )
    published_from: date | None = Field(None, description="Only guidelines published on or after this date (not after published_to).")
    published_to: date | None = Field(None, description="Only guidelines published on or before this date (not before published_from).")

    @field_validator("doc_id", "issuer")
    @classmethod
    def _non_empty(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (not v or any(not s.strip() or len(s) > 200 for s in v)):
            raise ValueError("must be a non-empty list of non-empty strings (≤200 chars)")
        return v

    @model_validator(mode="after")
    def _range(self) -> QueryFilters:
        if self.published_from and self.published_to and self.published_from > self.published_to:
            raise ValueError("published_from is after published_to")
        return self


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": "At what age should colorectal cancer screening start?"}]})

    question: str = Field(
        ..., min_length=MIN_QUESTION_CHARS, max_length=MAX_QUESTION_CHARS, pattern=QUESTION_PATTERN,
        description="A clinical question in plain language (at most limits.max_question_chars characters).",
    )
    top_k: int | None = Field(
        None, ge=1, le=MAX_TOP_K, description="Passages to return (default from settings; at most limits.max_top_k)."
    )
    filters: QueryFilters | None = None

    @field_validator("question")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if len(v) < MIN_QUESTION_CHARS:
            raise ValueError("question is empty")
        return v


class AnswerSentence(BaseModel):
    text: str = Field(description="A sentence quoted verbatim from a cited passage.")
    citations: list[int] = Field(description="Citation numbers (n) supporting this sentence.")


class Citation(BaseModel):
    n: int = Field(description="Citation number, 1-based.")
    chunk_id: str
    doc_id: str
    title: str
    issuer: str
    version: str = Field(description="Guideline version or publication date.")
    section_path: list[str]
    page: int | None
    start: int = Field(description="Start of the quote in the chunk text (GET /v1/chunks/{chunk_id}).")
    end: int = Field(description="End (exclusive) of the quote in the chunk text.")
    quote: str = Field(description="chunk.text[start:end], verbatim.")
    score: float = Field(description="Fused retrieval score of the passage.")
    superseded_by: str | None = Field(
        None, description="doc_id of a newer version of this guideline in the index: this passage is not the current position."
    )


class ClosestSentence(BaseModel):
    text: str = Field(description="A sentence quoted verbatim from a cited passage: chunk.text[start:end].")
    citation: int = Field(description="The citation (n) of the passage it is quoted from.")
    start: int = Field(description="Start of the quote in the passage's chunk text (GET /v1/chunks/{chunk_id}).")
    end: int = Field(description="End (exclusive) of the quote in the chunk text.")


class ReadAs(BaseModel):
    written: str = Field(description="A word of the question as written: in no indexed guideline, in any form.")
    read: str = Field(description="The guidelines' word one typing slip away that it was read as (app/query/spelling.py).")


class Timings(BaseModel):
    embed: float = 0.0
    retrieve: float = 0.0
    answer: float = 0.0
    verify: float = 0.0
    total: float = 0.0


class ConflictPosition(BaseModel):
    doc_id: str
    title: str
    issuer: str
    published: str = Field(description="Publication date or year, as the guideline gives it.")
    citation: int = Field(description="The citation (n) quoting this guideline's statement.")
    values: list[str] = Field(
        default_factory=list,
        description="What this guideline gives, as its sentence states it ('3-5 days', 'every 2 years', 'aged 50 to 74 years'), "
        "or its grade or direction.",
    )
    superseded: bool = Field(False, description="True when a newer version of this guideline is in the index.")


class ConflictOut(BaseModel):
    kind: Literal["age", "interval", "dose", "duration", "threshold", "grade", "direction", "version"] = Field(
        description="What the guidelines disagree on (version: an older and a newer version of one guideline)."
    )
    positions: list[ConflictPosition]


class GenerationStats(BaseModel):
    generator: str = Field(description="The generator that drafted the sentences (extractive, openai, llamacpp).")
    kept: int = Field(0, description="Drafted sentences returned as they were (verified against their citations).")
    repaired: int = Field(0, description="Unsupported sentences replaced by a supporting sentence of the same passage.")
    dropped: int = Field(0, description="Sentences dropped: uncited, unsupported and not repairable.")


class QueryResponse(BaseModel):
    status: Status
    answer: str | None = None
    reason: Reason | None = None
    message: str | None = Field(None, description="Human-readable explanation for an abstention or refusal.")
    category: str | None = Field(None, description="Harm category for refusals.")
    sentences: list[AnswerSentence] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    index_version: str | None = None
    confidence: float | None = Field(None, description="Calibrated probability that the evidence answers the question.")
    timings_ms: Timings = Field(default_factory=Timings)
    generation: GenerationStats | None = Field(None, description="How the answer's sentences fared in verification.")
    conflicts: list[ConflictOut] = Field(
        default_factory=list, description="Guidelines among the evidence that disagree on the asked-for item, each position attributed."
    )
    closest: list[ClosestSentence] = Field(
        default_factory=list,
        description="An abstention for weak or unsupported evidence: the sentences of its passages the gate rated closest to the "
        "question, closest first (answer.closest_sentences) — what the guidelines say nearest to it, not an answer to it.",
    )
    unmatched_terms: list[str] = Field(
        default_factory=list,
        description="Specific words of the question (a drug, test, procedure or scale name) that none of the cited guidelines "
        "uses: the answer does not speak to them. A fact about the cited text, not a judgement; empty when each is found.",
    )
    unindexed_terms: list[str] = Field(
        default_factory=list,
        description="Those of unmatched_terms that no guideline of the whole index uses, cited or not: nothing this index "
        "holds speaks to them. Empty when each unmatched word is used by some guideline that was not cited.",
    )
    unanswered_items: list[str] = Field(
        default_factory=list,
        description="An answer's note: the specific kinds of item the question asks for (age, interval, dose, duration, "
        "threshold) that none of its sentences gives, e.g. ['interval'] for \"how often …?\" answered without one. A fact "
        "about the answer text, not a judgement; empty for abstentions and when each asked kind is given.",
    )
    read_as: list[ReadAs] = Field(
        default_factory=list,
        description="Words of the question read as the guidelines spell them (a typing slip one letter away from a word they "
        "use, unambiguous); retrieval, the gate and the answer read the question so. Empty when every word was read as written.",
    )
    query_id: str | None = Field(
        None, description="Id of the recorded answer (GET /v1/answers/{query_id}, POST /v1/feedback); set by the API when answers are recorded."
    )


class ChunkOut(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    issuer: str
    published: str
    version: str
    section_path: list[str]
    pages: list[int]
    start: int
    end: int
    text: str
    flags: list[str]
    index_version: str


class GuidelineOut(BaseModel):
    doc_id: str
    title: str
    issuer: str
    published: str
    version: str
    url: str
    n_chunks: int
    format: str


class GuidelinesOut(BaseModel):
    index_version: str
    guidelines: list[GuidelineOut]
