"""Evaluation cases: one JSON object per line (format in docs/eval.md), loaded with line-numbered errors."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.errors import UsageError

Expected = Literal["answer", "abstain", "refuse"]


class EvalCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., min_length=1, max_length=200, description="Unique within the file.")
    question: str = Field(..., min_length=1, description="Sent verbatim as QueryRequest.question.")
    expected: Expected = Field(..., description="What the service should do: answer, abstain or refuse.")
    gold_doc_ids: list[str] = Field(default_factory=list, description="Documents that answer the question.")
    gold_evidence: str | None = Field(None, description="A verbatim span of a gold document that answers it.")
    gold_evidence_b: str | None = Field(
        None, description="A disagreement's other position: a verbatim span of its second gold document (dev sets, stop 49)."
    )
    reference_answer: str | None = Field(None, description="A human reference answer (shown in reports only).")
    tags: list[str] = Field(default_factory=list, description="Free labels: dataset, category, format, topic.")
    page: int | None = Field(None, ge=1, description="Page of the gold evidence (PDF guidelines).")

    @field_validator("question")
    @classmethod
    def _question(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("question is empty")
        return v

    @field_validator("gold_doc_ids", "tags")
    @classmethod
    def _strings(cls, v: list[str]) -> list[str]:
        if any(not s.strip() for s in v):
            raise ValueError("must not contain empty strings")
        return v


@dataclass(frozen=True)
class CaseError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def _reason(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "case"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


def parse_cases(lines: Iterable[str]) -> tuple[list[EvalCase], list[CaseError]]:
    """Every valid case and every problem (1-based line numbers); blank lines are skipped."""
    cases: list[EvalCase] = []
    errors: list[CaseError] = []
    seen: dict[str, int] = {}
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(CaseError(no, f"invalid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(obj, dict):
            errors.append(CaseError(no, f"expected a JSON object, got {type(obj).__name__}"))
            continue
        try:
            case = EvalCase.model_validate(obj)
        except ValidationError as exc:
            errors.append(CaseError(no, _reason(exc)))
            continue
        if case.id in seen:
            errors.append(CaseError(no, f"duplicate id '{case.id}' (first on line {seen[case.id]})"))
            continue
        seen[case.id] = no
        cases.append(case)
    return cases, errors


def load_cases(path: Path, skip_invalid: bool = False) -> tuple[list[EvalCase], list[CaseError]]:
    """Load a case file. Malformed lines raise one UsageError listing them, unless ``skip_invalid``."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no case file at {path}", hint="see docs/eval.md for the format, or run `guideground eval build-dataset`")
    with open(path, encoding="utf-8") as fh:
        cases, errors = parse_cases(fh)
    if errors and not skip_invalid:
        shown = "\n".join(f"  {path}:{e}" for e in errors[:20])
        more = f"\n  … and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise UsageError(
            f"{len(errors)} malformed case(s) in {path}:\n{shown}{more}",
            hint="fix these lines or pass --skip-invalid to run the valid cases only",
        )
    if not cases:
        raise UsageError(f"no cases in {path}")
    return cases, errors


def write_cases(path: Path, cases: Iterable[EvalCase]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for c in cases:
            fh.write(c.model_dump_json(exclude_none=True) + "\n")
            n += 1
    return n
