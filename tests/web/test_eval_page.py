"""The evaluator pages: the latest `guideground eval` report with its charts, and the earlier runs."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

REPO = Path(__file__).resolve().parents[2]


def write_run(live, name: str, limit: int) -> Path:
    """A real evaluation of a few demo cases through the served QueryService, written as `guideground eval` does."""
    from app.eval.cases import load_cases
    from app.eval.cli import evaluate_service
    from app.eval.report import write_report
    from app.eval.runner import select_cases

    cases, _ = load_cases(REPO / "evalsets" / "demo_questions.jsonl")
    rep = evaluate_service(live.app.state.service, select_cases(cases, limit, 7), {"cases_file": "demo_questions.jsonl", "index": str(live.index_dir)})
    out = Path(live.app.state.settings.web.reports_dir) / name
    write_report(rep, out)
    return out


def test_latest_report_and_earlier_runs(live, page, shot, axe):
    page.goto(f"{live.url}/eval")
    expect(page.locator(".runs")).to_contain_text("No evaluation runs")
    write_run(live, "demo-earlier", 1)
    write_run(live, "demo-latest", 2)
    page.goto(f"{live.url}/eval")
    runs = page.locator(".runs li a")
    expect(runs).to_have_count(2)
    assert runs.all_text_contents() == ["demo-latest", "demo-earlier"]  # newest first
    expect(runs.first).to_have_attribute("aria-current", "page")
    report = page.locator(".eval-report")
    expect(report.locator("h1")).to_have_text("guideground evaluation")
    expect(report).to_contain_text("2 cases")
    charts = report.locator("img")
    assert charts.count() >= 2 and all((charts.nth(i).get_attribute("src") or "").startswith("data:image/png") for i in range(charts.count()))
    assert page.evaluate("Array.from(document.querySelectorAll('.eval-report img')).every(i => i.naturalWidth > 0)")
    shot(page, "eval-report")
    axe(page, "the evaluation report")
    runs.nth(1).click()
    expect(page.locator(".eval-report")).to_contain_text("1 cases")
    page.goto(f"{live.url}/eval/no-such-run")
    expect(page.locator(".report .error")).to_contain_text("no evaluation report named")
