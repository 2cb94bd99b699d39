"""Shared fixtures: real embedder, shared data location, indexes built once per session."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GUIDEGROUND_DATA__SHARED_DIR", REPO.parent / "shared" / "data")).resolve()
SHARED_GUIDELINES = SHARED / "guidelines"
DEMO = REPO / "guidelines"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


# The default run (`pytest` with no -m, no --with-slow and no path named) leaves out the tests marked `slow` (the
# screen retraining, the fresh-clone `make run`, SIGKILL ingests, the checks of the committed question sets …) and
# says so at the start and the end: about 12 min on 2 cores instead of about 23 (both measured at stop 55). `make test`, which CI runs, passes
# --with-slow; naming a test file or node runs what it names, slow or not.
_SLOW_LEFT_OUT: list[int] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--with-slow", action="store_true", help="also run the tests marked slow (make test; CI)")


def _leave_out_slow(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.option.markexpr or config.getoption("with_slow") or config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return
    slow = [i for i in items if i.get_closest_marker("slow")]
    if not slow:
        return
    items[:] = [i for i in items if not i.get_closest_marker("slow")]
    config.hook.pytest_deselected(items=slow)
    _SLOW_LEFT_OUT.append(len(slow))
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(_slow_note(len(slow)))


def _slow_note(n: int) -> str:
    which = "1 test marked slow is" if n == 1 else f"{n} tests marked slow are"
    return f"{which} not in the default run: `make test` (pytest --with-slow) runs the whole suite, as CI does"


# The whole shared corpus (≈10k chunks) is the one long build of the suite. When tests need it, it is
# started right after collection as a `guideground ingest` subprocess and those tests run last, so the
# build overlaps everything else. While it runs the main process keeps one torch thread; the build keeps
# all cores with a passive OpenMP wait policy, so it has both once the other tests are done. Measured
# (191 tests, quiet 2-core machine): 454 s, against 521 s with one thread each and ≈ 770 s in sequence.
# GUIDEGROUND_TEST_SHARED_FOREGROUND=1 builds in-process instead. The main process takes its threads
# back as soon as the build exits (checked before each test), and the run ends with one line saying how
# long the build took and how long the tests that need it waited for it.
_BACKGROUND: dict = {}


def _cached_shared_index() -> Path | None:
    cache = os.environ.get("GUIDEGROUND_TEST_SHARED_INDEX")
    return Path(cache) if cache and (Path(cache) / "CURRENT").is_file() else None


@pytest.hookimpl(trylast=True)  # after -m/-k deselection
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    _leave_out_slow(config, items)
    needs = [i for i in items if "shared_index" in getattr(i, "fixturenames", ())]
    if not needs:
        return
    ids = {id(i) for i in needs}
    items[:] = [i for i in items if id(i) not in ids] + needs
    if (
        config.option.collectonly
        or _cached_shared_index()
        or os.environ.get("GUIDEGROUND_TEST_SHARED_FOREGROUND")
        or not SHARED_GUIDELINES.is_dir()
    ):
        return
    import torch

    work = Path(tempfile.mkdtemp(prefix="guideground-shared-index-"))
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    with open(work / "report.json", "w") as out, open(work / "ingest.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "ingest", str(SHARED_GUIDELINES), "--index", str(work / "index"), "--quiet", "--json"],
            stdout=out, stderr=log, cwd=REPO, env=env,
        )
    _BACKGROUND.update(proc=proc, work=work, threads=torch.get_num_threads(), started=time.monotonic())
    torch.set_num_threads(1)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:  # one file run alone can wait minutes for this: say why, and how not to
        reporter.write_line(
            f"{len(needs)} selected tests need the shared-corpus index: building it in the background (≈ 6–10 min on "
            "2 cores; they run last). To reuse a built one: GUIDEGROUND_TEST_SHARED_INDEX=<index dir> "
            "(`guideground ingest ../shared/data/guidelines --index <index dir>`)."
        )


def _build_finished() -> bool:
    """True once the background build has exited; the first time, give the main process its threads back."""
    proc = _BACKGROUND.get("proc")
    if proc is None or proc.poll() is None:
        return False
    if "ended" not in _BACKGROUND:
        import torch

        _BACKGROUND["ended"] = time.monotonic()
        torch.set_num_threads(_BACKGROUND["threads"])
    return True


def pytest_runtest_setup(item: pytest.Item) -> None:
    _build_finished()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SLOW_LEFT_OUT:
        terminalreporter.write_line(_slow_note(_SLOW_LEFT_OUT[0]))
    b = _BACKGROUND
    if "ended" in b:
        terminalreporter.write_line(
            f"shared corpus index: built in the background in {b['ended'] - b['started']:.0f} s; "
            f"the tests that need it waited {b.get('waited', 0.0):.0f} s for it"
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    proc = _BACKGROUND.get("proc")
    if proc is not None:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(_BACKGROUND["work"], ignore_errors=True)


def _background_shared_index() -> tuple[Path, SimpleNamespace]:
    proc, work = _BACKGROUND["proc"], _BACKGROUND["work"]
    t0 = time.monotonic()
    rc = proc.wait(timeout=3 * 3600)
    _BACKGROUND["waited"] = time.monotonic() - t0
    _build_finished()
    if rc not in (0, 1):  # 1 = published with some files failed: the tests say which
        log = (work / "ingest.log").read_text(errors="replace")[-3000:]
        pytest.fail(f"background ingest of the shared corpus exited {rc}:\n{log}")
    data = json.loads((work / "report.json").read_text())
    report = SimpleNamespace(**{k: v for k, v in data.items() if k != "files"})
    report.files = [SimpleNamespace(**f) for f in data["files"]]
    return work / "index", report


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
    """The whole shared guideline corpus (≈10k chunks, ~8 min on 2 cores), built once per session:
    in the background since collection (see above), or here."""
    cache = _cached_shared_index()
    if cache:
        return cache, None
    if "proc" in _BACKGROUND:
        return _background_shared_index()
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
