"""CurationService: the one entry point routes and the CLI call. Each method is one transaction and
returns plain dicts (JSON-ready); the modules beside it hold the rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.curation import answers, audit, export, keys, queue, registry, releases
from app.curation.db import Database
from app.curation.errors import Conflict, Forbidden
from app.curation.feedback import FeedbackIn, feedback_dict, submit_feedback
from app.curation.queue import ResolveIn
from app.curation.roles import Actor
from app.errors import BadInput, ConfigError
from app.settings import Settings

if TYPE_CHECKING:
    from app.query.schemas import QueryResponse


class CurationService:
    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.database.url, migrate=settings.database.auto_migrate)
        self.served_root = Path(settings.index.dir)

    @classmethod
    def from_settings(cls, settings: Settings) -> CurationService:
        return cls(settings)

    def dispose(self) -> None:
        self.db.dispose()

    # ---------------------------------------------------------------- keys and audit
    def authenticate(self, key: str) -> Actor:
        with self.db.session() as s:
            return keys.authenticate(s, key)

    def create_key(self, actor: Actor, name: str, role: str) -> dict[str, Any]:
        with self.db.session() as s:
            row, key = keys.create_key(s, actor, name, role)
            return keys.key_dict(row) | {"key": key}

    def revoke_key(self, actor: Actor, key_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            return keys.key_dict(keys.revoke_key(s, actor, key_id))

    def list_keys(self) -> list[dict[str, Any]]:
        with self.db.session() as s:
            return [keys.key_dict(k) for k in keys.list_keys(s)]

    def audit_events(self, **filters: Any) -> list[dict[str, Any]]:
        with self.db.session() as s:
            return [audit.event_dict(e) for e in audit.list_events(s, **filters)]

    # ---------------------------------------------------------------- registry
    def create_guideline(self, actor: Actor, **fields: Any) -> dict[str, Any]:
        with self.db.session() as s:
            return registry.guideline_dict(registry.create_guideline(s, actor, **fields))

    def list_guidelines(self) -> list[dict[str, Any]]:
        with self.db.session() as s:
            return [registry.guideline_dict(g) for g in registry.list_guidelines(s)]

    def get_guideline(self, ref: str | int) -> dict[str, Any]:
        with self.db.session() as s:
            return registry.guideline_dict(registry.get_guideline(s, ref))

    def add_version(self, actor: Actor, guideline: str | int, label: str, file_name: str, data: bytes, **dates: date | int | None) -> dict[str, Any]:
        with self.db.session() as s:
            v = registry.add_version(s, actor, self.settings.curation.registry_dir, guideline, label, file_name, data, **dates)  # type: ignore[arg-type]
            return registry.version_dict(v)

    def get_version(self, version_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            return registry.version_dict(registry.get_version(s, version_id))

    def retire_version(self, actor: Actor, version_id: int, reason: str) -> dict[str, Any]:
        with self.db.session() as s:
            return registry.version_dict(registry.retire_version(s, actor, version_id, reason))

    def reject_version(self, actor: Actor, version_id: int, reason: str) -> dict[str, Any]:
        with self.db.session() as s:
            return registry.version_dict(registry.reject_version(s, actor, version_id, reason))

    # ---------------------------------------------------------------- releases
    def build_release(self, actor: Actor, notes: str | None = None, embedder: Any = None) -> dict[str, Any]:
        """Ingest the citable versions into the build root (no DB transaction held while embedding)."""
        from ingest.embed import get_embedder
        from ingest.pipeline import run_ingest

        with self.db.session() as s:
            chosen = [(v.id, Path(v.stored_path)) for v in registry.citable_versions(s)]
        if not chosen:
            # The request is fine; the registry's state does not allow it yet.
            raise Conflict("no citable guideline version in the registry", hint="register one with `guideground guidelines add-version`")
        root = Path(self.settings.curation.build_dir)
        if root.resolve() == self.served_root.resolve():
            raise ConfigError(
                f"curation.build_dir and index.dir are both {root}: a build would be served before approval",
                hint="set GUIDEGROUND_CURATION__BUILD_DIR to a folder of its own",
            )
        emb = embedder or get_embedder(self.settings.ingest.embedding)
        report = run_ingest([p for _, p in chosen], root, self.settings.ingest, emb)
        if report.failed:
            f = report.failed[0]
            raise BadInput(f"{len(report.failed)} file(s) failed to ingest, e.g. {f.path}: {f.reason}", hint=f.hint or "fix or retire the version")
        with self.db.session() as s:
            r = releases.record_build(s, actor, root, str(report.version), [i for i, _ in chosen], notes)
            return releases.release_dict(r) | {"ingest": {"n_embedded_chunks": report.n_embedded_chunks, "n_reused_chunks": report.n_reused_chunks}}

    def list_releases(self) -> list[dict[str, Any]]:
        with self.db.session() as s:
            return [releases.release_dict(r) for r in releases.list_releases(s)]

    def get_release(self, release_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            return releases.release_dict(releases.get_release(s, release_id))

    def served(self) -> dict[str, Any]:
        with self.db.session() as s:
            return releases.served_release(s, self.served_root)

    def submit_release(self, actor: Actor, release_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            return releases.release_dict(releases.submit(s, actor, release_id))

    def approve_release(self, actor: Actor, release_id: int) -> dict[str, Any]:
        # The refusal is audited too, so it is committed in its own transaction before the error surfaces.
        refused = None
        with self.db.session() as s:
            try:
                return releases.release_dict(releases.approve(s, actor, release_id))
            except Forbidden as exc:
                refused = exc
        raise refused

    def reject_release(self, actor: Actor, release_id: int, reason: str) -> dict[str, Any]:
        with self.db.session() as s:
            return releases.release_dict(releases.reject(s, actor, release_id, reason))

    def publish_release(self, actor: Actor, release_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            return releases.release_dict(releases.publish(s, actor, release_id, self.served_root))

    def rollback(self, actor: Actor, release_id: int, force: bool = False) -> dict[str, Any]:
        with self.db.session() as s:
            return releases.release_dict(releases.rollback(s, actor, release_id, self.served_root, force))

    # ---------------------------------------------------------------- answers, feedback, queue
    def record_answer(self, question: str, resp: QueryResponse, request_id: str | None = None, actor: str | None = None) -> str:
        with self.db.session() as s:
            return answers.record_answer(s, question, resp, request_id, actor).id

    def get_answer(self, query_id: str) -> dict[str, Any]:
        with self.db.session() as s:
            return answers.answer_dict(answers.get_answer(s, query_id))

    def submit_feedback(self, actor: Actor, fb: FeedbackIn) -> dict[str, Any]:
        with self.db.session() as s:
            row, item = submit_feedback(s, actor, fb)
            return feedback_dict(row) | {"curation_item_id": item.id if item else None, "kind": item.kind if item else None}

    def list_items(self, status: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        with self.db.session() as s:
            return [queue.item_dict(i) for i in queue.list_items(s, status, kind)]

    def get_item(self, item_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            return queue.item_dict(queue.get_item(s, item_id))

    def triage_item(self, actor: Actor, item_id: int, assignee: str | None = None) -> dict[str, Any]:
        with self.db.session() as s:
            return queue.item_dict(queue.triage(s, actor, item_id, assignee))

    def dismiss_item(self, actor: Actor, item_id: int, note: str | None = None) -> dict[str, Any]:
        with self.db.session() as s:
            d = queue.item_dict(queue.dismiss(s, actor, item_id, note))
            d["training"] = export.write_training(s, self.settings.curation.feedback_dir)
            return d

    def resolve_item(self, actor: Actor, item_id: int, res: ResolveIn) -> dict[str, Any]:
        with self.db.session() as s:
            d = queue.item_dict(queue.resolve(s, actor, item_id, res))
            d["training"] = export.write_training(s, self.settings.curation.feedback_dir)
            return d

    def export_cases(self) -> list[dict[str, Any]]:
        with self.db.session() as s:
            return [c.model_dump(exclude_none=True) for c in export.export_cases(s)]

    def write_training(self) -> dict[str, Any]:
        with self.db.session() as s:
            return export.write_training(s, self.settings.curation.feedback_dir)
