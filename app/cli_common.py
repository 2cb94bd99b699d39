"""Shared by the `guideground` command modules (app/cli.py and the app/cli_*.py it registers).

The consoles, the --index/--json options, settings loading (a bad GUIDEGROUND_* variable becomes one
usage error), JSON output, the error exit, progress bars and log masking.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from app.errors import GuidegroundError, UsageError
from app.settings import Settings, get_settings

err = Console(stderr=True)
out = Console()

IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index root (default: settings index.dir).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # pydantic ValidationError / SettingsError from a bad env var
        raise settings_error(exc) from None


def settings_error(exc: Exception) -> UsageError:
    """One line naming the bad GUIDEGROUND_* variable, what is wrong with it, and a hint."""
    from pydantic import ValidationError

    hint = "fix or unset that variable; `guideground config` (with it unset) lists every setting, its env var and default"
    if isinstance(exc, ValidationError) and exc.errors():
        e = exc.errors()[0]
        var = "GUIDEGROUND_" + "__".join(str(p) for p in e.get("loc", ())).upper()
        value = os.environ.get(var)
        shown = f"={value!r}" if value is not None else ""
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return UsageError(f"invalid setting {var}{shown}: {e.get('msg', 'invalid')}{more}", hint=hint)
    first = (str(exc).strip().splitlines() or ["invalid settings"])[0]
    field = re.search(r'field "([^"]+)"', first)
    if field:  # pydantic-settings: a section variable that is not valid JSON
        return UsageError(f"invalid setting GUIDEGROUND_{field.group(1).upper()}: {first}", hint=hint)
    return UsageError(f"invalid settings: {first}", hint=hint)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(exc: GuidegroundError, as_json: bool = False) -> None:
    if as_json:
        print_json(exc.to_dict())
    # escaped: a message quoting a path or text with [brackets] is printed as is, not read as markup;
    # soft_wrap: paths and line numbers stay on one line (copy-pasteable, greppable)
    err.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False, soft_wrap=True)
    if exc.hint:
        err.print(f"[dim]hint: {escape(exc.hint)}[/dim]", soft_wrap=True)
    raise typer.Exit(exc.exit_code)


@contextmanager
def progress(enabled: bool):
    """Yields a callback (stage, done, total) drawing rich progress bars on stderr."""
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as prog:
        tasks: dict[str, Any] = {}

        def cb(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = prog.add_task(stage, total=total)
            prog.update(tasks[stage], completed=done, total=total)

        yield cb


def guard(fn: Callable[[], None], as_json: bool = False) -> None:
    try:
        fn()
    except GuidegroundError as exc:
        fail(exc, as_json)


def install_masking() -> None:
    try:
        from app.safety.pii import install_log_masking
    except ImportError:  # pragma: no cover
        return
    install_log_masking()
