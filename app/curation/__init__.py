"""Humans in the loop: guideline registry, index releases with approval, answers, claim-level feedback,
the curation queue, the audit trail and API keys (SQLAlchemy 2 models, Alembic migrations)."""
