"""Engines, sessions and migrations for the curation database (SQLite file by default, PostgreSQL tested).

A PostgreSQL schema other than ``public`` is chosen in the URL itself, the libpq way:
``postgresql+psycopg://user@host/db?options=-csearch_path%3Dmyschema`` (the tests use one per run).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, mask_url, normalize_url
from app.errors import ConfigError

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"
VERSION_TABLE = "alembic_version"


def alembic_config(url: str, engine: Engine | None = None) -> Any:
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI))
    cfg.attributes["url"] = url
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the database behind ``engine`` to ``revision``; returns the revision it is at afterwards."""
    from alembic import command

    cfg = alembic_config(str(engine.url))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except Exception as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(
            f"cannot migrate the curation database at {mask_url(str(engine.url))}: {exc.__class__.__name__}: {exc}",
            hint="check GUIDEGROUND_DATABASE__URL and that the database server is running",
        ) from exc
    return current_revision(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    from alembic import command

    cfg = alembic_config(str(engine.url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert head is not None
    return head


def has_tables(engine: Engine) -> bool:
    return VERSION_TABLE in inspect(engine).get_table_names()


class Database:
    """An engine and its session factory. ``session()`` commits on success and rolls back on error."""

    def __init__(self, url: str, migrate: bool = True, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, echo)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            upgrade(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        s = self._sessions()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()
