"""`guideground` command line. Every reporting command has --json; errors exit 1 (failure) or 2 (usage).

The root app: `config` and `main` live here; the other commands are defined in app/cli_index.py
(ingest, inspect, versions), app/cli_query.py (serve, ask) and app/cli_train.py (calibrate, safety)
and registered below, in the order `guideground --help` lists them. Shared helpers: app/cli_common.py.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import typer
from rich.table import Table

from app import cli_index, cli_query, cli_train
from app.cli_common import JsonOpt, err, guard, install_masking, out, print_json, settings, settings_error
from app.errors import GuidegroundError

app = typer.Typer(
    help="guideground: answers clinical questions from clinical practice guidelines, and only from them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(cli_index.versions_app, name="versions")


def _mount_eval() -> None:
    from app.eval.cli import eval_app

    app.add_typer(eval_app, name="eval")


_mount_eval()

from app.curation.cli_db import db_app  # noqa: E402
from app.curation.cli_feedback import curation_app, feedback_app  # noqa: E402
from app.curation.cli_guidelines import guidelines_app  # noqa: E402
from app.curation.cli_keys import keys_app  # noqa: E402
from app.curation.cli_releases import releases_app  # noqa: E402

app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(guidelines_app, name="guidelines")
app.add_typer(releases_app, name="releases")
app.add_typer(feedback_app, name="feedback")
app.add_typer(curation_app, name="curation")


@app.command()
def config(as_json: JsonOpt = False) -> None:
    """Print the effective settings (defaults overridden by GUIDEGROUND_* environment variables)."""

    def run() -> None:
        from app.db import mask_url

        s = settings()
        data = json.loads(s.model_dump_json())
        data["database"]["url"] = mask_url(data["database"]["url"])  # never print the password
        if as_json:
            print_json(data)
            return
        table = Table("setting", "value", "env var")

        def walk(prefix: list[str], d: dict[str, Any]) -> None:
            for k, v in d.items():
                if isinstance(v, dict):
                    walk([*prefix, k], v)
                else:
                    table.add_row(".".join([*prefix, k]), json.dumps(v), "GUIDEGROUND_" + "__".join([*prefix, k]).upper())

        walk([], data)
        out.print(table)

    guard(run, as_json)


app.command()(cli_index.ingest)
app.command()(cli_index.inspect)
app.command()(cli_query.serve)
app.command()(cli_query.ask)
app.command()(cli_train.calibrate)
app.add_typer(cli_train.safety_app, name="safety")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("bm25s", "unstructured", "sentence_transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_masking()
    try:
        app()
    except GuidegroundError as exc:  # raised outside a command's own handling (e.g. settings read first)
        err.print(f"[red]error:[/red] {exc.message}", soft_wrap=True)
        if exc.hint:
            err.print(f"[dim]hint: {exc.hint}[/dim]", soft_wrap=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        from pydantic import ValidationError
        from pydantic_settings import SettingsError

        # Only the settings tree's own errors are "a bad setting"; any other model's error is a bug to show.
        if not (isinstance(exc, SettingsError) or (isinstance(exc, ValidationError) and exc.title == "Settings")):
            raise
        bad = settings_error(exc)
        err.print(f"[red]error:[/red] {bad.message}", soft_wrap=True, markup=False)
        err.print(f"hint: {bad.hint}", soft_wrap=True, style="dim")
        sys.exit(bad.exit_code)


if __name__ == "__main__":
    main()
