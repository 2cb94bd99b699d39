"""Helpers for the curation tests: a database per test on SQLite or the local PostgreSQL server.

PostgreSQL tests get a schema of their own (chosen in the URL with libpq's ``options``), dropped after
the test, so parallel runs on the one ``test`` database never collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("GUIDEGROUND_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def pg_schema_url() -> Iterator[str]:
    schema = f"gg_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'curation.db'}"
        return
    with pg_schema_url() as url:
        yield url
