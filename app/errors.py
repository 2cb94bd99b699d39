"""Error hierarchy used by the app wing: the base and index errors come from ingest.errors."""

from __future__ import annotations

from ingest.errors import (
    BadInput,
    ConfigError,
    GuidegroundError,
    IndexCorrupt,
    IndexLocked,
    IndexNotFound,
    UsageError,
)


class NotFound(GuidegroundError):
    http_status = 404
    exit_code = 1
    code = "not_found"


class ServiceNotReady(GuidegroundError):
    http_status = 503
    exit_code = 1
    code = "not_ready"


__all__ = [
    "BadInput",
    "ConfigError",
    "GuidegroundError",
    "IndexCorrupt",
    "IndexLocked",
    "IndexNotFound",
    "NotFound",
    "ServiceNotReady",
    "UsageError",
]
