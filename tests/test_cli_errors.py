"""CLI errors say what went wrong as is (a path with [brackets] is not read as rich markup) and what to do next."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app


def _run(args: list[str]) -> tuple[int, str]:
    res = CliRunner().invoke(app, args)
    return res.exit_code, res.output + (res.stderr if res.stderr_bytes is not None else "")


@pytest.mark.parametrize("args", [["inspect"], ["ask", "At what age should screening start?"]])
def test_error_message_keeps_bracketed_text(args: list[str], tmp_path: Path) -> None:
    where = tmp_path / "no[bold]where"
    code, text = _run([*args, "--index", str(where)])
    assert code != 0
    assert f"no published index under {where}" in text
    assert f"--index {where}" in text  # the hint too


def test_eval_error_keeps_bracketed_text(tmp_path: Path) -> None:
    cases = tmp_path / "cases[red].jsonl"
    code, text = _run(["eval", "--cases", str(cases)])
    assert code != 0
    assert f"no case file at {cases}" in text


def test_versions_on_an_empty_index_say_how_to_build_one(tmp_path: Path) -> None:
    where = tmp_path / "idx[1]"
    code, text = _run(["versions", "list", "--index", str(where)])
    assert code == 0 and f"no published versions under {where}" in text and f"--index {where}" in text
    code, text = _run(["versions", "rollback", "v0001", "--index", str(where)])
    assert code != 0 and f"no version v0001 under {where}" in text and "none is published there" in text
