"""Curation data model (SQLAlchemy 2): registry, index releases, answers, feedback, queue, audit, API keys.

Names follow FHIR PlanDefinition where they fit (``status``, ``effective``, ``next_review``,
``supersedes``). The schema is created and changed only by the Alembic migrations in
``app/curation/migrations`` (``guideground db upgrade``); ``Base.metadata`` is their target.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

VERSION_STATUSES = ("draft", "in_review", "approved", "active", "retired", "rejected")
RELEASE_STATUSES = ("built", "submitted", "approved", "published", "withdrawn", "rejected")
ITEM_STATUSES = ("pending", "triaged", "resolved", "dismissed")
SENTENCE_VERDICTS = ("supported", "unsupported", "contradicted", "outdated", "unsafe")
CITATION_VERDICTS = ("correct", "wrong_span", "wrong_source", "missing")
ROLES = ("reader", "clinician", "curator", "approver", "admin")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware on both backends (SQLite hands back naive datetimes; every value here is UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class Guideline(Base):
    __tablename__ = "cur_guidelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True, doc="Stable doc_id of every version in an index.")
    title: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(300), default="")
    topic: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))

    versions: Mapped[list[GuidelineVersion]] = relationship(
        back_populates="guideline", order_by="GuidelineVersion.id", foreign_keys="GuidelineVersion.guideline_id"
    )


class GuidelineVersion(Base):
    __tablename__ = "cur_guideline_versions"
    __table_args__ = (UniqueConstraint("guideline_id", "label", name="uq_version_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guideline_id: Mapped[int] = mapped_column(ForeignKey("cur_guidelines.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(60), doc="Version label as the issuer writes it, e.g. 2026.1.")
    published: Mapped[date | None] = mapped_column(Date)
    effective: Mapped[date | None] = mapped_column(Date)
    next_review: Mapped[date | None] = mapped_column(Date)
    file_name: Mapped[str] = mapped_column(String(300))
    stored_path: Mapped[str] = mapped_column(String(1000))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("cur_guideline_versions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))

    guideline: Mapped[Guideline] = relationship(back_populates="versions", foreign_keys=[guideline_id])
    supersedes: Mapped[GuidelineVersion | None] = relationship(remote_side="GuidelineVersion.id")


release_versions = Table(
    "cur_release_versions",
    Base.metadata,
    Column("release_id", ForeignKey("cur_releases.id", ondelete="CASCADE"), primary_key=True),
    Column("version_id", ForeignKey("cur_guideline_versions.id"), primary_key=True),
)


class IndexRelease(Base):
    __tablename__ = "cur_releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    index_version: Mapped[str] = mapped_column(String(80), unique=True, doc="Version directory name in the index root.")
    build_root: Mapped[str] = mapped_column(String(1000))
    embedder: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64), doc="sha256 of the ingest fingerprint (embedder + chunking + BM25).")
    n_chunks: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="built", index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    built_by: Mapped[str] = mapped_column(String(120))
    submitted_by: Mapped[str | None] = mapped_column(String(120))
    approved_by: Mapped[str | None] = mapped_column(String(120))
    published_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    versions: Mapped[list[GuidelineVersion]] = relationship(secondary=release_versions, order_by="GuidelineVersion.id")


class Answer(Base):
    """One served response (question masked). ``id`` is the ``query_id`` returned to the client."""

    __tablename__ = "cur_answers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    release_id: Mapped[int | None] = mapped_column(ForeignKey("cur_releases.id"), index=True)
    index_version: Mapped[str | None] = mapped_column(String(80))
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(64))
    answer: Mapped[str | None] = mapped_column(Text)
    sentences: Mapped[list[Any]] = mapped_column(JSON, default=list)
    citations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(120))

    release: Mapped[IndexRelease | None] = relationship()


class Feedback(Base):
    __tablename__ = "cur_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[str] = mapped_column(ForeignKey("cur_answers.id", ondelete="CASCADE"), index=True)
    reviewer: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    rating: Mapped[int | None] = mapped_column(Integer, doc="1 (harmful) .. 5 (exactly right).")
    expected: Mapped[str | None] = mapped_column(String(16), doc="What the service should have done: answer, abstain, refuse.")
    comment: Mapped[str | None] = mapped_column(Text)
    sentence_verdicts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    citation_verdicts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    correction: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    answer: Mapped[Answer] = relationship()


class CurationItem(Base):
    __tablename__ = "cur_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("cur_feedback.id", ondelete="CASCADE"), unique=True)
    query_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    assignee: Mapped[str | None] = mapped_column(String(120))
    resolution: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    feedback: Mapped[Feedback] = relationship()


class AuditEvent(Base):
    """Append-only: the code only ever inserts (and PostgreSQL refuses UPDATE/DELETE, see migration 0002)."""

    __tablename__ = "cur_audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(80))
    before_hash: Mapped[str | None] = mapped_column(String(64))
    after_hash: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ApiKey(Base):
    __tablename__ = "cur_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True, doc="The person or client; self-approval is checked by name.")
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16), doc="First characters of the key, shown in listings.")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, doc="sha256 of the key; the key itself is never stored.")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
