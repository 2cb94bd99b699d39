"""`guideground ingest --engine ray` on a local Ray cluster: the same index as the in-process engine."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.documents import IngestParams
from ingest.pipeline import run_ingest
from ingest.store import load_version

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "guidelines"
# Six files of the demo corpus, one of each format (the smallest shared-corpus files have 53-95 chunks
# each; these keep the test near a minute on 2 cores while covering PDF, DOCX, HTML, MD and text).
SUBSET = ["adult-immunization.pdf", "asthma-stepwise.docx", "breast-screening-south.html",
          "colorectal-cancer-screening.md", "depression-screening.txt", "hypertension-adults.md"]


@pytest.mark.slow
def test_ray_engine_builds_the_same_index_as_the_local_engine(tmp_path, embedder):
    pytest.importorskip("ray")  # the dev extra installs it; CI runs this test
    src = tmp_path / "guidelines"
    src.mkdir()
    for name in SUBSET:
        shutil.copy(DEMO / name, src / name)
    shutil.copy(DEMO / "manifest.csv", src / "manifest.csv")

    local = run_ingest([src], tmp_path / "local", IngestParams(), embedder)
    assert local.exit_code == 0 and local.n_chunks > 30 and not local.failed

    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "ingest", str(src), "--index", str(tmp_path / "ray"), "--engine", "ray", "--json"],
        capture_output=True, text=True, cwd=REPO, timeout=600,
        env={**__import__("os").environ, "GUIDEGROUND_INGEST__RAY_EMBED_ACTORS": "1", "RAY_USAGE_STATS_ENABLED": "0"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["n_chunks"] == local.n_chunks and report["n_embedded_chunks"] == local.n_chunks

    a, b = load_version(tmp_path / "local"), load_version(tmp_path / "ray")
    assert [c.chunk_id for c in a.chunks] == [c.chunk_id for c in b.chunks]
    assert [c.text for c in a.chunks] == [c.text for c in b.chunks]
    assert [c.model_dump() for c in a.chunks] == [c.model_dump() for c in b.chunks]
    assert np.allclose(a.vectors, b.vectors, atol=1e-5)
    assert np.array_equal(a.sentence_rows, b.sentence_rows)
    assert np.allclose(a.sentence_vectors, b.sentence_vectors, atol=1e-5)
    assert a.manifest["fingerprint"] == b.manifest["fingerprint"]
    assert {k: v["unit"] for k, v in a.manifest["files"].items()} == {k: v["unit"] for k, v in b.manifest["files"].items()}
