"""Reading the shared data folder (``data.shared_dir``, GUIDEGROUND_DATA__SHARED_DIR): MedQuAD, PubMedQA,
MedSafetyBench and the guideline corpus that calibration, the safety screen's training and the evaluation datasets
are built from. One place says what is missing and where to point the setting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.errors import ConfigError

HINT = "set GUIDEGROUND_DATA__SHARED_DIR to the shared data folder (../shared/data beside the repository by default)"


def need(path: Path) -> Path:
    """``path`` itself, or a ConfigError naming it when it does not exist."""
    if not Path(path).exists():
        raise ConfigError(f"shared data not found: {path}", hint=HINT)
    return Path(path)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every non-blank line of a JSON-lines file of the shared data, parsed."""
    with open(need(path), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
