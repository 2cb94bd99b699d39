"""`guideground db upgrade|current`: the curation database's migrations (Alembic).

Its group is mounted by app/cli.py; the shared options and helpers are in app/curation/cli_common.py.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from app.curation.cli_common import JsonOpt, run_plain, sub

db_app = sub("Curation database: migrations (Alembic).")


# ------------------------------------------------------------------------------------------ db
@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Option(help="Target revision.")] = "head", as_json: JsonOpt = False) -> None:
    """Create or migrate the curation tables (alembic upgrade)."""
    from app.curation.db import Database, current_revision, upgrade
    from app.db import mask_url

    def run(_: Any) -> dict[str, Any]:
        from app.settings import get_settings

        db = Database(get_settings().database.url, migrate=False)
        try:
            before = current_revision(db.engine)
            after = upgrade(db.engine, revision)
        finally:
            db.dispose()
        return {"database": mask_url(db.url), "before": before, "after": after}

    run_plain(run, as_json)


@db_app.command("current")
def db_current(as_json: JsonOpt = False) -> None:
    """The database's migration revision and the code's head."""
    from app.curation.db import Database, current_revision, head_revision
    from app.db import mask_url

    def run(_: Any) -> dict[str, Any]:
        from app.settings import get_settings

        db = Database(get_settings().database.url, migrate=False)
        try:
            return {"database": mask_url(db.url), "current": current_revision(db.engine), "head": head_revision()}
        finally:
            db.dispose()

    run_plain(run, as_json)
