"""Registry, index releases, API keys and the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.curation.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cur_guidelines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(120), nullable=False, unique=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("issuer", sa.String(300), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
    )
    op.create_table(
        "cur_guideline_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("guideline_id", sa.Integer, sa.ForeignKey("cur_guidelines.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(60), nullable=False),
        sa.Column("published", sa.Date),
        sa.Column("effective", sa.Date),
        sa.Column("next_review", sa.Date),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("stored_path", sa.String(1000), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(500)),
        sa.Column("supersedes_id", sa.Integer, sa.ForeignKey("cur_guideline_versions.id")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.UniqueConstraint("guideline_id", "label", name="uq_version_label"),
    )
    op.create_index("ix_cur_guideline_versions_guideline_id", "cur_guideline_versions", ["guideline_id"])
    op.create_index("ix_cur_guideline_versions_sha256", "cur_guideline_versions", ["sha256"])
    op.create_index("ix_cur_guideline_versions_status", "cur_guideline_versions", ["status"])
    op.create_table(
        "cur_releases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("index_version", sa.String(80), nullable=False, unique=True),
        sa.Column("build_root", sa.String(1000), nullable=False),
        sa.Column("embedder", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("n_chunks", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("built_by", sa.String(120), nullable=False),
        sa.Column("submitted_by", sa.String(120)),
        sa.Column("approved_by", sa.String(120)),
        sa.Column("published_by", sa.String(120)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("published_at", UTCDateTime),
    )
    op.create_index("ix_cur_releases_status", "cur_releases", ["status"])
    op.create_table(
        "cur_release_versions",
        sa.Column("release_id", sa.Integer, sa.ForeignKey("cur_releases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("cur_guideline_versions.id"), primary_key=True),
    )
    op.create_table(
        "cur_api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_cur_api_keys_name", "cur_api_keys", ["name"])
    op.create_table(
        "cur_audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("object_type", sa.String(40), nullable=False),
        sa.Column("object_id", sa.String(80), nullable=False),
        sa.Column("before_hash", sa.String(64)),
        sa.Column("after_hash", sa.String(64)),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_cur_audit_events_at", "cur_audit_events", ["at"])
    op.create_index("ix_cur_audit_events_actor", "cur_audit_events", ["actor"])
    op.create_index("ix_cur_audit_events_action", "cur_audit_events", ["action"])


def downgrade() -> None:
    for t in ("cur_audit_events", "cur_api_keys", "cur_release_versions", "cur_releases", "cur_guideline_versions", "cur_guidelines"):
        op.drop_table(t)
