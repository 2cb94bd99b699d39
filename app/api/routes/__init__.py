"""Routes, one module per resource. A new resource adds its router to ROUTERS (the app includes them in order)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routes import chunks, guidelines, health, query

ROUTERS: list[APIRouter] = [
    query.router,
    chunks.router,
    guidelines.router,
    health.router,
]

__all__ = ["ROUTERS"]
