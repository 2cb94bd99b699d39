"""Routes, one module per resource. A new resource adds its router to ROUTERS (the app includes them in order)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.auth import reader_routes
from app.api.routes import (
    admin,
    answers,
    chunks,
    curation,
    feedback,
    guidelines,
    health,
    query,
    registry,
    releases,
    stream,
)
from app.web import routes as web

ROUTERS: list[APIRouter] = [
    reader_routes(query.router, stream.router, chunks.router, guidelines.router),  # open unless auth.require_reader_key
    health.router,
    web.router,  # the review web page (/, /curate, /eval); off with web.enabled=false
    registry.router,  # curation (app/curation): every route below needs an API key with a role
    releases.router,
    answers.router,
    feedback.router,
    curation.router,
    admin.router,
]

__all__ = ["ROUTERS"]
