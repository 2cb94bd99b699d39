"""Ingest end to end with the real embedder on small folders: incremental re-index, bad input, inspect."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.documents import IngestParams
from ingest.pipeline import run_ingest
from ingest.store import list_versions, load_version
from ingest.unit_store import UNITS_DIR

REPO = Path(__file__).resolve().parents[1]

DOCS = {
    "htn.md": "# Hypertension demo\n\nDemo content, not clinical advice.\n\n## Diagnosis\n\nConfirm an office blood pressure of 130/80 mm Hg or higher with home readings.\n\n## Treatment\n\nStart a thiazide diuretic or an ACE inhibitor for most adults.\n",
    "crc.html": "<html><body><h1>Colorectal screening demo</h1><p>Demo content, not clinical advice.</p><h2>Who</h2><p>Screen average-risk adults aged 45 to 75 years for colorectal cancer.</p><h2>How</h2><p>Colonoscopy every 10 years or a stool FIT test every year.</p></body></html>",
    "flu.txt": "INFLUENZA VACCINATION DEMO\n\nDemo content, not clinical advice.\n\nRECOMMENDATION\n\nEveryone aged 6 months or older should receive an influenza vaccine every season.\n",
}


class CountingEmbedder:
    """Wraps the real embedder and records every text it encodes."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.model_id, self.dim = inner.model_id, inner.dim
        self.texts: list[str] = []

    def embed(self, texts):
        self.texts.extend(texts)
        return self.inner.embed(texts)

    def embed_spans(self, texts, spans):
        self.texts.extend(texts)
        return self.inner.embed_spans(texts, spans)


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize("pooling", ["late", "sentences"])
def test_incremental_reindex_embeds_only_the_changed_file(tmp_path, embedder, pooling):
    src = write_docs(tmp_path / "src", DOCS)
    root = tmp_path / "index"
    params = IngestParams(embedding={"pooling": pooling})
    first = CountingEmbedder(embedder)
    r1 = run_ingest([src], root, params, first)
    assert r1.exit_code == 0 and r1.published and len(first.texts) > 0
    idx1 = load_version(root)

    (src / "crc.html").write_text(DOCS["crc.html"].replace("every year", "every 1 year, or stool DNA every 3 years"))
    second = CountingEmbedder(embedder)
    r2 = run_ingest([src], root, params, second)
    statuses = {Path(f.path).name: f.status for f in r2.files}
    assert statuses == {"htn.md": "unchanged", "crc.html": "indexed", "flu.txt": "unchanged"}
    idx2 = load_version(root)
    crc_texts = {c.text[s.start : s.end] for c in idx2.chunks if c.doc_id == "crc" for s in c.sentences}
    # Every encoded text is a sentence or the context line of the changed file, and nothing else.
    assert second.texts and all(t in crc_texts or t.startswith("crc.") or "Colorectal" in t for t in second.texts)
    assert not any("thiazide" in t or "influenza" in t for t in second.texts)
    assert r2.n_embedded_chunks == sum(c.doc_id == "crc" for c in idx2.chunks)
    # Unchanged chunks keep their ids and their vectors bit for bit.
    for c in idx1.chunks:
        if c.doc_id != "crc":
            j = idx2.by_id[c.chunk_id]
            assert np.array_equal(idx2.vectors[j], idx1.vectors[idx1.by_id[c.chunk_id]])

    # Nothing changed: no encoder call, no new version.
    third = CountingEmbedder(embedder)
    r3 = run_ingest([src], root, params, third)
    assert third.texts == [] and not r3.published and r3.version == idx2.version

    # A deleted file is dropped from the next version without re-embedding the rest.
    (src / "flu.txt").unlink()
    fourth = CountingEmbedder(embedder)
    r4 = run_ingest([src], root, params, fourth)
    assert fourth.texts == [] and r4.published
    assert {c.doc_id for c in load_version(root).chunks} == {"htn", "crc"}
    assert [f.status for f in r4.files if f.status == "removed"] == ["removed"]
    assert len(list_versions(root)) <= IngestParams().keep_versions


def _make_bad_folder(folder: Path) -> dict[str, str]:
    """Bad files → a word their reason must contain."""
    import pymupdf

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.md").write_bytes(b"")
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    (folder / "binary-named.pdf").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 500)
    (folder / "latin1.txt").write_bytes("Recommandation: d\xe9pistage \xe0 50 ans.".encode("latin-1"))
    (folder / "sheet.xlsx").write_bytes(b"PK\x03\x04 not really")
    (folder / "fake.docx").write_bytes(b"this is plain text named docx")
    big = folder / "huge.txt"
    with open(big, "wb") as fh:  # sparse 200 MB upload
        fh.truncate(200 * 1024 * 1024)
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Secret guideline text")
    doc.save(str(folder / "locked.pdf"), encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="o", user_pw="u")
    return {
        "empty.md": "empty",
        "corrupt.pdf": "corrupt",
        "binary-named.pdf": "mislabelled",
        "latin1.txt": "utf-8",
        "sheet.xlsx": "unsupported",
        "fake.docx": "mislabelled",
        "huge.txt": "oversized",
        "locked.pdf": "encrypted",
    }


def test_bad_files_are_reported_and_the_rest_is_published(tmp_path):
    src = write_docs(tmp_path / "src", DOCS)
    expected = _make_bad_folder(src)
    root = tmp_path / "index"
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "ingest", str(src), "--index", str(root), "--json"],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    failed = {Path(f["path"]).name: f["reason"] for f in report["files"] if f["status"] == "failed"}
    assert set(failed) == set(expected)
    for name, word in expected.items():
        assert word.lower() in failed[name].lower(), (name, failed[name])
    # one line per bad file on stderr in the human form too
    proc2 = subprocess.run(
        [sys.executable, "-m", "app.cli", "ingest", str(src), "--index", str(tmp_path / "i2"), "--quiet"],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )
    assert proc2.returncode == 1
    assert len([ln for ln in proc2.stderr.splitlines() if ln.startswith("FAILED")]) == len(expected)
    # The good files are published and searchable.
    idx = load_version(root)
    assert {c.doc_id for c in idx.chunks} == {"htn", "crc", "flu"}
    ids, _ = idx.bm25.search("colorectal cancer screening age", 3)
    assert idx.chunks[int(ids[0])].doc_id == "crc"


def test_usage_errors_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "ingest", str(tmp_path / "missing"), "--index", str(tmp_path / "i")],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_inspect_lists_documents_and_chunks(tmp_path, embedder):
    src = write_docs(tmp_path / "src", DOCS)
    root = tmp_path / "index"
    run_ingest([src], root, IngestParams(), embedder)
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "inspect", "--index", str(root), "--json"], capture_output=True, text=True, cwd=REPO
    )
    data = json.loads(out.stdout)
    assert set(data["documents"]) == {"htn", "crc", "flu"}
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "inspect", "--index", str(root), "--doc", "crc", "--json"], capture_output=True, text=True, cwd=REPO
    )
    chunks = json.loads(out.stdout)["chunks"]
    assert chunks and all(c["doc_id"] == "crc" and c["section_path"][0] == "Colorectal screening demo" for c in chunks)
    bad = subprocess.run(
        [sys.executable, "-m", "app.cli", "inspect", "--index", str(root), "--doc", "nope"], capture_output=True, text=True, cwd=REPO
    )
    assert bad.returncode == 1 and "no document" in bad.stderr


@pytest.mark.parametrize("point", ["embed", "before_publish"])
def test_sigkill_mid_build_keeps_previous_version(tmp_path, embedder, point):
    import os
    import signal
    import time

    src = write_docs(tmp_path / "src", DOCS)
    root = tmp_path / "index"
    run_ingest([src], root, IngestParams(), embedder)
    before = load_version(root)
    # A bigger second build: many new files, so the kill lands mid-embedding.
    for i in range(40):
        (src / f"extra{i}.md").write_text(f"# Extra {i}\n\n" + " ".join(f"Sentence {j} of extra document {i} about dose {j} mg." for j in range(60)))
    env = dict(os.environ)
    if point == "before_publish":
        env["GUIDEGROUND_FAULT_SLEEP"] = "before_publish:30"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", str(src), "--index", str(root), "--quiet"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    units_before = len(list((root / UNITS_DIR).glob("*.npz")))
    deadline = time.time() + 240
    workers: list[int] = []
    while time.time() < deadline:
        workers = _children(proc.pid) or workers
        # Mid-build: some of the new files' units are stored (by worker processes or in-process), not all.
        if point == "embed" and len(list((root / UNITS_DIR).glob("*.npz"))) > units_before:
            break
        if point == "before_publish" and any(root.glob(".build-*/manifest.json")):
            break
        time.sleep(0.02)
    assert proc.poll() is None, "ingest finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # Worker processes notice their parent is gone and exit; none keeps running (or writing) after it.
    stop = time.time() + 60
    while any(_alive(w) for w in workers) and time.time() < stop:
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers)
    after = load_version(root)
    assert after.version == before.version
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]
    assert [c.text for c in after.chunks] == [c.text for c in before.chunks]
    # The next ingest cleans the half-written build and publishes normally.
    rep = run_ingest([src], root, IngestParams(), embedder)
    assert rep.published and not list(root.glob(".build-*"))
    assert len(load_version(root).chunks) > len(before.chunks)


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # ppid
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_late_pooling_encodes_each_chunk_once_and_fills_truncated_sentences(tmp_path, embedder):
    long_para = " ".join(f"Statement {i} says the interval is {i} weeks for group {i}." for i in range(60))
    src = write_docs(tmp_path / "src", {"long.md": "# Long demo\n\nDemo content, not clinical advice.\n\n## Body\n\n" + long_para + "\n"})
    counter = CountingEmbedder(embedder)
    # Chunks far over the 256-token budget, so the encoder's truncation cuts sentences off.
    params = IngestParams(chunking={"target_chars": 3000, "max_chars": 4000})
    report = run_ingest([src], tmp_path / "index", params, counter)
    idx = load_version(tmp_path / "index")
    assert idx.manifest["fingerprint"]["dense"] == "late-chunking-v1"
    from ingest.parse.pdf import REVISION

    assert idx.manifest["fingerprint"]["pdf_parser"] == f"pymupdf-r{REVISION}"  # a parser revision rebuilds an index
    # One text per chunk, plus the sentences the encoder's 256-token truncation cut off.
    assert report.n_embedded_texts == len(counter.texts) > len(idx.chunks)
    assert sum(t.startswith("Long demo") for t in counter.texts) == len(idx.chunks)
    for row in range(len(idx.chunks)):
        block = idx.sentence_block(row)
        assert block.shape[0] == max(1, len(idx.chunks[row].sentences))
        assert np.allclose(np.linalg.norm(block, axis=1), 1.0, atol=1e-4)  # no zero rows survive


def test_control_characters_never_reach_the_index_and_the_text_revision_is_fingerprinted(tmp_path, embedder):
    # cdc-ipc-outpatient-2016's checklist bullets come out of the PDF as BEL: "A. \x07Written infection prevention …"
    from ingest.parse.normalize import TEXT_REVISION, normalize_text

    assert normalize_text("A. \x07Written policies\x00 are\x1f available.\x85") == "A. Written policies are available."
    assert normalize_text("tab\tand\nnewline") == "tab and newline"  # whitespace is collapsed, not dropped
    body = "Demo content, not clinical advice.\n\n- \x07Written policies are available and current.\n- \x07Staff are trained yearly.\n"
    src = write_docs(tmp_path / "src", {"bel.md": "# Checklist demo\n\n" + body})
    run_ingest([src], tmp_path / "index", IngestParams(), embedder)
    idx = load_version(tmp_path / "index")
    text = " ".join(c.text for c in idx.chunks)
    assert "Written policies are available" in text and "\x07" not in text
    assert idx.manifest["fingerprint"]["text"] == f"normalize-r{TEXT_REVISION}"  # a new revision rebuilds an index
