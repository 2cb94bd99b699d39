"""LLM answers through the service vs. the same llama.cpp server called directly, and the verifier's outcomes.

One local server (the packaged SmolLM2-135M-Instruct) serves both paths. For each question:
  direct   the exact messages and options the generator would send, posted with the openai client;
  service  QueryService.answer (streaming: generate → verify as drafts arrive) on the same server.
All direct calls run first, then the server is restarted (the generator's health check brings it back) and
all service calls run, so neither half reuses the other's cached prompts. Tokens are the server's own count (llamacpp:tokens_predicted_total on /metrics).
Reported: generated tokens/s both ways and their ratio, time to the first verified sentence, and the shares
of drafted sentences kept / repaired / dropped.

    .venv/bin/python bench/llm_bench.py --index DIR --cases evalsets/guideline_questions.jsonl --limit 8 [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from app.query.schemas import QueryRequest
from app.query.service import QueryService
from app.settings import Settings


def predicted_tokens(server) -> float:  # type: ignore[no-untyped-def]
    r = httpx.get(f"{server.address}/metrics", headers={"Authorization": f"Bearer {server.key}"}, timeout=10)
    m = re.search(r"^llamacpp:tokens_predicted_total\s+(\S+)", r.text, re.M)
    return float(m.group(1)) if m else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--cases", type=Path, default=Path("evalsets/guideline_questions.jsonl"))
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    cases = [json.loads(line) for line in args.cases.read_text().splitlines() if line.strip()]
    cases = [c for c in cases if c.get("expected", "answer") == "answer"][: args.limit]
    s = Settings(
        index={"dir": str(args.index)}, answer={"generator": "llamacpp"}, safety={"enabled": False},
        abstain={"enabled": False, "conflict_check": False},  # every question reaches generation
        llm={"max_tokens": args.max_tokens, "timeout_seconds": 900},
    )
    t = time.perf_counter()
    svc = QueryService.from_settings(s)
    startup_s = time.perf_counter() - t
    gen: Any = svc.generator  # the llamacpp generator: .request(), .client, .server
    server = gen.server
    try:
        # The same prompts: the generator builds them from the same retrieved passages.
        prompts = []
        for c in cases:
            q = c["question"]
            qvec = svc.embed_query(q)
            idx = svc.holder.get()
            res = svc.retriever.retrieve(idx, qvec, q, s.retrieval.top_k, None)
            prompts.append(gen.request(svc._generation_input(idx, q, qvec, res))[:2])
        direct = []
        for messages, kw in prompts:
            before, t = predicted_tokens(server), time.perf_counter()
            gen.client.complete(messages, **kw)
            direct.append((predicted_tokens(server) - before, time.perf_counter() - t))
        # A fresh server for the service half: llama.cpp keeps earlier prompts in a host-memory cache, which
        # would hand the second half the first half's prompt processing for free.
        server.stop()
        gen._check()  # the health check finds it down and starts a new one
        service, first, outcomes = [], [], {"kept": 0, "repaired": 0, "dropped": 0}
        for c in cases:
            marks: list[float] = []
            before, t = predicted_tokens(server), time.perf_counter()
            resp = svc.answer(QueryRequest(question=c["question"]), lambda *_: marks.append(time.perf_counter()))  # noqa: B023
            wall = time.perf_counter() - t
            service.append((predicted_tokens(server) - before, wall))
            if marks:
                first.append(marks[0] - t)
            g = resp.generation
            for k in outcomes:
                outcomes[k] += getattr(g, k) if g else 0
    finally:
        svc.close()
    tok_d, sec_d = sum(x for x, _ in direct), sum(y for _, y in direct)
    tok_s, sec_s = sum(x for x, _ in service), sum(y for _, y in service)
    n_out = sum(outcomes.values())
    report = {
        "questions": len(cases), "max_tokens": args.max_tokens, "server_startup_s": round(startup_s, 1),
        "direct_tokens": tok_d, "direct_tok_per_s": round(tok_d / sec_d, 2),
        "service_tokens": tok_s, "service_tok_per_s": round(tok_s / sec_s, 2),
        "ratio_service_over_direct": round((tok_s / sec_s) / (tok_d / sec_d), 3),
        "first_verified_sentence_s": {"n": len(first), "p50": round(statistics.median(first), 2) if first else None,
                                      "max": round(max(first), 2) if first else None},
        "drafted_sentences": n_out,
        "shares": {k: round(v / n_out, 3) if n_out else None for k, v in outcomes.items()},
    }
    print(json.dumps(report, indent=None if not args.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
