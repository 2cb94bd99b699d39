"""Answers (every served response), claim-level feedback, the curation queue; append-only audit on PostgreSQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.curation.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION cur_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'cur_audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cur_audit_events_append_only BEFORE UPDATE OR DELETE ON cur_audit_events
  FOR EACH ROW EXECUTE FUNCTION cur_audit_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "cur_answers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("release_id", sa.Integer, sa.ForeignKey("cur_releases.id")),
        sa.Column("index_version", sa.String(80)),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("category", sa.String(64)),
        sa.Column("answer", sa.Text),
        sa.Column("sentences", sa.JSON, nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
        sa.Column("timings", sa.JSON, nullable=False),
        sa.Column("request_id", sa.String(64)),
        sa.Column("actor", sa.String(120)),
    )
    op.create_index("ix_cur_answers_created_at", "cur_answers", ["created_at"])
    op.create_index("ix_cur_answers_release_id", "cur_answers", ["release_id"])
    op.create_table(
        "cur_feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("query_id", sa.String(32), sa.ForeignKey("cur_answers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("reviewer", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("rating", sa.Integer),
        sa.Column("expected", sa.String(16)),
        sa.Column("comment", sa.Text),
        sa.Column("sentence_verdicts", sa.JSON, nullable=False),
        sa.Column("citation_verdicts", sa.JSON, nullable=False),
        sa.Column("correction", sa.JSON),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_cur_feedback_query_id", "cur_feedback", ["query_id"])
    op.create_table(
        "cur_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("feedback_id", sa.Integer, sa.ForeignKey("cur_feedback.id", ondelete="CASCADE"), nullable=False, unique=True),
        sa.Column("query_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(120)),
        sa.Column("resolution", sa.JSON),
        sa.Column("resolved_by", sa.String(120)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_cur_items_query_id", "cur_items", ["query_id"])
    op.create_index("ix_cur_items_kind", "cur_items", ["kind"])
    op.create_index("ix_cur_items_status", "cur_items", ["status"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_APPEND_ONLY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS cur_audit_events_append_only ON cur_audit_events")
        op.execute("DROP FUNCTION IF EXISTS cur_audit_append_only()")
    for t in ("cur_items", "cur_feedback", "cur_answers"):
        op.drop_table(t)
