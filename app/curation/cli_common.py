"""`guideground db|keys|guidelines|releases|feedback|curation …`: the curation CLI, mirroring the API.

The CLI works on the database directly (GUIDEGROUND_DATABASE__URL), so it acts with admin rights as
``cli:<user>``, or as ``--as NAME`` (the name the self-approval rule compares). Every command has --json.

This module holds the options and helpers their commands share. Each group and its commands are in
app/curation/cli_db.py (db), cli_keys.py (keys), cli_guidelines.py (guidelines), cli_releases.py
(releases) and cli_feedback.py (feedback, curation); app/cli.py mounts them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
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


def sub(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


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


def run_with_service(fn: Callable[[Any], Any], as_json: bool) -> None:
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


def actor(name: str | None) -> Actor:
    return cli_actor(name)


def run_plain(fn: Callable[[Any], Any], as_json: bool) -> None:
    try:
        _print(fn(None), as_json)
    except GuidegroundError as exc:
        if as_json:
            sys.stdout.write(json.dumps(exc.to_dict(), indent=2) + "\n")
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
