"""API keys: created once (the key is shown once), stored as sha256 only, looked up by hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.curation import audit
from app.curation.errors import Unauthorized
from app.curation.models import ROLES, ApiKey, utcnow
from app.curation.roles import Actor
from app.errors import BadInput, NotFound

KEY_PREFIX = "gg_"


def hash_key(key: str) -> str:
    # Keys are 256-bit random tokens, so a fast hash is enough (no dictionary to guess from).
    return hashlib.sha256(key.encode()).hexdigest()


def key_dict(k: ApiKey) -> dict[str, Any]:
    return {
        "id": k.id, "name": k.name, "role": k.role, "prefix": k.prefix, "created_at": _iso(k.created_at),
        "created_by": k.created_by, "revoked_at": _iso(k.revoked_at),
    }


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def create_key(s: Session, actor: Actor, name: str, role: str) -> tuple[ApiKey, str]:
    """A new key for ``name`` with ``role``; returns the row and the key (never stored, shown once)."""
    name = name.strip()
    if not name or len(name) > 120:
        raise BadInput("key name must be 1-120 characters", hint="use the person's or client's name")
    if role not in ROLES:
        raise BadInput(f"unknown role '{role}'", hint=f"one of {', '.join(ROLES)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, role=role, prefix=key[:10], key_hash=hash_key(key), created_by=actor.name)
    s.add(row)
    s.flush()
    audit.record(s, actor, "key.create", "api_key", row.id, None, {"name": name, "role": role}, {"name": name, "role": role})
    return row, key


def revoke_key(s: Session, actor: Actor, key_id: int) -> ApiKey:
    row = s.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key {key_id}", hint="list keys with `guideground keys list`")
    before = key_dict(row)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    s.flush()
    audit.record(s, actor, "key.revoke", "api_key", row.id, before, key_dict(row), {"name": row.name})
    return row


def list_keys(s: Session) -> list[ApiKey]:
    return list(s.scalars(select(ApiKey).order_by(ApiKey.id)))


def authenticate(s: Session, key: str) -> Actor:
    row = s.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("invalid or revoked API key", hint="ask an admin for a key (`guideground keys create`)")
    return Actor(row.name, row.role, row.id)
