"""One settings tree. Every field can be set with GUIDEGROUND_<SECTION>__<FIELD> (see `guideground config`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.documents import IngestParams

PACKAGE_DIR = Path(__file__).resolve().parent


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndexSettings(_Section):
    dir: Path = Field(Path("indexes/default"), description="Index root served and written by default.")


class RetrievalSettings(_Section):
    top_k: int = Field(5, ge=1, le=50, description="Passages returned as citations/evidence.")
    dense_k: int = Field(50, ge=1, le=1000, description="Candidates from FAISS before fusion.")
    bm25_k: int = Field(50, ge=1, le=1000, description="Candidates from BM25 before fusion.")
    rrf_k: int = Field(60, ge=1, le=1000, description="Reciprocal rank fusion constant.")
    bm25_weight: float = Field(
        0.75, ge=0.0, le=4.0,
        description="Weighted RRF: a BM25 rank counts this much of a dense rank (tuned with bench/retrieval_bench.py --tune).",
    )
    mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Retrievers used.")
    near_duplicate_threshold: float = Field(
        0.97, ge=0.5, le=1.0, description="Cosine above which a lower-ranked passage is dropped as a near-duplicate."
    )
    query_cache_size: int = Field(2048, ge=0, le=1_000_000, description="LRU size of the query-embedding cache.")


class AnswerSettings(_Section):
    max_sentences: int = Field(3, ge=1, le=10, description="Sentences in an extractive answer.")
    candidate_chunks: int = Field(3, ge=1, le=20, description="Top passages whose sentences may be quoted.")
    mmr_lambda: float = Field(0.75, ge=0.0, le=1.0, description="MMR trade-off: relevance vs. redundancy.")
    min_sentence_similarity: float = Field(0.35, ge=-1.0, le=1.0, description="Sentences below this cosine to the question are not quoted.")
    relative_sentence_floor: float = Field(0.8, ge=0.0, le=1.0, description="Quote only sentences scoring ≥ this fraction of the best one.")


class AbstainSettings(_Section):
    enabled: bool = Field(True, description="Abstain when evidence is weak (calibrated model).")
    calibration_file: Path = Field(
        PACKAGE_DIR / "query" / "calibration" / "abstain.json",
        description="Calibrated abstention model (written by `guideground calibrate`).",
    )
    conflict_check: bool = Field(True, description="Abstain with conflicting_evidence when guidelines disagree on a number.")


class SafetySettings(_Section):
    enabled: bool = Field(True, description="Screen requests for harm and injection before retrieval.")
    screen_file: Path = Field(
        Path("var/safety/screen.npz"),
        description="Trained harmful-request screen (written by `guideground safety train`).",
    )
    injection_screen: bool = Field(True, description="Refuse questions that try to re-instruct the service.")


class LimitsSettings(_Section):
    max_question_chars: int = Field(2000, ge=10, le=100_000, description="Longer questions are rejected with 422.")
    max_top_k: int = Field(20, ge=1, le=200, description="Largest top_k a client may ask for.")
    max_body_bytes: int = Field(64_000, ge=1024, description="Largest request body accepted.")


class DatabaseSettings(_Section):
    url: str = Field("sqlite:///guideground.db", description="SQLAlchemy URL for audit records (SQLite default; PostgreSQL supported).")
    audit: bool = Field(True, description="Store an audit record (masked) for every answer.")


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Bind address for `guideground serve`.")
    port: int = Field(8000, ge=1, le=65535, description="Port for `guideground serve`.")
    reload_check_seconds: float = Field(2.0, ge=0.1, description="How often the served index pointer is checked for a new version.")
    log_level: str = Field("info", description="Log level.")


class DataSettings(_Section):
    shared_dir: Path = Field(Path("../shared/data"), description="Shared evaluation data (MedQuAD, PubMedQA, MedSafetyBench, guidelines).")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUIDEGROUND_", env_nested_delimiter="__", extra="forbid")

    index: IndexSettings = Field(default_factory=IndexSettings)  # type: ignore[arg-type]
    ingest: IngestParams = Field(default_factory=IngestParams)  # type: ignore[arg-type]
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)  # type: ignore[arg-type]
    answer: AnswerSettings = Field(default_factory=AnswerSettings)  # type: ignore[arg-type]
    abstain: AbstainSettings = Field(default_factory=AbstainSettings)  # type: ignore[arg-type]
    safety: SafetySettings = Field(default_factory=SafetySettings)  # type: ignore[arg-type]
    limits: LimitsSettings = Field(default_factory=LimitsSettings)  # type: ignore[arg-type]
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)  # type: ignore[arg-type]
    server: ServerSettings = Field(default_factory=ServerSettings)  # type: ignore[arg-type]
    data: DataSettings = Field(default_factory=DataSettings)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
