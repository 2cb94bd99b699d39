"""The OpenAPI document, completed with what the middleware and the settings add to every route:

* every error response uses the one error model (``ErrorBody``), 422 included (FastAPI's default
  ``HTTPValidationError`` is not what the API sends);
* 400 (unreadable body) and 413 on every operation with a request body (``limits.max_body_bytes``), 503 (service not ready, or
  overloaded with ``Retry-After``) and 504 (``limits.request_timeout_seconds``) on every gated route;
* the request limits show the served settings (``limits.max_question_chars``, ``limits.max_top_k``),
  so a client reading the schema and the service checking the request agree even when an operator
  lowers a limit.

Route-specific codes (401, 403, 404) are declared on the routes with ``error_responses``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.api.overload import gated
from app.errors import ErrorBody
from app.settings import Settings

REF = "#/components/schemas/ErrorBody"
DESCRIPTIONS = {
    400: "The body could not be read as the declared content type (e.g. broken multipart or encoding)",
    401: "Missing or unknown API key",
    403: "The API key's role may not use this route",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large (limits.max_body_bytes)",
    422: "Invalid request (the body says which field and why)",
    503: "Service not ready (no index, models loading) or overloaded (then with Retry-After)",
    504: "No answer within limits.request_timeout_seconds",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying (overload only).", "schema": {"type": "integer"}}}


def error_response(code: int, description: str | None = None) -> dict[str, Any]:
    """An OpenAPI response entry with the error model (for ``responses=`` on a route)."""
    return {"model": ErrorBody, "description": description or DESCRIPTIONS.get(code, "Error")}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=error_responses(404, 503)`` on a route documents those codes with the error model."""
    return {code: error_response(code) for code in codes}


def _error_entry(code: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "description": DESCRIPTIONS.get(code, "Error"),
        "content": {"application/json": {"schema": {"$ref": REF}}},
    }
    if code == 503:
        entry["headers"] = RETRY_AFTER
    return entry


def complete(doc: dict[str, Any], settings: Settings) -> dict[str, Any]:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path, ops in doc.get("paths", {}).items():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = _error_entry(422)
            codes = ([400, 413] if "requestBody" in op else []) + ([503, 504] if gated(path) else [])
            for code in codes:
                responses.setdefault(str(code), _error_entry(code))
            if "503" in responses and gated(path):
                responses["503"].setdefault("headers", RETRY_AFTER)
    _apply_limits(schemas, settings)
    return doc


def _apply_limits(schemas: dict[str, Any], settings: Settings) -> None:
    props = schemas.get("QueryRequest", {}).get("properties", {})
    if "question" in props:
        props["question"]["maxLength"] = settings.limits.max_question_chars
    for branch in props.get("top_k", {}).get("anyOf", [props.get("top_k", {})]):
        if branch.get("type") == "integer":
            branch["maximum"] = settings.limits.max_top_k


def optional_auth(doc: dict[str, Any], settings: Settings) -> None:
    """Reader routes are open unless auth.require_reader_key: their security requirement then also
    lists ``{}`` (no key), as OpenAPI spells "optional". A reader route is one that documents 401
    (a key that is sent must be valid) but no 403 (any role may use it): app.api.auth's
    READER_RESPONSES against AUTH_RESPONSES."""
    auth = getattr(settings, "auth", None)
    if auth is None or getattr(auth, "require_reader_key", False):
        return
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            codes = op.get("responses", {})
            if op.get("security") and "401" in codes and "403" not in codes and {} not in op["security"]:
                op["security"].append({})


def install_openapi(app: FastAPI, settings: Settings) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title, version=app.version, openapi_version=app.openapi_version,
                description=app.description, routes=app.routes, tags=app.openapi_tags, servers=app.servers,
            )
            optional_auth(doc, settings)
            app.openapi_schema = complete(doc, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
