"""The shared data folder is read in one place, which names what is missing and the setting to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ConfigError
from app.shared_data import read_jsonl


def test_missing_shared_file_names_it_and_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        read_jsonl(tmp_path / "medquad" / "medquad_qa.jsonl")
    assert str(tmp_path / "medquad" / "medquad_qa.jsonl") in exc.value.message
    assert exc.value.hint is not None and "GUIDEGROUND_DATA__SHARED_DIR" in exc.value.hint


def test_reads_every_non_blank_line(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n\n{"a": 2}\n   \n', encoding="utf-8")
    assert read_jsonl(p) == [{"a": 1}, {"a": 2}]


def test_dataset_builder_reports_missing_shared_data(tmp_path: Path) -> None:
    from app.eval.datasets import build_dataset
    from app.settings import get_settings

    s = get_settings().model_copy(deep=True)
    s.data.shared_dir = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match="shared data not found"):
        build_dataset("pubmedqa", tmp_path / "out", s, 10, 13, 0, progress=None, ingest=False)
