"""Per-file work units: artefacts keyed by content + pipeline, reused across versions, merged in file order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.documents import IngestParams
from ingest.pipeline import run_ingest
from ingest.store import load_version
from ingest.unit_store import UNITS_DIR
from tests.test_ingest_pipeline import DOCS, CountingEmbedder, write_docs


def _units(root: Path) -> set[str]:
    return {p.stem for p in (root / UNITS_DIR).glob("*.npz")}


def test_each_file_is_an_artefact_and_a_reverted_file_is_not_re_embedded(tmp_path, embedder):
    src = write_docs(tmp_path / "src", DOCS)
    root = tmp_path / "index"
    r1 = run_ingest([src], root, IngestParams(), embedder)
    idx1 = load_version(root)
    files = idx1.manifest["files"]
    assert len(_units(root)) == 3 and {e["unit"] for e in files.values()} == _units(root)

    original = (src / "crc.html").read_text()
    (src / "crc.html").write_text(original.replace("every year", "every 2 years"))
    run_ingest([src], root, IngestParams(), embedder)
    assert len(_units(root)) == 4  # the old crc artefact is kept while a kept version refers to it

    (src / "crc.html").write_text(original)  # revert: the previous version does not have it, the artefact does
    counter = CountingEmbedder(embedder)
    r3 = run_ingest([src], root, IngestParams(), counter)
    crc = next(f for f in r3.files if f.path.endswith("crc.html"))
    assert counter.texts == [] and r3.published and crc.status == "indexed" and crc.cached
    assert r3.n_embedded_chunks == 0 and r3.n_reused_chunks == r1.n_chunks
    idx3 = load_version(root)
    assert [c.chunk_id for c in idx3.chunks] == [c.chunk_id for c in idx1.chunks]
    assert np.array_equal(idx3.vectors, idx1.vectors) and np.array_equal(idx3.sentence_vectors, idx1.sentence_vectors)


def test_windows_and_artefacts_give_the_same_index_as_one_pass(tmp_path, embedder):
    src = write_docs(tmp_path / "src", DOCS)
    one = run_ingest([src], tmp_path / "one", IngestParams(), embedder)
    # Tiny windows: every file embedded on its own, then merged.
    many = run_ingest([src], tmp_path / "many", IngestParams(embed_window_chunks=64), embedder)
    a, b = load_version(tmp_path / "one"), load_version(tmp_path / "many")
    assert one.n_chunks == many.n_chunks
    assert [(c.chunk_id, c.text) for c in a.chunks] == [(c.chunk_id, c.text) for c in b.chunks]
    assert np.allclose(a.vectors, b.vectors, atol=1e-5)
    assert np.array_equal(a.sentence_rows, b.sentence_rows)
    assert np.allclose(a.sentence_vectors, b.sentence_vectors, atol=1e-5)


def test_units_built_in_worker_processes_give_the_same_index_and_keep_failures(tmp_path, embedder):
    from ingest.engines.local import worker_count

    docs = {f"{i:02d}-{name}": text.replace("demo", f"demo {i}") for i in range(3) for name, text in DOCS.items()}
    docs["zz-broken.pdf"] = "%PDF-1.4 this is not a PDF body"
    src = write_docs(tmp_path / "src", docs)
    ahead_params = IngestParams(workers=2)
    assert worker_count(ahead_params, embedder, len(docs)) == 2  # else the worker path is not what this tests
    assert worker_count(IngestParams(workers=0), embedder, len(docs)) == 0
    inline = run_ingest([src], tmp_path / "inline", IngestParams(workers=0), embedder)
    ahead = run_ingest([src], tmp_path / "ahead", ahead_params, embedder)
    assert [(f.path, f.status, f.reason, f.chunks) for f in inline.files] == [(f.path, f.status, f.reason, f.chunks) for f in ahead.files]
    assert [f.status for f in ahead.files].count("failed") == 1
    assert ahead.n_embedded_chunks == inline.n_embedded_chunks > 0
    a, b = load_version(tmp_path / "inline"), load_version(tmp_path / "ahead")
    assert [c.model_dump() for c in a.chunks] == [c.model_dump() for c in b.chunks]
    # Per-file batches and one-thread encoders: the same vectors up to float summation order.
    assert np.allclose(a.vectors, b.vectors, atol=1e-5) and np.allclose(a.sentence_vectors, b.sentence_vectors, atol=1e-5)
    assert np.array_equal(a.sentence_rows, b.sentence_rows)


def test_a_corrupt_artefact_is_rebuilt_not_trusted(tmp_path, embedder):
    src = write_docs(tmp_path / "src", DOCS)
    root = tmp_path / "index"
    run_ingest([src], root, IngestParams(), embedder)
    before = load_version(root)
    for p in (root / UNITS_DIR).glob("*.npz"):
        p.write_bytes(b"not an npz")
    (root / "CURRENT").unlink()  # forget the version, so only the (broken) artefacts could be reused
    counter = CountingEmbedder(embedder)
    rep = run_ingest([src], root, IngestParams(), counter)
    assert counter.texts and rep.n_embedded_chunks == rep.n_chunks
    after = load_version(root)
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]
    assert np.allclose(after.vectors, before.vectors, atol=1e-6)


@pytest.mark.slow
def test_onnx_int8_backend_is_in_the_fingerprint_and_rebuilds_everything(tmp_path, embedder):
    from ingest.documents import EmbeddingParams
    from ingest.embed import get_embedder

    src = write_docs(tmp_path / "src", DOCS)
    root = tmp_path / "index"
    run_ingest([src], root, IngestParams(), embedder)
    torch_idx = load_version(root)
    assert "backend" not in torch_idx.manifest["fingerprint"]["embedder"]  # torch indexes keep their fingerprint
    params = IngestParams(embedding=EmbeddingParams(backend="onnx-int8"))
    counter = CountingEmbedder(get_embedder(params.embedding))
    counter.backend = counter.inner.backend
    rep = run_ingest([src], root, params, counter)
    assert rep.published and rep.n_embedded_chunks == rep.n_chunks  # nothing reused across backends
    idx = load_version(root)
    assert idx.manifest["fingerprint"]["embedder"]["backend"].startswith("onnx-int8")
    assert idx.manifest["fingerprint"]["embedder"]["batch"] == params.embedding.onnx_batch_size == 1
    assert [c.chunk_id for c in idx.chunks] == [c.chunk_id for c in torch_idx.chunks]
    cos = (idx.vectors * torch_idx.vectors).sum(1)
    assert cos.mean() > 0.98 and cos.min() > 0.95
