"""`guideground keys create|list|revoke|audit`: API keys, roles and the audit trail.

Its group is mounted by app/cli.py; the shared options and helpers are in app/curation/cli_common.py.
"""

from __future__ import annotations

from typing import Annotated

import typer

from app.curation.cli_common import AsOpt, JsonOpt, actor, run_with_service, sub

keys_app = sub("API keys and roles (reader < clinician < curator < approver < admin).")


# ------------------------------------------------------------------------------------------ keys
@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="Person or client.")],
    role: Annotated[str, typer.Option("--role", help="reader, clinician, curator, approver or admin.")],
    as_: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API key; the key is printed once and only its hash is stored."""
    run_with_service(lambda svc: svc.create_key(actor(as_), name, role), as_json)


@keys_app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """List keys (prefix, name, role, revoked)."""
    run_with_service(lambda svc: svc.list_keys(), as_json)


@keys_app.command("revoke")
def keys_revoke(key_id: int, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Revoke a key."""
    run_with_service(lambda svc: svc.revoke_key(actor(as_), key_id), as_json)


@keys_app.command("audit")
def keys_audit(
    object_type: Annotated[str | None, typer.Option("--type")] = None,
    object_id: Annotated[str | None, typer.Option("--id")] = None,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The audit trail (every curation step with its actor)."""
    run_with_service(lambda svc: svc.audit_events(object_type=object_type, object_id=object_id, actor=actor), as_json)
