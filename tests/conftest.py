"""Shared fixtures: real embedder, shared data location, indexes built once per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GUIDEGROUND_DATA__SHARED_DIR", REPO.parent / "shared" / "data")).resolve()
SHARED_GUIDELINES = SHARED / "guidelines"
DEMO = REPO / "guidelines"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared data not found at {SHARED}; set GUIDEGROUND_DATA__SHARED_DIR")
    return SHARED


@pytest.fixture(scope="session")
def embedder():
    from ingest.embed import get_embedder

    return get_embedder()


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory):
    """Settings for in-process services: no audit DB file in the repo, screen/calibration as configured."""
    from app.settings import Settings

    db = tmp_path_factory.mktemp("db") / "audit.db"
    return Settings(database={"url": f"sqlite:///{db}"})


def build_index(src: list[Path], root: Path, embedder, **ingest_overrides):
    from ingest.documents import IngestParams
    from ingest.pipeline import run_ingest

    params = IngestParams(**ingest_overrides)
    return run_ingest(src, root, params, embedder)


@pytest.fixture(scope="session")
def shared_index(tmp_path_factory, embedder):
    """The whole shared guideline corpus (≈10k chunks, ~3 min on 2 cores), built once per session."""
    cache = os.environ.get("GUIDEGROUND_TEST_SHARED_INDEX")
    if cache and (Path(cache) / "CURRENT").is_file():
        return Path(cache), None
    root = tmp_path_factory.mktemp("shared-index")
    report = build_index([SHARED_GUIDELINES], root, embedder)
    return root, report


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("demo-index")
    report = build_index([DEMO], root, embedder)
    return root, report


def copy_files(names: list[str], dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copy(SHARED_GUIDELINES / n, dest / n)
    return dest
