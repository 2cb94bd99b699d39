"""`guideground calibrate|safety train`: fit the sentence scorer and abstention gate, train the request screen.

Registered on the root app in app/cli.py (``app.command()(cli_train.calibrate)``,
``app.add_typer(cli_train.safety_app, name="safety")``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli_common import JsonOpt, err, guard, print_json, progress, settings
from app.settings import Settings

safety_app = typer.Typer(help="Train and check the harmful-request screen.", no_args_is_help=True)


def _train(as_json: bool, quiet: bool, work: Callable[[Settings, Any], dict[str, Any]], said: Callable[[Settings, dict[str, Any]], list[str]]) -> None:
    """Run a training job (``work(settings, progress callback)``) with progress bars (none with --json or --quiet), then
    print its report (--json) or ``said(settings, report)``; a bad setting or failure is a clear error (``guard``)."""

    def run() -> None:
        s = settings()
        with progress(not quiet and not as_json) as cb:
            report = work(s, cb)
        if as_json:
            print_json(report)
        elif not quiet:
            for line in said(s, report):
                err.print(line)

    guard(run, as_json)


@safety_app.command("train")
def safety_train(
    out_path: Annotated[Path | None, typer.Option("--out", help="Artefact path (default: settings safety.screen_file).")] = None,
    cases_out: Annotated[Path | None, typer.Option("--cases-out", help="Write the held-out test split as eval cases (JSONL).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed for sampling and splits.")] = 13,
    shared_dir: Annotated[Path | None, typer.Option("--shared-dir", help="Shared data (default: settings data.shared_dir).")] = None,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Train the request screen on MedSafetyBench (harmful) vs MedQuAD + benign-sensitive questions."""
    from app.safety.screen import train_screen

    _train(as_json, quiet,
           lambda s, cb: train_screen(shared_dir or s.data.shared_dir, out_path or s.safety.screen_file, cases_out, seed=seed, progress=cb,
                                      feedback_file=s.curation.feedback_dir / "screen.jsonl"),  # confirmed clinician feedback
           lambda s, r: [f"screen written to {out_path or s.safety.screen_file}", json.dumps(r.get("test", r), indent=2, default=str)[:3000]])


@safety_app.command("train-pairs")
def safety_train_pairs(
    out_path: Annotated[Path | None, typer.Option("--out", help="Artefact path (default: settings safety.pairs_member_file).")] = None,
    max_frr: Annotated[float, typer.Option("--max-frr", min=0.0, max=1.0, help="Held-out legitimate pairs refused at most (threshold rule).")] = 0.02,
    max_anchor_frr: Annotated[float, typer.Option("--max-anchor-frr", min=0.0, max=1.0, help="Held-out legitimate dev-set questions refused at most.")] = 0.0025,
    limit: Annotated[int | None, typer.Option("--limit", min=2, help="Use only the first N pairs of each writer (a quick check).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 13,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Train the paired-request member (evalsets/screen_probes/pairs; opt-in when serving: GUIDEGROUND_SAFETY__PAIRS_MEMBER=true)."""
    from app.safety.pairs import train_pairs_member
    from ingest.embed import get_embedder

    _train(as_json, quiet,
           lambda s, cb: train_pairs_member(out_path or s.safety.pairs_member_file, get_embedder(s.ingest.embedding), max_frr=max_frr,
                                            max_anchor_frr=max_anchor_frr, seed=seed, limit=limit, progress=cb),
           lambda s, r: [f"member written to {out_path or s.safety.pairs_member_file} (threshold {r['threshold']:.4f})",
                         json.dumps(r["leave_one_writer_out"], indent=2)])


def calibrate(
    out_path: Annotated[Path | None, typer.Option("--out", help="Calibration file (default: settings abstain.calibration_file).")] = None,
    work_dir: Annotated[Path, typer.Option("--work-dir", help="Where the calibration corpora and indexes are built.")] = Path("var/calibration"),
    guideline_index: Annotated[Path | None, typer.Option("--guideline-index", help="An index of ../shared/data/guidelines (default: built in --work-dir).")] = None,
    clinician: Annotated[Path, typer.Option("--clinician", help="Folder with the clinician dev set's fit.jsonl and test.jsonl.")] = Path("evalsets/clinician"),
    feedback: Annotated[Path | None, typer.Option("--feedback", help="Extra labelled cases from the curation queue (default: curation.feedback_dir/abstain.jsonl when it exists).")] = None,
    docs: Annotated[int, typer.Option("--docs", help="MedQuAD documents kept in the index (0: no MedQuAD).")] = 800,
    heldout: Annotated[int, typer.Option("--heldout", help="MedQuAD documents removed (their questions must be abstained on).")] = 250,
    max_questions: Annotated[int, typer.Option("--max-questions", help="MedQuAD questions used (half answerable).")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 13,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Fit the sentence scorer and the abstention gate (clinician fit split + MedQuAD) and store them with their report."""
    from app.calibration.run import calibrate as run_calibration

    _train(as_json, quiet,
           lambda s, cb: run_calibration(s, work_dir, out_path or s.abstain.calibration_file, guideline_index, clinician, docs, heldout,
                                         max_questions, seed, feedback or Path(s.curation.feedback_dir) / "abstain.jsonl", progress=cb),
           lambda s, r: [f"calibration written to {out_path or s.abstain.calibration_file}",
                      f"out of fold (fit): {r['out_of_fold']}  AUROC {r['out_of_fold_auroc']}",
                      f"clinician test split: {r['clinician_test']['rates']}  AUROC {r['clinician_test']['auroc']}",
                      f"MedQuAD held-out: {r['medquad_heldout']['rates']}  AUROC {r['medquad_heldout']['auroc']}"])
