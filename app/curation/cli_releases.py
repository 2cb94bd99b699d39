"""`guideground releases build|list|show|served|submit|approve|reject|publish|rollback`: index releases.

Its group is mounted by app/cli.py; the shared options and helpers are in app/curation/cli_common.py.
"""

from __future__ import annotations

from typing import Annotated

import typer

from app.curation.cli_common import AsOpt, JsonOpt, actor, run_with_service, sub

releases_app = sub("Index releases: build, submit, approve, publish, rollback.")


# ------------------------------------------------------------------------------------------ releases
@releases_app.command("build")
def releases_build(notes: Annotated[str | None, typer.Option("--notes")] = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Ingest the registry's citable versions into a new release (not served until approved and published)."""
    run_with_service(lambda svc: svc.build_release(actor(as_), notes), as_json)


@releases_app.command("list")
def releases_list(as_json: JsonOpt = False) -> None:
    """All releases."""
    run_with_service(lambda svc: svc.list_releases(), as_json)


@releases_app.command("show")
def releases_show(release_id: int, as_json: JsonOpt = False) -> None:
    """One release with its guideline versions."""
    run_with_service(lambda svc: svc.get_release(release_id), as_json)


@releases_app.command("served")
def releases_served(as_json: JsonOpt = False) -> None:
    """The served index version and its release."""
    run_with_service(lambda svc: svc.served(), as_json)


@releases_app.command("submit")
def releases_submit(release_id: int, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Submit a built release for approval."""
    run_with_service(lambda svc: svc.submit_release(actor(as_), release_id), as_json)


@releases_app.command("approve")
def releases_approve(release_id: int, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Approve a submitted release (refused for its submitter)."""
    run_with_service(lambda svc: svc.approve_release(actor(as_), release_id), as_json)


@releases_app.command("reject")
def releases_reject(release_id: int, reason: Annotated[str, typer.Option("--reason")], as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Reject a submitted or approved release."""
    run_with_service(lambda svc: svc.reject_release(actor(as_), release_id, reason), as_json)


@releases_app.command("publish")
def releases_publish(release_id: int, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Serve an approved release (a running server switches within server.reload_check_seconds)."""
    run_with_service(lambda svc: svc.publish_release(actor(as_), release_id), as_json)


@releases_app.command("rollback")
def releases_rollback(
    release_id: int, force: Annotated[bool, typer.Option("--force")] = False, as_: AsOpt = None, as_json: JsonOpt = False
) -> None:
    """Serve an earlier published release again."""
    run_with_service(lambda svc: svc.rollback(actor(as_), release_id, force), as_json)
