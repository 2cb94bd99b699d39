"""The default `pytest` run leaves out the tests marked slow and says so; `--with-slow` (make test, CI), `-m` and a
named file run what they ask for (tests/conftest.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _collect(*args: str) -> tuple[int, int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    m = re.search(r"(\d+)/(\d+) tests collected|(\d+) tests? collected", proc.stdout)
    assert m, proc.stdout[-1000:]
    kept, total = (int(m[1]), int(m[2])) if m[1] else (int(m[3]), int(m[3]))
    return kept, total, proc.stdout


def test_default_run_leaves_out_slow_tests_and_says_how_to_run_them() -> None:
    kept, total, out = _collect()
    left_out = total - kept
    assert left_out >= 10 and "tests/test_first_run.py::test_make_run_on_a_fresh_clone_without_shared_data" not in out
    assert f"{left_out} tests marked slow are not in the default run" in out and "make test" in out
    every, total_all, out_all = _collect("--with-slow")
    assert every == total_all == total and "test_make_run_on_a_fresh_clone_without_shared_data" in out_all
    slow, _, _ = _collect("-m", "slow")
    assert slow == left_out


def test_a_named_slow_test_runs() -> None:
    kept, total, out = _collect("tests/test_first_run.py")
    assert kept == total >= 1 and "not in the default run" not in out
