"""`guideground guidelines create|list|show|add-version|retire`: the guideline registry.

Its group is mounted by app/cli.py; the shared options and helpers are in app/curation/cli_common.py.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from app.curation.cli_common import AsOpt, JsonOpt, actor, run_with_service, sub
from app.errors import UsageError

guidelines_app = sub("The guideline registry: guidelines and their versions.")


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
    run_with_service(lambda svc: svc.create_guideline(actor(as_), slug=slug, title=title, issuer=issuer, topic=topic, url=url), as_json)


@guidelines_app.command("list")
def guidelines_list(as_json: JsonOpt = False) -> None:
    """Registered guidelines."""
    run_with_service(lambda svc: svc.list_guidelines(), as_json)


@guidelines_app.command("show")
def guidelines_show(ref: str, as_json: JsonOpt = False) -> None:
    """One guideline (id or slug) with its versions."""
    run_with_service(lambda svc: svc.get_guideline(ref) if as_json else svc.get_guideline(ref)["versions"], as_json)


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
        return svc.add_version(actor(as_), ref, label, file.name, file.read_bytes(), published=_date(published),
                               effective=_date(effective), next_review=_date(next_review), supersedes_id=supersedes)

    run_with_service(run, as_json)


@guidelines_app.command("retire")
def guidelines_retire(version_id: int, reason: Annotated[str, typer.Option("--reason")], as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Retire a version: no future release contains it."""
    run_with_service(lambda svc: svc.retire_version(actor(as_), version_id, reason), as_json)
