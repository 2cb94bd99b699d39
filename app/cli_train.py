"""`guideground calibrate|safety train`: fit the sentence scorer and abstention gate, train the request screen.

Registered on the root app in app/cli.py (``app.command()(cli_train.calibrate)``,
``app.add_typer(cli_train.safety_app, name="safety")``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli_common import JsonOpt, err, guard, print_json, progress, settings

safety_app = typer.Typer(help="Train and check the harmful-request screen.", no_args_is_help=True)


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

    def run() -> None:
        s = settings()
        with progress(not quiet and not as_json) as cb:
            report = train_screen(shared_dir or s.data.shared_dir, out_path or s.safety.screen_file, cases_out, seed=seed, progress=cb,
                                  feedback_file=s.curation.feedback_dir / "screen.jsonl")  # confirmed clinician feedback
        if as_json:
            print_json(report)
        elif not quiet:
            err.print(f"screen written to {out_path or s.safety.screen_file}")
            err.print(json.dumps(report.get("test", report), indent=2, default=str)[:3000])

    guard(run, as_json)


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

    def run() -> None:
        s = settings()
        out = out_path or s.safety.pairs_member_file
        with progress(not quiet and not as_json) as cb:
            report = train_pairs_member(out, get_embedder(s.ingest.embedding), max_frr=max_frr, max_anchor_frr=max_anchor_frr,
                                        seed=seed, limit=limit, progress=cb)
        if as_json:
            print_json(report)
        elif not quiet:
            err.print(f"member written to {out} (threshold {report['threshold']:.4f})")
            err.print(json.dumps(report["leave_one_writer_out"], indent=2))

    guard(run, as_json)


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

    def run() -> None:
        s = settings()
        target = out_path or s.abstain.calibration_file
        with progress(not quiet and not as_json) as cb:
            fb = feedback or Path(s.curation.feedback_dir) / "abstain.jsonl"
            report = run_calibration(
                s, work_dir, target, guideline_index, clinician, docs, heldout, max_questions, seed, fb, progress=cb
            )
        if as_json:
            print_json(report)
        elif not quiet:
            err.print(f"calibration written to {target}")
            err.print(f"out of fold (fit): {report['out_of_fold']}  AUROC {report['out_of_fold_auroc']}")
            err.print(f"clinician test split: {report['clinician_test']['rates']}  AUROC {report['clinician_test']['auroc']}")
            err.print(f"MedQuAD held-out: {report['medquad_heldout']['rates']}  AUROC {report['medquad_heldout']['auroc']}")

    guard(run, as_json)
