"""One error hierarchy (the base lives in the lower wing so ingest/ never imports app/): every error carries a user-facing hint, an HTTP status and a CLI exit code."""

from __future__ import annotations


class GuidegroundError(Exception):
    """Base class. ``hint`` tells the user what to do next."""

    http_status = 500
    exit_code = 1
    code = "internal_error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, str | None]:
        return {"error": self.code, "message": self.message, "hint": self.hint}


class IndexNotFound(GuidegroundError):
    http_status = 503
    exit_code = 2
    code = "index_not_found"


class IndexCorrupt(GuidegroundError):
    http_status = 503
    exit_code = 1
    code = "index_corrupt"


class ConfigError(GuidegroundError):
    http_status = 500
    exit_code = 2
    code = "config_error"


class UsageError(GuidegroundError):
    http_status = 422
    exit_code = 2
    code = "usage_error"


class BadInput(GuidegroundError):
    """A single input file or request body that cannot be used; the batch continues."""

    http_status = 422
    exit_code = 1
    code = "bad_input"


class IndexLocked(GuidegroundError):
    http_status = 409
    exit_code = 2
    code = "index_locked"
