"""Walk the OpenAPI document: every route except the reader routes, health, metrics and docs answers
401 without a key and 403 with a reader key, so a new route cannot skip the check. With reader keys
required, the reader routes answer 401 without one. Real app, real SQLite database, no index needed:
the key check runs before anything else."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from app.curation.roles import cli_actor
from app.curation.service import CurationService
from app.settings import Settings

READER = {("POST", "/v1/query"), ("POST", "/v1/query/stream"), ("GET", "/v1/chunks/{chunk_id}"), ("GET", "/v1/guidelines"), ("GET", "/")}
OPEN_PREFIXES = ("/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json")


def operations(client: TestClient) -> list[tuple[str, str, dict]]:
    doc = client.get("/openapi.json").json()
    return [(m.upper(), p, op) for p, ops in doc["paths"].items() for m, op in ops.items() if m in ("get", "post", "put", "patch", "delete")]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def call(client: TestClient, method: str, path: str, key: str | None = None):
    headers = {"X-API-Key": key} if key else {}
    return client.request(method, concrete(path), headers=headers, json={} if method in ("POST", "PUT", "PATCH") else None)


@pytest.fixture
def app_keys(tmp_path):
    def make(require_reader_key: bool = False):
        s = Settings(
            index={"dir": str(tmp_path / "no-index")},
            database={"url": f"sqlite:///{tmp_path / 'auth.db'}"},
            auth={"require_reader_key": require_reader_key},
            safety={"enabled": False},
            curation={"registry_dir": str(tmp_path / "reg"), "build_dir": str(tmp_path / "builds"), "feedback_dir": str(tmp_path / "fb")},
        )
        svc = CurationService(s)
        keys = {role: svc.create_key(cli_actor(), f"{role}-user", role)["key"] for role in ("reader", "clinician", "admin")}
        svc.dispose()
        return s, keys

    return make


def test_every_non_reader_route_needs_a_key_and_a_role(app_keys) -> None:
    settings, keys = app_keys()
    with TestClient(create_app(settings)) as client:
        ops = operations(client)
        guarded = [(m, p) for m, p, _ in ops if (m, p) not in READER and not p.startswith(OPEN_PREFIXES)]
        assert len(guarded) >= 25, guarded  # registry, releases, answers, feedback, curation, admin
        for method, path in guarded:
            assert call(client, method, path).status_code == 401, f"{method} {path} without a key"
            assert call(client, method, path, "gg_not-a-key").status_code == 401, f"{method} {path} with an unknown key"
            assert call(client, method, path, keys["reader"]).status_code == 403, f"{method} {path} with a reader key"
        documented = {(m, p): op for m, p, op in ops}
        for method, path in guarded:
            codes = documented[(method, path)]["responses"]
            assert {"401", "403"} <= set(codes), f"{method} {path} does not document 401/403"
        # Role order: a clinician may give feedback but not curate; an admin may do everything.
        assert call(client, "GET", "/v1/curation/items", keys["clinician"]).status_code == 403
        assert call(client, "POST", "/v1/feedback", keys["clinician"]).status_code == 422  # past auth, body invalid
        assert call(client, "GET", "/v1/admin/keys", keys["admin"]).status_code == 200
        # Reader routes stay open by default (no index here, so the service is not ready: 503, not 401).
        for method, path in READER & {(m, p) for m, p, _ in ops}:
            assert call(client, method, path).status_code != 401, f"{method} {path} should be open"
        # Bearer works like X-API-Key.
        r = client.get("/v1/admin/keys", headers={"Authorization": f"Bearer {keys['admin']}"})
        assert r.status_code == 200 and {k["role"] for k in r.json()} == {"reader", "clinician", "admin"}
        assert all("key_hash" not in k and "key" not in k for k in r.json())


def test_reader_routes_need_a_key_when_required(app_keys) -> None:
    settings, keys = app_keys(require_reader_key=True)
    with TestClient(create_app(settings)) as client:
        reader_ops = [(m, p, op) for m, p, op in operations(client) if (m, p) in READER]
        assert {("POST", "/v1/query"), ("GET", "/v1/guidelines")} <= {(m, p) for m, p, _ in reader_ops}
        for method, path, op in reader_ops:
            assert call(client, method, path).status_code == 401, f"{method} {path} without a key"
            assert "401" in op["responses"], f"{method} {path} does not document 401"
            assert call(client, method, path, keys["reader"]).status_code != 401, f"{method} {path} with a reader key"
        assert client.get("/healthz").status_code == 200


def test_revoked_key_is_refused(app_keys, tmp_path) -> None:
    settings, keys = app_keys()
    with TestClient(create_app(settings)) as client:
        h = {"X-API-Key": keys["admin"]}
        new = client.post("/v1/admin/keys", headers=h, json={"name": "erin", "role": "curator"}).json()
        assert new["key"].startswith("gg_") and new["role"] == "curator"
        assert client.get("/v1/releases", headers={"X-API-Key": new["key"]}).status_code == 200
        assert client.post(f"/v1/admin/keys/{new['id']}/revoke", headers=h).status_code == 200
        assert client.get("/v1/releases", headers={"X-API-Key": new["key"]}).status_code == 401
        assert client.post("/v1/admin/keys", headers=h, json={"name": "x", "role": "king"}).status_code == 422
    raw = (tmp_path / "auth.db").read_bytes()
    assert new["key"].encode() not in raw and keys["admin"].encode() not in raw  # hashed at rest
