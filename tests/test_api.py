"""REST API over real indexes with the real embedding model."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from app.settings import Settings

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "evalsets" / "guideline_questions.jsonl"


def make_settings(index_dir: Path, tmp_path: Path, **over) -> Settings:
    base = {
        "index": {"dir": str(index_dir)},
        "database": {"url": f"sqlite:///{tmp_path / 'audit.db'}"},
        "server": {"reload_check_seconds": 0.1},
    }
    base.update(over)
    return Settings(**base)


@pytest.fixture(scope="module")
def demo_built(tmp_path_factory, embedder):
    """The demo corpus (10 guidelines, 5 formats) indexed once for this module; read-only for tests."""
    from ingest.documents import IngestParams
    from ingest.pipeline import run_ingest

    base = tmp_path_factory.mktemp("api-demo")
    src = base / "src"
    shutil.copytree(REPO / "guidelines", src)
    root = base / "index"
    run_ingest([src], root, IngestParams(), embedder)
    return src, root


@pytest.fixture
def small_index(demo_built, tmp_path):
    """A private copy of the source folder and the index, for tests that re-ingest."""
    src, root = demo_built
    shutil.copytree(src, tmp_path / "src")
    shutil.copytree(root, tmp_path / "index")
    return tmp_path / "src", tmp_path / "index"


@pytest.fixture
def client(demo_built, tmp_path):
    _, root = demo_built
    with TestClient(create_app(make_settings(root, tmp_path))) as c:
        yield c


def check_citations(client: TestClient, body: dict) -> None:
    for cit in body["citations"]:
        chunk = client.get(f"/v1/chunks/{cit['chunk_id']}").json()
        assert chunk["text"][cit["start"] : cit["end"]] == cit["quote"]
    for s in body["sentences"]:
        assert s["citations"], "every answered sentence cites a passage"
        quotes = {c["n"]: c["quote"] for c in body["citations"]}
        assert all(s["text"] in quotes[n] for n in s["citations"])


def test_answer_contract_and_quote_invariant(client):
    r = client.post("/v1/query", json={"question": "From what age should people at average risk begin colorectal cancer screening?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"status", "answer", "reason", "sentences", "citations", "index_version", "timings_ms"}
    assert body["status"] == "answered", body
    assert "45" in body["answer"] and body["citations"][0]["doc_id"] == "demo-crc-2026"
    assert set(body["timings_ms"]) == {"embed", "retrieve", "answer", "verify", "total"}
    check_citations(client, body)


def test_abstention_returns_passages(client):
    r = client.post("/v1/query", json={"question": "What antibiotic treats acute otitis media in toddlers?"})
    body = r.json()
    assert body["status"] == "abstained" and body["reason"] in ("weak_evidence", "no_evidence", "unsupported")
    assert body["answer"] is None and body["sentences"] == []
    assert body["citations"], "an abstention still shows the passages it saw"
    check_citations(client, body)


def test_filters_restrict_documents(client):
    r = client.post("/v1/query", json={"question": "screening", "filters": {"doc_id": ["demo-imm-2026"]}, "top_k": 5})
    assert r.status_code == 200
    cited = {c["doc_id"] for c in r.json()["citations"]}
    assert cited and cited <= {"demo-imm-2026"}
    r = client.post("/v1/query", json={"question": "screening", "filters": {"issuer": ["no such issuer"]}})
    assert r.json()["status"] == "abstained" and r.json()["citations"] == []


@pytest.mark.parametrize(
    "payload,where",
    [
        ({"question": "x" * 5000}, "question"),
        ({"question": "dose?", "top_k": 500}, "top_k"),
        ({"question": "dose?", "top_k": 0}, "top_k"),
        ({"question": "dose?", "filters": {"doc_id": []}}, "doc_id"),
        ({"question": "dose?", "filters": {"published_from": "2020-01-01", "published_to": "2010-01-01"}}, "filters"),
        ({"question": "dose?", "unknown": 1}, "unknown"),
        ({"question": "  "}, "question"),
    ],
)
def test_input_limits_give_clear_422(client, payload, where):
    r = client.post("/v1/query", json=payload)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] in ("invalid_request", "usage_error") and body["message"]
    assert where in json.dumps(body)


def test_malformed_json_and_huge_body(client):
    r = client.post("/v1/query", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "json" in r.text.lower()
    r = client.post("/v1/query", content=b"x" * 200_000, headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_ops_endpoints(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["n_chunks"] > 0
    # which trained artefacts answer: what an evaluator records beside the index version
    from app.query.abstain import AbstainModel
    from app.safety.screen import RequestScreen

    s = client.app.state.service.settings
    screen = RequestScreen.load(s.safety.screen_file).version if s.safety.enabled else None
    calibration = AbstainModel.load(s.abstain.calibration_file).version if s.abstain.enabled else None
    assert ready["models"] == {"screen": screen, "calibration": calibration}
    client.post("/v1/query", json={"question": "influenza vaccine age"})
    m = client.get("/metrics").text
    assert "guideground_queries_total" in m and "guideground_stage_seconds_bucket" in m
    g = client.get("/v1/guidelines").json()
    assert len(g["guidelines"]) == 10 and "demo-crc-2026" in {d["doc_id"] for d in g["guidelines"]}
    assert client.get("/v1/chunks/nope").status_code == 404
    assert "/v1/query" in client.get("/openapi.json").json()["paths"]


def test_not_ready_without_index(tmp_path):
    with TestClient(create_app(make_settings(tmp_path / "none", tmp_path))) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and "guideground ingest" in (r.json()["hint"] or "")
        assert c.post("/v1/query", json={"question": "dose of metformin?"}).status_code == 503


def test_hot_reload_in_flight_query_finishes_on_old_version(small_index, tmp_path, embedder):
    from app.query.schemas import QueryRequest
    from app.query.service import QueryService
    from ingest.documents import IngestParams
    from ingest.pipeline import run_ingest

    src, root = small_index
    svc = QueryService.from_settings(make_settings(root, tmp_path), embedder=embedder)
    v1 = svc.holder.version
    gate, entered = threading.Event(), threading.Event()
    real = svc.retriever.retrieve

    def slow_retrieve(*a, **k):
        entered.set()
        gate.wait(30)
        return real(*a, **k)

    svc.retriever.retrieve = slow_retrieve  # type: ignore[method-assign]
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", svc.answer(QueryRequest(question="How often should a colonoscopy be repeated?"))))
    t.start()
    assert entered.wait(30)
    (src / "statins.md").write_text(
        "# Statin use for primary prevention (demo)\n\nDemo content, not clinical advice.\n\n## Who should be offered a statin\n\n"
        "Offer a statin to adults aged 40 to 75 years with a 10-year cardiovascular risk of 10% or more.\n"
    )
    run_ingest([src], root, IngestParams(), embedder)
    svc.retriever.retrieve = real  # type: ignore[method-assign]
    time.sleep(0.2)
    r2 = svc.answer(QueryRequest(question="Which adults should be offered a statin for primary prevention?"))
    assert r2.index_version != v1 and any(c.doc_id == "statins" for c in r2.citations)
    gate.set()
    t.join(30)
    assert result["r"].index_version == v1


@pytest.mark.slow
def test_guideline_questions_cite_their_gold_documents(shared_index, tmp_path):
    root, _ = shared_index
    cases = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    answerable = [c for c in cases if c["expected"] == "answer"]
    assert len(answerable) >= 20
    hits, answered = 0, 0
    misses = []
    with TestClient(create_app(make_settings(root, tmp_path))) as client:
        for c in answerable:
            body = client.post("/v1/query", json={"question": c["question"]}).json()
            check_citations(client, body)
            cited = {x["doc_id"] for x in body["citations"]}
            if set(c["gold_doc_ids"]) & cited:
                hits += 1
            else:
                misses.append((c["id"], c["question"], sorted(cited)))
            answered += body["status"] == "answered"
    assert hits >= 20 and hits >= 0.8 * len(answerable), misses


def test_cli_ask_json_is_exactly_the_api_response(demo_built, tmp_path, client):
    import os
    import subprocess
    import sys

    _, root = demo_built
    q = "From what age should people at average risk begin colorectal cancer screening?"
    env = dict(os.environ, GUIDEGROUND_DATABASE__URL=f"sqlite:///{tmp_path / 'cli.db'}")
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "ask", q, "--index", str(root), "--json"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    cli = json.loads(proc.stdout)
    api = client.post("/v1/query", json={"question": q}).json()
    for body in (cli, api):
        body.pop("timings_ms")
    assert api.pop("query_id") and cli.pop("query_id") is None  # only served answers are recorded (app/curation)
    assert cli == api
