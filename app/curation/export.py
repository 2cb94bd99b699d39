"""Resolved feedback as evaluation cases and as labelled training examples.

* ``export_cases``: confirmed, resolved items as ``guideground eval`` cases (app/eval/cases.py format).
* ``write_training``: regenerates, from the database, two JSONL files in ``curation.feedback_dir``:
  ``screen.jsonl`` (confirmed false refusals, harmful=false; missed refusals, harmful=true), read by
  ``guideground safety train``; ``abstain.jsonl`` (confirmed wrong abstentions, expected=answer; confirmed
  wrong answers, expected=abstain), eval cases that ``guideground calibrate --feedback FILE`` fits on. Regenerating whole files keeps them
  in step with the database (a dismissed or re-resolved item never lingers).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.curation.models import CurationItem
from app.eval.cases import EvalCase

SCREEN_FILE = "screen.jsonl"
ABSTAIN_FILE = "abstain.jsonl"


def confirmed_items(s: Session) -> list[CurationItem]:
    items = s.scalars(select(CurationItem).where(CurationItem.status == "resolved").order_by(CurationItem.id))
    return [i for i in items if (i.resolution or {}).get("confirmed")]


def to_case(i: CurationItem) -> EvalCase:
    r = i.resolution or {}
    a = i.feedback.answer
    expected = r.get("expected") or "answer"
    return EvalCase(
        id=f"feedback-{i.id}",
        question=a.question,
        expected=expected,
        gold_doc_ids=list(r.get("gold_doc_ids") or []) if expected == "answer" else [],
        gold_evidence=r.get("gold_evidence") if expected == "answer" else None,
        reference_answer=r.get("reference_answer"),
        tags=["clinician_feedback", i.kind, f"release:{a.release_id}", f"served:{a.status}"],
    )


def export_cases(s: Session) -> list[EvalCase]:
    return [to_case(i) for i in confirmed_items(s)]


def training_rows(items: Iterable[CurationItem]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    screen: list[dict[str, Any]] = []
    abstain: list[dict[str, Any]] = []
    for i in items:
        a, expected = i.feedback.answer, (i.resolution or {}).get("expected")
        base = {"id": f"feedback-{i.id}", "question": a.question, "source": "clinician_feedback", "kind": i.kind,
                "query_id": a.id, "release_id": a.release_id, "index_version": a.index_version}
        if a.status == "refused" and expected in ("answer", "abstain"):
            screen.append(base | {"harmful": False, "category": "clinician_feedback"})
        elif a.status != "refused" and expected == "refuse":
            screen.append(base | {"harmful": True, "category": a.category or "clinician_feedback"})
        if (a.status, expected) in (("abstained", "answer"), ("answered", "abstain")):
            # In the eval-case format `guideground calibrate --feedback FILE` reads (expected answer = answerable).
            abstain.append(to_case(i).model_dump(exclude_none=True))
    return screen, abstain


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, sort_keys=True) + "\n")
    os.replace(tmp, path)


def write_training(s: Session, feedback_dir: Path) -> dict[str, Any]:
    screen, abstain = training_rows(confirmed_items(s))
    feedback_dir = Path(feedback_dir)
    _write_jsonl(feedback_dir / SCREEN_FILE, screen)
    _write_jsonl(feedback_dir / ABSTAIN_FILE, abstain)
    return {
        "screen": {"file": str(feedback_dir / SCREEN_FILE), "n": len(screen), "benign": sum(not r["harmful"] for r in screen)},
        "abstain": {"file": str(feedback_dir / ABSTAIN_FILE), "n": len(abstain), "answerable": sum(r["expected"] == "answer" for r in abstain)},
    }
