"""Index releases: build (ingest the registry's citable versions) → submit → approve (not by the
submitter) → publish (switch the served CURRENT pointer; the server hot-reloads) → rollback.

Releases are built in their own index root (``curation.build_dir``), never in the served one: ingest
switches the pointer of the root it writes, and nothing may be served before a second person approved
it. Publishing hard-links the approved version directory into the served root, then switches CURRENT.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.curation import audit
from app.curation.errors import Conflict, Forbidden
from app.curation.models import GuidelineVersion, IndexRelease, utcnow
from app.curation.registry import get_version, set_version_status, version_dict
from app.curation.roles import Actor
from app.errors import IndexNotFound, NotFound
from ingest.store import current_version, read_manifest, set_current, writer_lock


def release_dict(r: IndexRelease) -> dict[str, Any]:
    return {
        "id": r.id, "index_version": r.index_version, "status": r.status, "embedder": r.embedder,
        "fingerprint": r.fingerprint, "n_chunks": r.n_chunks, "notes": r.notes, "built_by": r.built_by,
        "submitted_by": r.submitted_by, "approved_by": r.approved_by, "published_by": r.published_by,
        "created_at": r.created_at.isoformat(), "published_at": r.published_at.isoformat() if r.published_at else None,
        "versions": [
            {"version_id": v.id, "doc_id": v.guideline.slug, "label": v.label, "sha256": v.sha256, "status": v.status}
            for v in r.versions
        ],
    }


def fingerprint_hash(manifest: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(manifest.get("fingerprint", {}), sort_keys=True).encode()).hexdigest()


def get_release(s: Session, release_id: int) -> IndexRelease:
    r = s.get(IndexRelease, release_id)
    if r is None:
        raise NotFound(f"no release {release_id}", hint="list releases with `guideground releases list`")
    return r


def list_releases(s: Session) -> list[IndexRelease]:
    return list(s.scalars(select(IndexRelease).order_by(IndexRelease.id)))


def release_for_version(s: Session, index_version: str | None) -> IndexRelease | None:
    if not index_version:
        return None
    return s.scalar(select(IndexRelease).where(IndexRelease.index_version == index_version))


def record_build(s: Session, actor: Actor, build_root: Path, index_version: str, version_ids: list[int], notes: str | None) -> IndexRelease:
    if release_for_version(s, index_version) is not None:
        raise Conflict(
            f"index version {index_version} is already a release: nothing changed in the registry since",
            hint="register or retire a guideline version first",
        )
    manifest = read_manifest(Path(build_root) / "versions" / index_version)
    r = IndexRelease(
        index_version=index_version, build_root=str(Path(build_root).resolve()),
        embedder=f"{manifest['embedder']['model_id']}:{manifest['embedder']['dim']}",
        fingerprint=fingerprint_hash(manifest), n_chunks=int(manifest.get("n_chunks", 0)), status="built",
        notes=notes, built_by=actor.name,
    )
    r.versions = [get_version(s, i) for i in version_ids]
    s.add(r)
    s.flush()
    audit.record(s, actor, "release.build", "release", r.id, None, release_dict(r), {"index_version": index_version})
    return r


def _transition(s: Session, actor: Actor, r: IndexRelease, want: tuple[str, ...], to: str, action: str, **fields: Any) -> IndexRelease:
    if r.status not in want:
        raise Conflict(f"release {r.id} is {r.status}; {action.split('.')[1]} needs {' or '.join(want)}")
    before = release_dict(r)
    r.status = to
    for k, v in fields.items():
        setattr(r, k, v)
    s.flush()
    audit.record(s, actor, action, "release", r.id, before, release_dict(r), {"status": to})
    return r


def submit(s: Session, actor: Actor, release_id: int) -> IndexRelease:
    r = _transition(s, actor, get_release(s, release_id), ("built",), "submitted", "release.submit", submitted_by=actor.name)
    for v in r.versions:
        if v.status == "draft":
            set_version_status(s, actor, v, "in_review", f"in release {r.id}", "version.review")
    return r


def approve(s: Session, actor: Actor, release_id: int) -> IndexRelease:
    r = get_release(s, release_id)
    if actor.name in (r.submitted_by, r.built_by):
        audit.record(s, actor, "release.approve_refused", "release", r.id, detail={"reason": "self-approval"})
        raise Forbidden(
            f"{actor.name} submitted release {r.id} and cannot approve it",
            hint="a second person with the approver role must approve",
        )
    r = _transition(s, actor, r, ("submitted",), "approved", "release.approve", approved_by=actor.name)
    for v in r.versions:
        if v.status in ("draft", "in_review"):
            set_version_status(s, actor, v, "approved", f"approved in release {r.id}", "version.approve")
    return r


def reject(s: Session, actor: Actor, release_id: int, reason: str) -> IndexRelease:
    r = _transition(s, actor, get_release(s, release_id), ("submitted", "approved"), "rejected", "release.reject", notes=reason)
    return r


def _link_version(build_root: Path, served_root: Path, version: str) -> None:
    """Make ``served_root/versions/<version>`` (hard links, copies across file systems), atomically."""
    final = served_root / "versions" / version
    if final.is_dir():
        return
    src = build_root / "versions" / version
    if not src.is_dir():
        raise IndexNotFound(f"release files for {version} are gone from {build_root}", hint="build a new release")
    tmp = served_root / f".build-{version}"
    shutil.rmtree(tmp, ignore_errors=True)

    def link(a: str, b: str) -> None:
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    shutil.copytree(src, tmp, copy_function=link)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)


def serve(r: IndexRelease, served_root: Path) -> str | None:
    """Point the served root at the release; returns the version served before."""
    served_root = Path(served_root)
    with writer_lock(served_root):
        before = current_version(served_root)
        _link_version(Path(r.build_root), served_root, r.index_version)
        set_current(served_root, r.index_version)  # loads and checks the version before switching
    return before


def _activate(s: Session, actor: Actor, r: IndexRelease, step_down: str, reason: str) -> None:
    """Versions in ``r`` become active; other active versions step down to ``step_down`` (retired when a
    newer version of the same guideline is published; approved, i.e. citable again later, on rollback)."""
    inside = {v.id for v in r.versions}
    for v in r.versions:
        if v.status != "active":
            set_version_status(s, actor, v, "active", f"served in release {r.id}", "version.activate")
    guidelines = {v.guideline_id for v in r.versions}
    for v in s.scalars(select(GuidelineVersion).where(GuidelineVersion.status == "active")):
        if v.id not in inside:
            status = step_down if v.guideline_id in guidelines else "approved"
            set_version_status(s, actor, v, status, f"{reason} release {r.id}", f"version.{status}")


def publish(s: Session, actor: Actor, release_id: int, served_root: Path) -> IndexRelease:
    r = get_release(s, release_id)
    if r.status != "approved":
        raise Conflict(f"release {r.id} is {r.status}; only an approved release can be published", hint="submit it and have it approved")
    before = serve(r, served_root)
    r = _transition(s, actor, r, ("approved",), "published", "release.publish", published_by=actor.name, published_at=utcnow())
    _activate(s, actor, r, "retired", "superseded in")
    audit.record(s, actor, "index.switch", "index", str(served_root), {"current": before}, {"current": r.index_version})
    return r


def rollback(s: Session, actor: Actor, release_id: int, served_root: Path, force: bool = False) -> IndexRelease:
    """Serve an earlier published release again; the release served until now is withdrawn."""
    r = get_release(s, release_id)
    if r.status != "published":
        raise Conflict(f"release {r.id} is {r.status}; rollback returns to a published release")
    manual = [v for v in r.versions if v.status in ("retired", "rejected") and not (v.status_reason or "").startswith("superseded")]
    if manual and not force:
        raise Conflict(
            f"release {r.id} contains versions retired by a curator: {', '.join(f'{v.guideline.slug} {v.label}' for v in manual)}",
            hint="build a new release, or pass force to serve them anyway",
        )
    now = release_for_version(s, current_version(Path(served_root)))
    if now is not None and now.id == r.id:
        raise Conflict(f"release {r.id} is already served")
    before = serve(r, served_root)
    if now is not None and now.status == "published":
        _transition(s, actor, now, ("published",), "withdrawn", "release.withdraw")
    _activate(s, actor, r, "approved", "rolled back to")
    audit.record(s, actor, "release.rollback", "release", r.id, {"current": before}, {"current": r.index_version},
                 {"from_release": now.id if now else None})
    return r


def served_release(s: Session, served_root: Path) -> dict[str, Any]:
    cur = current_version(Path(served_root))
    r = release_for_version(s, cur)
    return {"index_version": cur, "release": release_dict(r) if r else None}


__all__ = ["approve", "get_release", "list_releases", "publish", "reject", "release_dict", "rollback", "submit", "version_dict"]
