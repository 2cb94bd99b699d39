"""Alembic migrations on SQLite and PostgreSQL: from an empty database, from the previous revision
(data kept), down again; the migrated schema equals the models; the package's alembic.ini works with
the `alembic` command itself; `guideground db upgrade` and the masked URL in `guideground config`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from curation_helpers import REPO, database_url
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from app.curation.db import ALEMBIC_INI, Database, current_revision, downgrade, head_revision, upgrade
from app.curation.models import Base

KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("kind", KINDS)
def test_upgrade_from_empty_and_from_previous_revision(kind: str, tmp_path: Path) -> None:
    with database_url(kind, tmp_path) as url:
        db = Database(url, migrate=False)
        try:
            assert current_revision(db.engine) is None
            assert upgrade(db.engine, "0001") == "0001"
            assert "cur_answers" not in inspect(db.engine).get_table_names()
            with db.engine.begin() as c:  # data written at the previous revision survives the upgrade
                c.execute(text("INSERT INTO cur_guidelines (slug, title, issuer, topic, url, created_at, created_by) "
                               "VALUES ('g', 'T', '', '', '', CURRENT_TIMESTAMP, 'test')"))
            assert upgrade(db.engine) == head_revision() == "0002"
            with db.engine.connect() as c:
                assert c.execute(text("SELECT slug FROM cur_guidelines")).scalars().all() == ["g"]
                assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []
            assert upgrade(db.engine) == "0002"  # idempotent
            assert downgrade(db.engine, "base") is None
            assert not [t for t in inspect(db.engine).get_table_names() if t.startswith("cur_")]
            assert upgrade(db.engine) == "0002"  # and up again from empty
        finally:
            db.dispose()


@pytest.mark.postgres
def test_audit_events_are_append_only_on_postgres(tmp_path: Path) -> None:
    from sqlalchemy.exc import DBAPIError

    with database_url("postgres", tmp_path) as url:
        db = Database(url)
        try:
            with db.engine.begin() as c:
                c.execute(text("INSERT INTO cur_audit_events (at, actor, role, action, object_type, object_id, detail) "
                               "VALUES (now(), 'a', 'admin', 'x', 'y', '1', '{}')"))
            for stmt in ("UPDATE cur_audit_events SET actor = 'b'", "DELETE FROM cur_audit_events"):
                with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as c:
                    c.execute(text(stmt))
        finally:
            db.dispose()


def test_alembic_command_from_the_package(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    alembic = Path(sys.executable).with_name("alembic")
    env = dict(os.environ, GUIDEGROUND_DATABASE__URL=url)
    done = subprocess.run([str(alembic), "-c", str(ALEMBIC_INI), "upgrade", "head"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([str(alembic), "-c", str(ALEMBIC_INI), "current"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "0002 (head)" in done.stdout, done.stdout + done.stderr


def test_db_upgrade_command_and_masked_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cli import app
    from app.settings import get_settings

    monkeypatch.setenv("GUIDEGROUND_DATABASE__URL", f"sqlite:///{tmp_path / 'g.db'}")
    get_settings.cache_clear()
    try:
        up = CliRunner().invoke(app, ["db", "upgrade", "--json"])
        assert up.exit_code == 0, up.output
        assert json.loads(up.stdout) | {"database": None} == {"database": None, "before": None, "after": "0002"}
        cur = CliRunner().invoke(app, ["db", "current", "--json"])
        assert json.loads(cur.stdout)["current"] == json.loads(cur.stdout)["head"] == "0002"
        monkeypatch.setenv("GUIDEGROUND_DATABASE__URL", "postgresql://gg:hunter2@db.internal:5432/guideground")
        get_settings.cache_clear()
        cfg = CliRunner().invoke(app, ["config", "--json"])
        assert cfg.exit_code == 0 and "hunter2" not in cfg.stdout
        assert json.loads(cfg.stdout)["database"]["url"] == "postgresql+psycopg://gg:***@db.internal:5432/guideground"
        assert "hunter2" not in CliRunner().invoke(app, ["config"]).stdout
    finally:
        get_settings.cache_clear()
    assert (REPO / "app" / "curation" / "migrations" / "versions").is_dir()
