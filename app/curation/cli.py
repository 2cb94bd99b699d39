"""`guideground db|keys|guidelines|releases|feedback|curation …`: the curation CLI, mirroring the API.

The CLI works on the database directly (GUIDEGROUND_DATABASE__URL), so it acts with admin rights as
``cli:<user>``, or as ``--as NAME`` (the name the self-approval rule compares). Every command has --json.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.curation.roles import Actor, cli_actor
from app.errors import GuidegroundError, UsageError

err = Console(stderr=True)
out = Console()

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsOpt = Annotated[str | None, typer.Option("--as", help="Act as this name (default cli:<user>); approval must come from another name.")]


def _sub(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


db_app = _sub("Curation database: migrations (Alembic).")
keys_app = _sub("API keys and roles (reader < clinician < curator < approver < admin).")
guidelines_app = _sub("The guideline registry: guidelines and their versions.")
releases_app = _sub("Index releases: build, submit, approve, publish, rollback.")
feedback_app = _sub("Clinician feedback as evaluation cases and training data.")
curation_app = _sub("The curation queue.")


def _service() -> Any:
    from app.curation.service import CurationService
    from app.settings import get_settings

    try:
        s = get_settings()
    except Exception as exc:
        raise UsageError(f"invalid settings: {exc}", hint="check GUIDEGROUND_* environment variables") from None
    return CurationService(s)


def _print(data: Any, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    rows = data if isinstance(data, list) else [data]
    if not rows:
        err.print("(none)")
        return
    cols = [k for k, v in rows[0].items() if not isinstance(v, list | dict)]
    t = Table(*cols)
    for r in rows:
        t.add_row(*(escape(str(r.get(c, ""))) for c in cols))
    out.print(t)


def _run(fn: Callable[[Any], Any], as_json: bool) -> None:
    """Open the service, run ``fn``, print its result; errors exit 1 or 2 with a one-line message."""
    try:
        svc = _service()
        try:
            _print(fn(svc), as_json)
        finally:
            svc.dispose()
    except GuidegroundError as exc:
        if as_json:
            sys.stdout.write(json.dumps(exc.to_dict(), indent=2) + "\n")
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        if exc.hint:
            err.print(f"[dim]hint: {escape(exc.hint)}[/dim]", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


def _actor(name: str | None) -> Actor:
    return cli_actor(name)


# ------------------------------------------------------------------------------------------ db
@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Option(help="Target revision.")] = "head", as_json: JsonOpt = False) -> None:
    """Create or migrate the curation tables (alembic upgrade)."""
    from app.curation.db import Database, current_revision, mask_url, upgrade

    def run(_: Any) -> dict[str, Any]:
        from app.settings import get_settings

        db = Database(get_settings().database.url, migrate=False)
        try:
            before = current_revision(db.engine)
            after = upgrade(db.engine, revision)
        finally:
            db.dispose()
        return {"database": mask_url(db.url), "before": before, "after": after}

    _run_plain(run, as_json)


@db_app.command("current")
def db_current(as_json: JsonOpt = False) -> None:
    """The database's migration revision and the code's head."""
    from app.curation.db import Database, current_revision, head_revision, mask_url

    def run(_: Any) -> dict[str, Any]:
        from app.settings import get_settings

        db = Database(get_settings().database.url, migrate=False)
        try:
            return {"database": mask_url(db.url), "current": current_revision(db.engine), "head": head_revision()}
        finally:
            db.dispose()

    _run_plain(run, as_json)


def _run_plain(fn: Callable[[Any], Any], as_json: bool) -> None:
    try:
        _print(fn(None), as_json)
    except GuidegroundError as exc:
        if as_json:
            sys.stdout.write(json.dumps(exc.to_dict(), indent=2) + "\n")
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


# ------------------------------------------------------------------------------------------ keys
@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="Person or client.")],
    role: Annotated[str, typer.Option("--role", help="reader, clinician, curator, approver or admin.")],
    as_: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API key; the key is printed once and only its hash is stored."""
    _run(lambda svc: svc.create_key(_actor(as_), name, role), as_json)


@keys_app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """List keys (prefix, name, role, revoked)."""
    _run(lambda svc: svc.list_keys(), as_json)


@keys_app.command("revoke")
def keys_revoke(key_id: int, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Revoke a key."""
    _run(lambda svc: svc.revoke_key(_actor(as_), key_id), as_json)


@keys_app.command("audit")
def keys_audit(
    object_type: Annotated[str | None, typer.Option("--type")] = None,
    object_id: Annotated[str | None, typer.Option("--id")] = None,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The audit trail (every curation step with its actor)."""
    _run(lambda svc: svc.audit_events(object_type=object_type, object_id=object_id, actor=actor), as_json)


# ------------------------------------------------------------------------------------------ guidelines
@guidelines_app.command("create")
def guidelines_create(
    slug: str,
    title: Annotated[str, typer.Option("--title")],
    issuer: Annotated[str, typer.Option("--issuer")] = "",
    topic: Annotated[str, typer.Option("--topic")] = "",
    url: Annotated[str, typer.Option("--url")] = "",
    as_: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a guideline (its slug becomes the doc_id in every index)."""
    _run(lambda svc: svc.create_guideline(_actor(as_), slug=slug, title=title, issuer=issuer, topic=topic, url=url), as_json)


@guidelines_app.command("list")
def guidelines_list(as_json: JsonOpt = False) -> None:
    """Registered guidelines."""
    _run(lambda svc: svc.list_guidelines(), as_json)


@guidelines_app.command("show")
def guidelines_show(ref: str, as_json: JsonOpt = False) -> None:
    """One guideline (id or slug) with its versions."""
    _run(lambda svc: svc.get_guideline(ref) if as_json else svc.get_guideline(ref)["versions"], as_json)


def _date(v: str | None) -> date | None:
    if v is None:
        return None
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise UsageError(f"invalid date '{v}'", hint="use YYYY-MM-DD") from None


@guidelines_app.command("add-version")
def guidelines_add_version(
    ref: str,
    file: Path,
    label: Annotated[str, typer.Option("--label", help="Version label, e.g. 2026.1.")],
    published: Annotated[str | None, typer.Option("--published", help="YYYY-MM-DD")] = None,
    effective: Annotated[str | None, typer.Option("--effective", help="YYYY-MM-DD")] = None,
    next_review: Annotated[str | None, typer.Option("--next-review", help="YYYY-MM-DD")] = None,
    supersedes: Annotated[int | None, typer.Option("--supersedes", help="Id of the version this one replaces.")] = None,
    as_: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a version of a guideline from a file (status draft)."""

    def run(svc: Any) -> Any:
        if not file.is_file():
            raise UsageError(f"no file at {file}")
        return svc.add_version(_actor(as_), ref, label, file.name, file.read_bytes(), published=_date(published),
                               effective=_date(effective), next_review=_date(next_review), supersedes_id=supersedes)

    _run(run, as_json)


@guidelines_app.command("retire")
def guidelines_retire(version_id: int, reason: Annotated[str, typer.Option("--reason")], as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Retire a version: no future release contains it."""
    _run(lambda svc: svc.retire_version(_actor(as_), version_id, reason), as_json)


# ------------------------------------------------------------------------------------------ releases
@releases_app.command("build")
def releases_build(notes: Annotated[str | None, typer.Option("--notes")] = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Ingest the registry's citable versions into a new release (not served until approved and published)."""
    _run(lambda svc: svc.build_release(_actor(as_), notes), as_json)


@releases_app.command("list")
def releases_list(as_json: JsonOpt = False) -> None:
    """All releases."""
    _run(lambda svc: svc.list_releases(), as_json)


@releases_app.command("show")
def releases_show(release_id: int, as_json: JsonOpt = False) -> None:
    """One release with its guideline versions."""
    _run(lambda svc: svc.get_release(release_id), as_json)


@releases_app.command("served")
def releases_served(as_json: JsonOpt = False) -> None:
    """The served index version and its release."""
    _run(lambda svc: svc.served(), as_json)


@releases_app.command("submit")
def releases_submit(release_id: int, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Submit a built release for approval."""
    _run(lambda svc: svc.submit_release(_actor(as_), release_id), as_json)


@releases_app.command("approve")
def releases_approve(release_id: int, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Approve a submitted release (refused for its submitter)."""
    _run(lambda svc: svc.approve_release(_actor(as_), release_id), as_json)


@releases_app.command("reject")
def releases_reject(release_id: int, reason: Annotated[str, typer.Option("--reason")], as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Reject a submitted or approved release."""
    _run(lambda svc: svc.reject_release(_actor(as_), release_id, reason), as_json)


@releases_app.command("publish")
def releases_publish(release_id: int, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Serve an approved release (a running server switches within server.reload_check_seconds)."""
    _run(lambda svc: svc.publish_release(_actor(as_), release_id), as_json)


@releases_app.command("rollback")
def releases_rollback(
    release_id: int, force: Annotated[bool, typer.Option("--force")] = False, as_: AsOpt = None, as_json: JsonOpt = False
) -> None:
    """Serve an earlier published release again."""
    _run(lambda svc: svc.rollback(_actor(as_), release_id, force), as_json)


# ------------------------------------------------------------------------------------------ feedback
@feedback_app.command("export")
def feedback_export(
    out_path: Annotated[Path | None, typer.Option("--out", help="Write the eval cases here (JSONL).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Confirmed, resolved feedback as `guideground eval` cases; also regenerates the training files."""

    def run(svc: Any) -> dict[str, Any]:
        from app.eval.cases import EvalCase, write_cases

        cases = svc.export_cases()
        if out_path is not None:
            write_cases(out_path, [EvalCase.model_validate(c) for c in cases])
        return {"n_cases": len(cases), "out": str(out_path) if out_path else None, "training": svc.write_training(),
                **({"cases": cases} if out_path is None else {})}

    _run(run, as_json)


# ------------------------------------------------------------------------------------------ curation queue
@curation_app.command("list")
def curation_list(
    status: Annotated[str | None, typer.Option("--status")] = None,
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The queue, oldest first."""
    _run(lambda svc: svc.list_items(status, kind), as_json)


@curation_app.command("show")
def curation_show(item_id: int, as_json: JsonOpt = False) -> None:
    """One item with its feedback and answer."""
    _run(lambda svc: svc.get_item(item_id), as_json)


@curation_app.command("triage")
def curation_triage(item_id: int, assignee: Annotated[str | None, typer.Option("--assignee")] = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Assign an item."""
    _run(lambda svc: svc.triage_item(_actor(as_), item_id, assignee), as_json)


@curation_app.command("resolve")
def curation_resolve(
    item_id: int,
    rejected: Annotated[bool, typer.Option("--not-confirmed", help="The feedback was wrong: no case, no training example.")] = False,
    expected: Annotated[str | None, typer.Option("--expected", help="answer, abstain or refuse")] = None,
    gold_doc: Annotated[list[str] | None, typer.Option("--gold-doc")] = None,
    gold_evidence: Annotated[str | None, typer.Option("--gold-evidence")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    as_: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Resolve an item (confirmed items become eval cases and training examples)."""

    def run(svc: Any) -> Any:
        from pydantic import ValidationError

        from app.curation.queue import ResolveIn

        try:
            res = ResolveIn(confirmed=not rejected, expected=expected, gold_doc_ids=gold_doc or None, gold_evidence=gold_evidence, note=note)
        except ValidationError as exc:
            raise UsageError(f"invalid resolution: {exc.errors()[0]['msg']}") from None
        return svc.resolve_item(_actor(as_), item_id, res)

    _run(run, as_json)


@curation_app.command("dismiss")
def curation_dismiss(item_id: int, note: Annotated[str | None, typer.Option("--note")] = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Dismiss an item."""
    _run(lambda svc: svc.dismiss_item(_actor(as_), item_id, note), as_json)


def mask_db_url(url: str) -> str:
    from app.curation.db import mask_url

    return mask_url(url)
