"""The append-only audit trail: every state change of a curation object, with actor and content hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.curation.models import AuditEvent
from app.curation.roles import Actor


def state_hash(state: Any) -> str | None:
    """sha256 of a canonical JSON rendering of an object's state (None for 'did not exist')."""
    if state is None:
        return None
    blob = json.dumps(state, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def record(
    s: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    before: Any = None,
    after: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    ev = AuditEvent(
        actor=actor.name,
        role=actor.role,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before_hash=state_hash(before),
        after_hash=state_hash(after),
        detail=detail or {},
    )
    s.add(ev)
    s.flush()
    return ev


def event_dict(ev: AuditEvent) -> dict[str, Any]:
    return {
        "id": ev.id,
        "at": ev.at.isoformat() if isinstance(ev.at, datetime) else ev.at,
        "actor": ev.actor,
        "role": ev.role,
        "action": ev.action,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
        "before_hash": ev.before_hash,
        "after_hash": ev.after_hash,
        "detail": ev.detail,
    }


def list_events(
    s: Session, object_type: str | None = None, object_id: str | None = None, actor: str | None = None, limit: int = 500
) -> Sequence[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id).limit(limit)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == str(object_id))
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    return s.scalars(stmt).all()
