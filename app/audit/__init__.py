"""Audit trail of answered, abstained and refused queries (masked), and user feedback."""

from app.audit.store import FEEDBACK_LABELS, STATUSES, AuditStore

__all__ = ["FEEDBACK_LABELS", "STATUSES", "AuditStore"]
