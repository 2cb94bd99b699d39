"""Errors the curation layer adds to the one hierarchy (mapped to HTTP codes and CLI exit codes)."""

from __future__ import annotations

from app.errors import GuidegroundError


class Unauthorized(GuidegroundError):
    http_status = 401
    exit_code = 2
    code = "unauthorized"


class Forbidden(GuidegroundError):
    http_status = 403
    exit_code = 2
    code = "forbidden"


class Conflict(GuidegroundError):
    """The object is not in a state that allows this step (e.g. publishing an unapproved release)."""

    http_status = 409
    exit_code = 1
    code = "conflict"
