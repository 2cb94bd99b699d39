"""Stages 1–2 of an ingest: collect the files, plan each one's unit, have an engine build the rest.

Planning sniffs every file and decides, per file, whether its unit is the previous version's rows
as they were, a stored artefact (``ingest.unit_store``) or a task to build; building hands the
tasks to an engine (``ingest.engines``) and stores each finished artefact as it arrives. Merging
and publishing are ``ingest.publish``; ``ingest.pipeline`` runs the stages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.documents import IngestParams, sha256_bytes
from ingest.embed import Embedder
from ingest.errors import GuidegroundError, UsageError
from ingest.parse import read_sidecar
from ingest.sniff import is_candidate, sniff
from ingest.store import LoadedIndex
from ingest.unit_store import load_unit, save_unit
from ingest.units import UnitResult, UnitTask, unit_key


@dataclass
class FileReport:
    path: str
    status: str  # indexed | unchanged | failed | removed
    doc_id: str | None = None
    chunks: int = 0
    reason: str | None = None
    hint: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False  # built from a stored per-file artefact, not re-parsed or re-embedded


def collect_files(paths: Iterable[Path], sidecar_name: str) -> list[tuple[Path, Path | None]]:
    """(file, sidecar) pairs. A folder's sidecar is ``<folder>/<sidecar_name>`` or ``<folder>.manifest.csv``."""
    out: list[tuple[Path, Path | None]] = []
    seen: set[Path] = set()

    def sidecar_for(folder: Path) -> Path | None:
        for cand in (folder / sidecar_name, folder.parent / f"{folder.name}.manifest.csv"):
            if cand.is_file():
                return cand
        return None

    for p in paths:
        p = Path(p)
        if not p.exists():
            raise UsageError(f"no such file or directory: {p}")
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and is_candidate(f, sidecar_name) and f.resolve() not in seen:
                    seen.add(f.resolve())
                    out.append((f, sidecar_for(f.parent)))
        elif p.resolve() not in seen:
            seen.add(p.resolve())
            out.append((p, sidecar_for(p.parent)))
    return out


@dataclass
class Plan:
    """What each file becomes: a reused unit, a task for the engine, or a failure before parsing."""

    reports: list[FileReport]
    keys: list[str | None]  # per file: unit key (None if sniffing failed)
    units: dict[str, UnitResult]  # unit key → finished unit (reused so far; built ones are added)
    tasks: list[UnitTask]
    unchanged: set[str]  # unit keys taken from the previous version as they were


def unit_from_version(prev: LoadedIndex, key: str, path: str, entry: dict[str, Any]) -> UnitResult:
    rows_ix = [prev.by_id[cid] for cid in entry["chunk_ids"]]
    blocks = [prev.sentence_block(j) for j in rows_ix]
    return UnitResult(
        key=key, path=path, ok=True, chunks=[prev.chunks[j] for j in rows_ix], entry=entry,
        vectors=prev.vectors[rows_ix], sentences=np.concatenate(blocks) if blocks else np.zeros((0, prev.dim), np.float32),
        rows=np.concatenate([[0], np.cumsum([b.shape[0] for b in blocks])]).astype(np.int64),
    )


def plan(files, index_root: Path, params: IngestParams, fp_hash: str, prev, prev_files) -> Plan:
    """Stage 1: sniff every file and decide, per file, reuse (previous version or artefact) or build."""
    plan = Plan([], [], {}, [], set())
    sidecars: dict[Path, dict[str, dict[str, str]]] = {}
    max_bytes = int(params.max_file_mb * 1e6)
    for path, sidecar in files:
        rep = FileReport(path=str(path), status="indexed")
        plan.reports.append(rep)
        plan.keys.append(None)
        try:
            if sidecar is not None and sidecar not in sidecars:
                sidecars[sidecar] = read_sidecar(sidecar)
            row = sidecars.get(sidecar, {}).get(path.name) if sidecar else None
            sn = sniff(path, max_bytes)
        except GuidegroundError as exc:
            rep.status, rep.reason, rep.hint = "failed", exc.message, exc.hint
            continue
        except Exception as exc:
            rep.status, rep.reason = "failed", f"unexpected {type(exc).__name__}: {exc}"
            continue
        sha = sha256_bytes(sn.data)
        key = unit_key(sha, path.name, row, fp_hash)
        plan.keys[-1] = key
        if key in plan.units or any(t.key == key for t in plan.tasks):
            continue
        old = prev_files.get(str(path.resolve()))
        if old and prev is not None and old["sha256"] == sha and old.get("sidecar_row") == row:
            plan.units[key] = unit_from_version(prev, key, str(path), old)
            plan.unchanged.add(key)
        elif (stored := load_unit(index_root, key)) is not None:
            plan.units[key] = stored
            rep.cached = True
        else:
            plan.tasks.append(UnitTask(key=key, sniffed=sn, row=row, sha=sha))
    return plan


def build(plan: Plan, index_root: Path, params: IngestParams, embedder: Embedder, engine, progress) -> int:
    """Stage 2: the engine parses, chunks and embeds the tasks; each finished artefact is stored."""
    n_texts = 0
    for batch, texts in engine.run(plan.tasks, params, embedder, progress):
        n_texts += texts
        for u in batch:
            if u.ok:
                save_unit(index_root, u)
            plan.units[u.key] = u
    return n_texts
