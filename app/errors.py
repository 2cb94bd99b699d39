"""Error hierarchy used by the app wing: the base and index errors come from ingest.errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

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


class Overloaded(GuidegroundError):
    """Too many requests running and waiting (the API adds Retry-After)."""

    http_status = 503
    exit_code = 1
    code = "overloaded"


class RequestTimeout(GuidegroundError):
    http_status = 504
    exit_code = 1
    code = "timeout"


class ErrorBody(BaseModel):
    """The one error body every API error has (``GuidegroundError.to_dict()``; 422 adds ``detail``)."""

    error: str = Field(description="Machine-readable code, e.g. not_found, invalid_request, overloaded, timeout.")
    message: str = Field(description="What went wrong, for a human.")
    hint: str | None = Field(None, description="What to do next.")
    detail: list[dict[str, Any]] | None = Field(None, description="Validation errors (422 only): loc, msg, type.")


__all__ = [
    "ErrorBody",
    "Overloaded",
    "RequestTimeout",
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
