"""Stages 3–4 of an ingest: assemble the units in file order, merge them, publish one version.

Assembling resolves duplicate ``doc_id``s and failures (a bad update keeps the last good version of
its document) and reports removed files; publishing concatenates the units, marks the sentences that
several documents repeat (``ingest.boilerplate``), builds BM25, writes the manifest and the version
atomically (``ingest.store``) and prunes artefacts no version refers to.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ingest.bm25 import Bm25Index, Bm25Params
from ingest.boilerplate import mark_boilerplate
from ingest.chunk import embedding_text
from ingest.documents import Chunk, IngestParams
from ingest.errors import GuidegroundError
from ingest.planning import FileReport, Plan, unit_from_version
from ingest.store import BuildArtifacts, next_version_name, write_version
from ingest.unit_store import prune_units
from ingest.units import UnitResult


def assemble(plan: Plan, files, prev, prev_files) -> list[tuple[str, UnitResult]]:
    """Stage 3: units in file order; duplicate doc_ids and failures resolved; keeps old good versions."""
    kept: list[tuple[str, UnitResult]] = []
    doc_ids: dict[str, str] = {}
    for (path, _), rep, key in zip(files, plan.reports, plan.keys, strict=True):
        file_key = str(path.resolve())
        u = plan.units.get(key) if key else None
        if u is not None:
            rep.seconds = round(u.seconds, 3)
            if not u.ok:
                rep.status, rep.reason, rep.hint = "failed", u.reason, u.hint
            else:
                rep.doc_id, rep.chunks = u.doc_id, len(u.chunks)
                rep.warnings = list(u.warnings) if key not in plan.unchanged else []
                if key in plan.unchanged:
                    rep.status = "unchanged"
                if u.doc_id in doc_ids:
                    rep.status = "failed"
                    rep.reason = f"duplicate doc_id '{u.doc_id}' (also used by {doc_ids[u.doc_id]})"
                    rep.hint = "give each file its own doc_id in the metadata sidecar"
                else:
                    doc_ids[str(u.doc_id)] = str(path)
                    kept.append((file_key, u))
                    continue
        old = prev_files.get(file_key)
        if rep.status == "failed" and old and prev is not None and old["doc_id"] not in doc_ids:
            # A bad update never erases the last good version of a document.
            kept.append((file_key, unit_from_version(prev, old.get("unit", ""), str(path), old)))
            doc_ids[old["doc_id"]] = str(path)
            rep.warnings.append("kept the previously indexed version of this file")
    present = {k for k, _ in kept}
    seen = {str(Path(r.path).resolve()) for r in plan.reports}
    for key, old in prev_files.items():
        if key not in present and key not in seen:
            plan.reports.append(FileReport(path=key, status="removed", doc_id=old["doc_id"], chunks=len(old["chunk_ids"])))
    return kept


# Bump when publishing derives something new from all the chunks together: an index published by an earlier
# revision is published again on the next ingest (from its stored units, nothing re-embedded). 1: boilerplate marks.
MERGE_REVISION = 1


def _merge(kept: list[tuple[str, UnitResult]], dim: int) -> tuple[list[Chunk], np.ndarray, np.ndarray, np.ndarray]:
    """Stage 4a: concatenate units into the index's row order (chunks, vectors, sentences, offsets)."""
    chunks = [c for _, u in kept for c in u.chunks]
    if not kept:
        return chunks, np.zeros((0, dim), np.float32), np.zeros((0, dim), np.float32), np.zeros(1, np.int64)
    vectors = np.concatenate([u.vectors for _, u in kept]).astype(np.float32, copy=False)  # type: ignore[misc]
    sentences = np.concatenate([u.sentences for _, u in kept]).astype(np.float32, copy=False)  # type: ignore[misc]
    rows = [np.zeros(1, np.int64)]
    base = 0
    for _, u in kept:
        assert u.rows is not None
        rows.append(u.rows[1:] + base)
        base += int(u.rows[-1])
    return chunks, vectors, sentences, np.concatenate(rows)


def publish(index_root: Path, kept, fingerprint, prev_version, params: IngestParams, dim: int) -> tuple[str, int]:
    """Stage 4b: boilerplate marks and BM25 over all chunks, the manifest, one atomic version; then prune old
    artefacts. Returns the version and how many sentences were marked as standard text."""
    all_chunks, vectors, sentence_vectors, rows = _merge(kept, dim)
    n_boilerplate = mark_boilerplate(all_chunks)  # over the whole index: a unit alone cannot tell
    bm25 = Bm25Index.build([embedding_text(c) for c in all_chunks], Bm25Params())
    files_manifest = {k: u.entry for k, u in kept}
    manifest = {
        "index_kind": "guideground",
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "fingerprint": fingerprint,
        "embedder": fingerprint["embedder"],
        "chunking": fingerprint["chunking"],
        "bm25": fingerprint["bm25"],
        "files": files_manifest,
        "documents": {e["doc_id"]: dict(e["meta"], n_chunks=len(e["chunk_ids"]), sha256=e["sha256"]) for e in files_manifest.values()},
        "n_sentences": int(rows[-1]),
        "n_boilerplate_sentences": n_boilerplate,
        "merge_revision": MERGE_REVISION,
        "previous_version": prev_version,
    }
    version = next_version_name(index_root)
    write_version(
        index_root,
        version,
        BuildArtifacts(all_chunks, vectors, sentence_vectors, rows, bm25, manifest),
        keep=params.keep_versions,
        ann=params.ann,
    )
    prune_units(index_root, _referenced_units(index_root))
    return version, n_boilerplate


def _referenced_units(index_root: Path) -> set[str]:
    from ingest.store import list_versions, read_manifest

    refs: set[str] = set()
    for v in list_versions(index_root):
        try:
            files = read_manifest(index_root / "versions" / v).get("files", {})
        except GuidegroundError:
            continue
        refs.update(e["unit"] for e in files.values() if e.get("unit"))
    return refs
