"""bench/README.md is the index of the benchmarks and experiments: every script in bench/ is in it, and everything it
names is there (a script added without a line, or removed with its line left behind, fails here)."""

from __future__ import annotations

import re
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_bench_readme_lists_every_script_and_only_scripts_that_exist() -> None:
    readme = (BENCH / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z0-9_]+\.py)`", readme))
    present = {p.name for p in BENCH.glob("*.py")}
    assert sorted(present - named) == [], "add a line for each new script to bench/README.md"
    assert sorted(named - present) == [], "bench/README.md names scripts that are not in bench/"
