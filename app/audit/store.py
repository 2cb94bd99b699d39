"""Audit records: one row per answered/abstained/refused query, plus user feedback on answers.

Free text (question, answer, feedback comment) is masked *inside* the store, so no caller can
persist an unmasked identifier. SQLite is the default; PostgreSQL works through psycopg 3.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.db import make_engine, normalize_url
from app.errors import BadInput, ConfigError, NotFound
from app.safety.pii import mask_identifiers

if TYPE_CHECKING:
    from app.query.schemas import QueryResponse

STATUSES = ("answered", "abstained", "refused")
FEEDBACK_LABELS = ("helpful", "not_helpful", "wrong", "citation_wrong", "unsafe")
MAX_TEXT = 20_000


def _now() -> datetime:
    return datetime.now(UTC)


def _mask(text: str | None) -> str | None:
    return None if text is None else mask_identifiers(text[:MAX_TEXT])


def _row(r: Any) -> dict[str, Any]:
    """SQLite hands back naive datetimes; every record is UTC."""
    d = dict(r._mapping)
    ts = d.get("created_at")
    if isinstance(ts, datetime) and ts.tzinfo is None:
        d["created_at"] = ts.replace(tzinfo=UTC)
    return d


class AuditStore:
    """``AuditStore(url)``; ``table_prefix`` lets tests share one database without colliding."""

    def __init__(self, url: str = "sqlite:///guideground.db", table_prefix: str = "", echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.engine: Engine = make_engine(self.url, echo)
        self.metadata = MetaData()
        self.queries = Table(
            f"{table_prefix}audit_queries",
            self.metadata,
            Column("id", String(32), primary_key=True),
            Column("created_at", DateTime(timezone=True), nullable=False, index=True),
            Column("question", Text, nullable=False),
            Column("status", String(16), nullable=False),
            Column("reason", String(32)),
            Column("category", String(64)),
            Column("index_version", String(64)),
            Column("chunk_ids", JSON, nullable=False),
            Column("answer", Text),
            Column("timings", JSON, nullable=False),
            Column("request_id", String(64), index=True),
        )
        self.feedback = Table(
            f"{table_prefix}audit_feedback",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("query_id", String(32), ForeignKey(self.queries.c.id, ondelete="CASCADE"), nullable=False, index=True),
            Column("label", String(32), nullable=False),
            Column("comment", Text),
            Column("chunk_id", String(200)),
            Column("created_at", DateTime(timezone=True), nullable=False),
        )

    def create_all(self) -> None:
        try:
            self.metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise ConfigError(
                f"cannot create audit tables at {self.engine.url.render_as_string(hide_password=True)}: {exc.__class__.__name__}",
                hint="check GUIDEGROUND_DATABASE__URL and that the database server is running",
            ) from exc

    def drop_all(self) -> None:
        self.metadata.drop_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    def record(
        self,
        *,
        question: str,
        status: str,
        reason: str | None = None,
        category: str | None = None,
        index_version: str | None = None,
        chunk_ids: Iterable[str] = (),
        answer: str | None = None,
        timings: Mapping[str, float] | None = None,
        request_id: str | None = None,
    ) -> str:
        """Store one query; returns its id. Question and answer are masked here."""
        if status not in STATUSES:
            raise BadInput(f"unknown status '{status}'", hint=f"one of {', '.join(STATUSES)}")
        row_id = uuid.uuid4().hex
        row = {
            "id": row_id,
            "created_at": _now(),
            "question": _mask(question) or "",
            "status": status,
            "reason": reason,
            "category": category,
            "index_version": index_version,
            "chunk_ids": [str(c) for c in chunk_ids],
            "answer": _mask(answer),
            "timings": {k: float(v) for k, v in (timings or {}).items()},
            "request_id": request_id,
        }
        with self.engine.begin() as conn:
            conn.execute(insert(self.queries).values(**row))
        return row_id

    def record_response(self, question: str, response: QueryResponse, request_id: str | None = None) -> str:
        """Convenience for the service: one record from a QueryResponse."""
        return self.record(
            question=question,
            status=response.status,
            reason=response.reason,
            category=response.category,
            index_version=response.index_version,
            chunk_ids=[c.chunk_id for c in response.citations],
            answer=response.answer,
            timings=response.timings_ms.model_dump(),
            request_id=request_id,
        )

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        stmt = select(self.queries).order_by(self.queries.c.created_at.desc(), self.queries.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(stmt)]

    def get(self, query_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(self.queries).where(self.queries.c.id == query_id)).first()
        return _row(r) if r is not None else None

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.queries)).scalar_one())

    def add_feedback(
        self, query_id: str, label: str, comment: str | None = None, chunk_id: str | None = None
    ) -> int:
        """Attach feedback to a recorded query; the comment is masked. Returns the feedback id."""
        if label not in FEEDBACK_LABELS:
            raise BadInput(f"unknown feedback label '{label}'", hint=f"one of {', '.join(FEEDBACK_LABELS)}")
        with self.engine.begin() as conn:
            exists = conn.execute(select(self.queries.c.id).where(self.queries.c.id == query_id)).first()
            if exists is None:
                raise NotFound(f"no audited query '{query_id}'", hint="use the query_id returned with the answer")
            res = conn.execute(
                insert(self.feedback)
                .values(query_id=query_id, label=label, comment=_mask(comment), chunk_id=chunk_id, created_at=_now())
                .returning(self.feedback.c.id)
            )
            return int(res.scalar_one())

    def list_feedback(self, query_id: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        stmt = select(self.feedback).order_by(self.feedback.c.id).limit(limit)
        if query_id is not None:
            stmt = stmt.where(self.feedback.c.query_id == query_id)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(stmt)]
