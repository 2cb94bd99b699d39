"""End to end: the compare gate passes a re-run of the same configuration and fails a degraded one.

Real demo corpus (guidelines/), real embedder, real QueryService; the degraded configuration is
dense-only retrieval with top_k=1, made the way operators make it (a settings copy).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.eval.cases import load_cases
from app.eval.cli import eval_app, evaluate_service
from app.eval.report import write_report
from app.query.service import QueryService

REPO = Path(__file__).resolve().parents[1]
DEMO_QUESTIONS = REPO / "evalsets" / "demo_questions.jsonl"


def _run(settings, root: Path, embedder, out: Path) -> Path:
    svc = QueryService.from_settings(settings, index_dir=root, embedder=embedder)
    cases, _ = load_cases(DEMO_QUESTIONS)
    rep = evaluate_service(svc, cases, {"index": str(root), "cases_file": str(DEMO_QUESTIONS)})
    jpath, _ = write_report(rep, out)
    return jpath


@pytest.mark.slow
def test_compare_gate_fails_on_degraded_config(demo_index, base_settings, embedder, tmp_path):
    root, _ = demo_index
    degraded = base_settings.model_copy(
        update={"retrieval": base_settings.retrieval.model_copy(update={"mode": "dense", "top_k": 1})}
    )
    base = _run(base_settings, root, embedder, tmp_path / "base")
    again = _run(base_settings, root, embedder, tmp_path / "again")
    worse = _run(degraded, root, embedder, tmp_path / "dense-top1")

    runner = CliRunner()
    same = runner.invoke(eval_app, ["--compare", str(base), str(again)])
    assert same.exit_code == 0, f"the same configuration must pass its own gate:\n{same.output}"

    gate = runner.invoke(eval_app, ["--compare", str(base), str(worse), "--json"])
    assert gate.exit_code == 1, f"dense-only top_k=1 should regress a gated metric:\n{gate.output}"
