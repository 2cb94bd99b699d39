"""The guideline registry: guidelines, their versions (file + metadata) and version status.

A registered file is copied to ``<registry_dir>/<slug>/<label>/`` beside a one-row ``manifest.csv``
sidecar, so ingest reads the registry's metadata (doc_id = the guideline's slug, version = the label)
and an unchanged version is never re-embedded by a later release build.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.curation import audit
from app.curation.errors import Conflict
from app.curation.models import Guideline, GuidelineVersion
from app.curation.roles import Actor
from app.errors import BadInput, NotFound

SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,119}$")
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
SUFFIXES = {".pdf", ".html", ".htm", ".docx", ".md", ".markdown", ".txt"}
MAX_BYTES = 200_000_000


def guideline_dict(g: Guideline, with_versions: bool = True) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": g.id, "slug": g.slug, "title": g.title, "issuer": g.issuer, "topic": g.topic, "url": g.url,
        "created_at": g.created_at.isoformat(), "created_by": g.created_by,
    }
    if with_versions:
        d["versions"] = [version_dict(v) for v in g.versions]
    return d


def version_dict(v: GuidelineVersion) -> dict[str, Any]:
    return {
        "id": v.id, "guideline_id": v.guideline_id, "doc_id": v.guideline.slug, "label": v.label,
        "published": _d(v.published), "effective": _d(v.effective), "next_review": _d(v.next_review),
        "file_name": v.file_name, "sha256": v.sha256, "status": v.status, "status_reason": v.status_reason,
        "supersedes_id": v.supersedes_id, "created_at": v.created_at.isoformat(), "created_by": v.created_by,
    }


def _d(v: date | None) -> str | None:
    return v.isoformat() if v else None


def create_guideline(s: Session, actor: Actor, slug: str, title: str, issuer: str = "", topic: str = "", url: str = "") -> Guideline:
    if not SLUG.match(slug):
        raise BadInput(f"invalid slug '{slug}'", hint="lower-case letters, digits, '.', '_' and '-' (it becomes the doc_id)")
    if not title.strip():
        raise BadInput("title is empty")
    if s.scalar(select(Guideline).where(Guideline.slug == slug)) is not None:
        raise Conflict(f"guideline '{slug}' already exists", hint="add a version to it instead")
    g = Guideline(slug=slug, title=title.strip(), issuer=issuer.strip(), topic=topic.strip(), url=url.strip(), created_by=actor.name)
    s.add(g)
    s.flush()
    audit.record(s, actor, "guideline.create", "guideline", g.id, None, guideline_dict(g, False))
    return g


def get_guideline(s: Session, ref: str | int) -> Guideline:
    g = s.get(Guideline, int(ref)) if str(ref).isdigit() else s.scalar(select(Guideline).where(Guideline.slug == str(ref)))
    if g is None:
        raise NotFound(f"no guideline '{ref}'", hint="list them with `guideground guidelines list`")
    return g


def list_guidelines(s: Session) -> list[Guideline]:
    return list(s.scalars(select(Guideline).order_by(Guideline.slug)))


def get_version(s: Session, version_id: int) -> GuidelineVersion:
    v = s.get(GuidelineVersion, version_id)
    if v is None:
        raise NotFound(f"no guideline version {version_id}", hint="list versions with `guideground guidelines show SLUG`")
    return v


def add_version(
    s: Session,
    actor: Actor,
    registry_dir: Path,
    guideline_ref: str | int,
    label: str,
    file_name: str,
    data: bytes,
    published: date | None = None,
    effective: date | None = None,
    next_review: date | None = None,
    supersedes_id: int | None = None,
) -> GuidelineVersion:
    """Register one version: validate, store the file and its sidecar, record it as a draft."""
    g = get_guideline(s, guideline_ref)
    if not LABEL.match(label):
        raise BadInput(f"invalid version label '{label}'", hint="letters, digits, '.', '_' and '-', e.g. 2026.1")
    name = Path(file_name).name
    if Path(name).suffix.lower() not in SUFFIXES:
        raise BadInput(f"unsupported file type '{name}'", hint=f"one of {', '.join(sorted(SUFFIXES))}")
    if not data or len(data) > MAX_BYTES:
        raise BadInput(f"file '{name}' is empty or larger than {MAX_BYTES // 1_000_000} MB")
    if any(v.label == label for v in g.versions):
        raise Conflict(f"{g.slug} already has a version '{label}'", hint="use a new label")
    if supersedes_id is not None:
        old = get_version(s, supersedes_id)
        if old.guideline_id != g.id:
            raise BadInput(f"version {supersedes_id} belongs to another guideline")
    sha = hashlib.sha256(data).hexdigest()
    folder = Path(registry_dir) / g.slug / label
    _store(folder, name, data, g, label, published)
    v = GuidelineVersion(
        guideline_id=g.id, label=label, published=published, effective=effective, next_review=next_review,
        file_name=name, stored_path=str((folder / name).resolve()), sha256=sha, status="draft",
        supersedes_id=supersedes_id, created_by=actor.name,
    )
    s.add(v)
    s.flush()
    s.refresh(g)
    audit.record(s, actor, "version.register", "guideline_version", v.id, None, version_dict(v), {"slug": g.slug, "sha256": sha})
    return v


def _store(folder: Path, name: str, data: bytes, g: Guideline, label: str, published: date | None) -> None:
    if folder.exists():
        shutil.rmtree(folder)  # left by a registration whose transaction failed
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["doc_id", "file", "title", "issuer", "published", "version", "url", "license"])
        w.writerow([g.slug, name, g.title, g.issuer, _d(published) or "", label, g.url, ""])


def set_version_status(s: Session, actor: Actor, v: GuidelineVersion, status: str, reason: str | None, action: str) -> None:
    before = version_dict(v)
    v.status, v.status_reason = status, reason
    s.flush()
    audit.record(s, actor, action, "guideline_version", v.id, before, version_dict(v), {"status": status, "reason": reason})


def retire_version(s: Session, actor: Actor, version_id: int, reason: str) -> GuidelineVersion:
    """Take a version out of every future release (it stays in the releases that contain it)."""
    v = get_version(s, version_id)
    if v.status in ("retired", "rejected"):
        raise Conflict(f"version {version_id} is already {v.status}")
    set_version_status(s, actor, v, "retired", reason or "retired by curator", "version.retire")
    return v


def reject_version(s: Session, actor: Actor, version_id: int, reason: str) -> GuidelineVersion:
    v = get_version(s, version_id)
    if v.status not in ("draft", "in_review"):
        raise Conflict(f"only draft or in-review versions can be rejected (version {version_id} is {v.status})")
    set_version_status(s, actor, v, "rejected", reason or "rejected", "version.reject")
    return v


def citable_versions(s: Session) -> list[GuidelineVersion]:
    """The versions a new release contains: per guideline the newest non-retired, non-rejected version
    that no other candidate supersedes. Retired and superseded versions never enter a new release."""
    cands = list(s.scalars(select(GuidelineVersion).where(GuidelineVersion.status.in_(("draft", "in_review", "approved", "active")))))
    superseded = {v.supersedes_id for v in cands if v.supersedes_id is not None}
    out: dict[int, GuidelineVersion] = {}
    for v in sorted(cands, key=lambda v: v.id):
        if v.id in superseded:
            continue
        out[v.guideline_id] = v  # a later registration of the same guideline wins
    return sorted(out.values(), key=lambda v: v.id)
