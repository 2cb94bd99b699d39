"""Per-file artefacts on disk: ``<index root>/units/<key>.npz``, written atomically, pruned with versions.

One ``.npz`` per unit holds the chunk vectors, sentence vectors, sentence offsets and a JSON blob
(chunks, manifest entry, warnings). A unit file is complete or absent: it is written to a temporary
name, fsynced and renamed. A corrupt or unreadable artefact counts as a miss and is rebuilt.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np

from ingest.documents import Chunk
from ingest.units import UnitResult

UNITS_DIR = "units"


def unit_path(root: Path, key: str) -> Path:
    return Path(root) / UNITS_DIR / f"{key}.npz"


def save_unit(root: Path, unit: UnitResult) -> Path:
    assert unit.ok and unit.vectors is not None and unit.sentences is not None and unit.rows is not None
    path = unit_path(root, unit.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "chunks": [c.model_dump(mode="json") for c in unit.chunks],
        "entry": unit.entry,
        "warnings": unit.warnings,
        "path": unit.path,
    }
    buf = io.BytesIO()
    np.savez(
        buf,
        vectors=unit.vectors,
        sentences=unit.sentences,
        rows=unit.rows,
        meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
    )
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(buf.getvalue())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def load_unit(root: Path, key: str) -> UnitResult | None:
    path = unit_path(root, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            vectors, sentences, rows = z["vectors"], z["sentences"], z["rows"]
        chunks = [Chunk.model_validate(c) for c in meta["chunks"]]
    except Exception:
        return None  # unreadable: rebuild it
    if vectors.shape[0] != len(chunks) or rows.shape[0] != len(chunks) + 1 or int(rows[-1]) != sentences.shape[0]:
        return None
    return UnitResult(
        key=key, path=meta["path"], ok=True, chunks=chunks, entry=meta["entry"],
        vectors=vectors, sentences=sentences, rows=rows, warnings=list(meta["warnings"]),
    )


def prune_units(root: Path, referenced: set[str]) -> int:
    """Delete artefacts no kept version refers to, and temporaries left by a killed build."""
    d = Path(root) / UNITS_DIR
    if not d.is_dir():
        return 0
    removed = 0
    for f in d.iterdir():
        if f.name.startswith(".") or (f.suffix == ".npz" and f.stem not in referenced):
            f.unlink(missing_ok=True)
            removed += 1
    return removed
