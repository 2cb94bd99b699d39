"""Prometheus metrics. Labels are closed sets (status, reason, stage): no question text ever."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)
QUERIES = Counter("guideground_queries_total", "Queries by outcome", ["status", "reason"], registry=REGISTRY)
STAGE_SECONDS = Histogram(
    "guideground_stage_seconds",
    "Server-side time per query stage",
    ["stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)
INDEX_CHUNKS = Gauge("guideground_index_chunks", "Chunks in the served index version", registry=REGISTRY)
CACHE_HITS = Gauge("guideground_query_cache_hits", "Query-embedding cache hits", registry=REGISTRY)


def observe(resp) -> None:
    QUERIES.labels(resp.status, resp.reason or "").inc()
    for stage, ms in resp.timings_ms.model_dump().items():
        STAGE_SECONDS.labels(stage).observe(ms / 1000.0)
IN_FLIGHT = Gauge("guideground_requests_in_flight", "Gated requests running now (this worker)", registry=REGISTRY)
QUEUED = Gauge("guideground_requests_queued", "Gated requests waiting for a slot (this worker)", registry=REGISTRY)
REJECTED = Counter(
    "guideground_requests_rejected_total", "Requests answered 503 overloaded or 504 timeout", ["reason"], registry=REGISTRY
)
