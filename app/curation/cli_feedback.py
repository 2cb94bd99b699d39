"""`guideground feedback export` and `guideground curation list|show|triage|resolve|dismiss`: feedback.

Feedback that finds fault opens an item of the curation queue; confirmed and resolved, it is exported
as evaluation cases and training data. Its two groups are mounted by app/cli.py; the shared options and
helpers are in app/curation/cli_common.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from app.curation.cli_common import AsOpt, JsonOpt, actor, run_with_service, sub
from app.errors import UsageError

feedback_app = sub("Clinician feedback as evaluation cases and training data.")
curation_app = sub("The curation queue.")


# ------------------------------------------------------------------------------------------ feedback
@feedback_app.command("export")
def feedback_export(
    out_path: Annotated[Path | None, typer.Option("--out", help="Write the eval cases here (JSONL).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Confirmed, resolved feedback as `guideground eval` cases; also regenerates the training files."""

    def run(svc: Any) -> dict[str, Any]:
        from app.eval.cases import EvalCase, write_cases

        cases = svc.export_cases()
        if out_path is not None:
            write_cases(out_path, [EvalCase.model_validate(c) for c in cases])
        return {"n_cases": len(cases), "out": str(out_path) if out_path else None, "training": svc.write_training(),
                **({"cases": cases} if out_path is None else {})}

    run_with_service(run, as_json)


# ------------------------------------------------------------------------------------------ curation queue
@curation_app.command("list")
def curation_list(
    status: Annotated[str | None, typer.Option("--status")] = None,
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The queue, oldest first."""
    run_with_service(lambda svc: svc.list_items(status, kind), as_json)


@curation_app.command("show")
def curation_show(item_id: int, as_json: JsonOpt = False) -> None:
    """One item with its feedback and answer."""
    run_with_service(lambda svc: svc.get_item(item_id), as_json)


@curation_app.command("triage")
def curation_triage(item_id: int, assignee: Annotated[str | None, typer.Option("--assignee")] = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Assign an item."""
    run_with_service(lambda svc: svc.triage_item(actor(as_), item_id, assignee), as_json)


@curation_app.command("resolve")
def curation_resolve(
    item_id: int,
    rejected: Annotated[bool, typer.Option("--not-confirmed", help="The feedback was wrong: no case, no training example.")] = False,
    expected: Annotated[str | None, typer.Option("--expected", help="answer, abstain or refuse")] = None,
    gold_doc: Annotated[list[str] | None, typer.Option("--gold-doc")] = None,
    gold_evidence: Annotated[str | None, typer.Option("--gold-evidence")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    as_: AsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Resolve an item (confirmed items become eval cases and training examples)."""

    def run(svc: Any) -> Any:
        from pydantic import ValidationError

        from app.curation.queue import ResolveIn

        try:
            res = ResolveIn(confirmed=not rejected, expected=expected, gold_doc_ids=gold_doc or None, gold_evidence=gold_evidence, note=note)
        except ValidationError as exc:
            raise UsageError(f"invalid resolution: {exc.errors()[0]['msg']}") from None
        return svc.resolve_item(actor(as_), item_id, res)

    run_with_service(run, as_json)


@curation_app.command("dismiss")
def curation_dismiss(item_id: int, note: Annotated[str | None, typer.Option("--note")] = None, as_: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Dismiss an item."""
    run_with_service(lambda svc: svc.dismiss_item(actor(as_), item_id, note), as_json)
