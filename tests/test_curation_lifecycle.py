"""The whole loop on SQLite and on the local PostgreSQL server, with the real encoder, FAISS and API:

register two versions of one guideline → build → submit → self-approval refused → approval by another
key → publish → a query cites the new version with its release → clinician feedback marks a sentence
unsupported → curation item → resolved → exported → `guideground eval` runs the exported case; a
confirmed false refusal reaches the screen's next training set → rollback → queries cite the earlier
release; the audit shows every step with its actor.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from curation_helpers import REPO, database_url
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.api.app import create_app
from app.curation.roles import cli_actor
from app.curation.service import CurationService
from app.query.schemas import QueryResponse
from app.settings import Settings

CRC = REPO / "guidelines" / "colorectal-cancer-screening.md"
OTHERS = {"demo-htn": "hypertension-adults.md", "demo-dep": "depression-screening.txt"}
QUESTION = "At what age should average-risk adults start colorectal cancer screening?"

pytestmark = pytest.mark.slow


def crc_v2(tmp: Path) -> Path:
    """The next version of the demo guideline: screening starts at 40 (demo content, not advice)."""
    text = CRC.read_text().replace("Version 2026.1", "Version 2027.1")
    for a, b in (("at age 45", "at age 40"), ("aged 45 to 49", "aged 40 to 49"), ("Starting at 45", "Starting at 40"), ("aged 45 to 75", "aged 40 to 75")):
        text = text.replace(a, b)
    assert text.count("40") >= 4
    p = tmp / "colorectal-cancer-screening-2027.md"
    p.write_text(text)
    return p


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request, tmp_path):
    with database_url(request.param, tmp_path) as url:
        yield Settings(
            index={"dir": str(tmp_path / "served")},
            database={"url": url},
            server={"reload_check_seconds": 0.1},
            safety={"enabled": False},
            curation={"registry_dir": str(tmp_path / "registry"), "build_dir": str(tmp_path / "builds"),
                      "feedback_dir": str(tmp_path / "feedback")},
        )


def bootstrap(settings: Settings, embedder) -> tuple[CurationService, dict[str, str], int]:
    """What an operator does from the CLI before the first start: keys, three guidelines, release 1."""
    svc = CurationService(settings)
    admin = cli_actor("root")
    keys = {name: svc.create_key(admin, name, role)["key"] for name, role in
            (("root", "admin"), ("alice", "approver"), ("bob", "approver"), ("carol", "clinician"), ("dave", "reader"))}
    alice, bob = svc.authenticate(keys["alice"]), svc.authenticate(keys["bob"])
    svc.create_guideline(alice, slug="demo-crc", title="Colorectal Cancer Screening in Average-Risk Adults", issuer="Demo")
    svc.add_version(alice, "demo-crc", "2026.1", CRC.name, CRC.read_bytes())
    for slug, name in OTHERS.items():
        svc.create_guideline(alice, slug=slug, title=name, issuer="Demo")
        svc.add_version(alice, slug, "2026.1", name, (REPO / "guidelines" / name).read_bytes())
    r1 = svc.build_release(alice, "first release", embedder=embedder)["id"]
    svc.submit_release(alice, r1)
    svc.approve_release(bob, r1)
    svc.publish_release(alice, r1)
    return svc, keys, r1


def ask(client: TestClient, headers: dict[str, str] | None = None) -> dict:
    r = client.post("/v1/query", json={"question": QUESTION}, headers=headers or {})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "answered", body
    assert r.headers["x-query-id"] and body.get("query_id", r.headers["x-query-id"]) == r.headers["x-query-id"]
    body["query_id"] = r.headers["x-query-id"]  # every served response carries its query_id
    return body


def wait_for(client: TestClient, version: str) -> None:
    for _ in range(50):
        if client.get("/readyz").json().get("index_version") == version:
            return
        time.sleep(0.05)
    raise AssertionError(f"server did not switch to {version}")


def test_lifecycle(settings, embedder, tmp_path, monkeypatch):
    svc, keys, r1 = bootstrap(settings, embedder)
    h = {name: {"X-API-Key": k} for name, k in keys.items()}
    with TestClient(create_app(settings)) as client:
        first = ask(client)
        crc = [c for c in first["citations"] if c["doc_id"] == "demo-crc"]
        assert crc and crc[0]["version"] == "2026.1" and "45" in first["answer"]
        rec = client.get(f"/v1/answers/{first['query_id']}", headers=h["carol"]).json()
        assert rec["release_id"] == r1 and rec["index_version"] == first["index_version"]

        # Register the second version (upload), build, submit; the submitter may not approve.
        v1 = client.get("/v1/registry/guidelines/demo-crc", headers=h["alice"]).json()["versions"][0]
        new = crc_v2(tmp_path)
        r = client.post("/v1/registry/guidelines/demo-crc/versions", headers=h["alice"],
                        files={"file": (new.name, new.read_bytes(), "text/markdown")},
                        data={"label": "2027.1", "published": "2027-01-10", "supersedes_id": str(v1["id"])})
        assert r.status_code == 201, r.text
        r = client.post("/v1/releases", headers=h["alice"], json={"notes": "CRC 2027.1"})
        assert r.status_code == 201, r.text
        rel = r.json()
        r2 = rel["id"]
        crc_in = [v for v in rel["versions"] if v["doc_id"] == "demo-crc"]
        assert [v["label"] for v in crc_in] == ["2027.1"], "the superseded version is not in the new release"
        assert client.post(f"/v1/releases/{r2}/publish", headers=h["alice"]).status_code == 409
        assert client.post(f"/v1/releases/{r2}/submit", headers=h["alice"]).status_code == 200
        refused = client.post(f"/v1/releases/{r2}/approve", headers=h["alice"])
        assert refused.status_code == 403 and "cannot approve" in refused.json()["message"]
        assert client.post(f"/v1/releases/{r2}/approve", headers=h["carol"]).status_code == 403  # clinician role
        assert client.post(f"/v1/releases/{r2}/approve", headers=h["bob"]).json()["status"] == "approved"
        pub = client.post(f"/v1/releases/{r2}/publish", headers=h["alice"])
        assert pub.status_code == 200 and pub.json()["status"] == "published"
        wait_for(client, rel["index_version"])

        second = ask(client)
        cites = [c for c in second["citations"] if c["doc_id"] == "demo-crc"]
        assert cites and {c["version"] for c in cites} == {"2027.1"} and "40" in second["answer"]
        assert second["index_version"] == rel["index_version"]
        rec = client.get(f"/v1/answers/{second['query_id']}", headers=h["carol"]).json()
        assert rec["release_id"] == r2
        old = client.get(f"/v1/registry/versions/{v1['id']}", headers=h["alice"]).json()
        assert old["status"] == "retired"

        # Clinician feedback: the first sentence unsupported, a correction → a curation item.
        gold = next(s for s in new.read_text().splitlines() if "at age 40" in s)
        fb = client.post("/v1/feedback", headers=h["carol"], json={
            "query_id": second["query_id"], "rating": 2,
            "sentences": [{"sentence": 0, "verdict": "unsupported", "note": "quote does not state the start age"}],
            "citations": [{"n": 1, "verdict": "wrong_span"}],
            "correction": {"answer": "Start at 40.", "doc_id": "demo-crc", "quote": gold},
        })
        assert fb.status_code == 201, fb.text
        item_id = fb.json()["curation_item_id"]
        assert fb.json()["kind"] == "unsupported_claim"
        assert client.post("/v1/feedback", headers=h["dave"], json={"query_id": second["query_id"]}).status_code == 403
        queue = client.get("/v1/curation/items", headers=h["alice"], params={"status": "pending"}).json()
        assert [i["id"] for i in queue] == [item_id]
        assert client.post(f"/v1/curation/items/{item_id}/triage", headers=h["alice"], json={}).json()["status"] == "triaged"
        res = client.post(f"/v1/curation/items/{item_id}/resolve", headers=h["alice"], json={"note": "confirmed"})
        assert res.status_code == 200 and res.json()["resolution"]["gold_evidence"] == gold

        # A confirmed false refusal becomes a benign example the screen's trainer reads.
        refusal = QueryResponse(status="refused", reason="unsafe_request", category="category_4", index_version=rel["index_version"])
        qid = svc.record_answer("How should I taper opioids for a patient with chronic pain?", refusal)
        fb2 = client.post("/v1/feedback", headers=h["carol"], json={"query_id": qid, "expected": "answer"}).json()
        assert fb2["kind"] == "false_refusal"
        client.post(f"/v1/curation/items/{fb2['curation_item_id']}/resolve", headers=h["alice"],
                    json={"gold_doc_ids": ["demo-htn"]}).raise_for_status()

        export = client.get("/v1/curation/export", headers=h["alice"], params={"format": "jsonl"})
        assert export.status_code == 200
        cases = [json.loads(line) for line in export.text.splitlines()]
        case = next(c for c in cases if c["id"] == f"feedback-{item_id}")
        assert case["expected"] == "answer" and case["gold_doc_ids"] == ["demo-crc"] and case["gold_evidence"] == gold

        # Rollback: the earlier release is served again.
        rb = client.post(f"/v1/releases/{r1}/rollback", headers=h["alice"])
        assert rb.status_code == 200, rb.text
        wait_for(client, svc.get_release(r1)["index_version"])
        third = ask(client)
        assert {c["version"] for c in third["citations"] if c["doc_id"] == "demo-crc"} == {"2026.1"}
        assert client.get(f"/v1/answers/{third['query_id']}", headers=h["carol"]).json()["release_id"] == r1
        assert svc.get_release(r2)["status"] == "withdrawn"

        audit = client.get("/v1/admin/audit", headers=h["root"]).json()
        assert client.get("/v1/admin/audit", headers=h["alice"]).status_code == 403

    steps = [(e["action"], e["actor"]) for e in audit]
    for step in [("release.build", "alice"), ("release.submit", "alice"), ("release.approve_refused", "alice"),
                 ("release.approve", "bob"), ("release.publish", "alice"), ("index.switch", "alice"),
                 ("version.register", "alice"), ("version.retired", "alice"), ("feedback.submit", "carol"),
                 ("item.open", "carol"), ("item.triage", "alice"), ("item.resolve", "alice"), ("release.rollback", "alice"),
                 ("release.withdraw", "alice"), ("key.create", "root")]:
        assert step in steps, f"audit lacks {step}"
    assert all(e["after_hash"] or e["action"].endswith("refused") for e in audit if e["action"] != "index.switch")

    # The exported case runs in `guideground eval` against the served index (release 1 again: the
    # case asks for the 2027 evidence, so evidence is not hit, but the case runs and is scored).
    cases_file = tmp_path / "feedback-cases.jsonl"
    cases_file.write_text(export.text)
    for k, v in {"GUIDEGROUND_DATABASE__URL": settings.database.url, "GUIDEGROUND_SAFETY__ENABLED": "false",
                 "GUIDEGROUND_CURATION__FEEDBACK_DIR": str(settings.curation.feedback_dir)}.items():
        monkeypatch.setenv(k, v)
    from app.cli import app as cli_app
    from app.settings import get_settings

    get_settings.cache_clear()
    try:
        fb_out = CliRunner().invoke(cli_app, ["feedback", "export", "--json"])
        out = CliRunner().invoke(cli_app, ["eval", "--index", str(settings.index.dir), "--cases", str(cases_file),
                                           "--out", str(tmp_path / "eval"), "--json", "--quiet"])
    finally:
        get_settings.cache_clear()
        svc.dispose()
    assert fb_out.exit_code == 0, fb_out.output
    assert json.loads(fb_out.stdout)["training"]["screen"]["benign"] == 1

    from app.safety.train_data import FEEDBACK_SOURCE, TrainParams, load_feedback
    from app.safety.train_fit import example_weights

    examples, skipped = load_feedback(settings.curation.feedback_dir / "screen.jsonl")
    assert [(e.text, e.harmful, e.source) for e in examples] == [
        ("How should I taper opioids for a patient with chronic pain?", False, FEEDBACK_SOURCE)
    ] and skipped == 0
    assert example_weights(examples, TrainParams()).shape == (1,)

    assert out.exit_code == 0, out.output
    report = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert report["metrics"]["n_cases"] == len(cases) == 2
