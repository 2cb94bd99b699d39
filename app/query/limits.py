"""Request limits: the one definition the settings (defaults and ceilings), the request schema (and so
the OpenAPI document) and the service's checks all read. Settings may lower a limit, never raise it past
the value the schema declares; the app rewrites its OpenAPI document when a limit is lowered."""

from __future__ import annotations

MIN_QUESTION_CHARS = 3
MAX_QUESTION_CHARS = 2000
MAX_TOP_K = 20
MAX_BODY_BYTES = 64_000
