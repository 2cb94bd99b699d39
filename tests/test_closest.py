"""An abstention names the sentences of its passages closest to the question (QueryResponse.closest)."""

from __future__ import annotations

import json

import pytest

from app.query.answer import Picked
from app.query.respond import closest_sentences
from app.query.schemas import QueryRequest

NEAR_MISS = "What daily dose of vitamin D should adults take before colorectal cancer screening?"


def _picked(row: int, start: int, score: float | None, sim: float = 0.5, about: bool = False) -> Picked:
    return Picked(0, row, 0, start, start + 10, f"Sentence {row} at {start} states a recommendation.", sim, score, about_guideline=about)


def test_closest_ranks_by_score_and_keeps_only_cited_quotable_sentences():
    pool = [_picked(1, 0, -3.0), _picked(1, 20, 1.0), _picked(2, 0, 0.5), _picked(3, 0, 5.0), _picked(2, 30, 4.0, about=True)]
    out = closest_sentences(pool, {1: 1, 2: 2}, 2)
    assert [(s.citation, s.start) for s in out] == [(1, 20), (2, 0)]  # row 3 not cited; the about-guideline one never
    assert closest_sentences(pool, {1: 1, 2: 2}, 0) == []
    # without a sentence scorer, the cosine orders them
    plain = [_picked(1, 0, None, sim=0.2), _picked(1, 20, None, sim=0.9)]
    assert [s.start for s in closest_sentences(plain, {1: 1}, 1)] == [20]


@pytest.fixture(scope="module")
def service(demo_index, embedder, tmp_path_factory):
    from app.query.service import QueryService
    from app.settings import Settings

    db = tmp_path_factory.mktemp("closest") / "a.db"
    return QueryService.from_settings(Settings(safety={"enabled": False}, database={"url": f"sqlite:///{db}"}), index_dir=demo_index[0], embedder=embedder)


def test_an_abstention_quotes_its_closest_sentences_verbatim(service):
    """The real demo index and gate: each closest sentence is chunk.text[start:end] of an attached passage, at most
    answer.closest_sentences of them; an answer carries none."""
    r = service.answer(QueryRequest(question=NEAR_MISS))
    assert r.status == "abstained" and r.reason == "weak_evidence", r
    n = service.settings.answer.closest_sentences
    assert 1 <= len(r.closest) <= n
    idx = service.holder.get()
    for s in r.closest:
        c = r.citations[s.citation - 1]
        assert c.n == s.citation
        assert idx.chunks[idx.by_id[c.chunk_id]].text[s.start : s.end] == s.text
        assert c.start <= s.start < s.end <= c.end  # inside the attached passage
    answered = service.answer(QueryRequest(question="From what age should people at average risk begin colorectal cancer screening?"))
    assert answered.status == "answered" and answered.closest == []


def test_the_setting_turns_it_off(demo_index, embedder, tmp_path):
    from app.query.service import QueryService
    from app.settings import Settings

    s = Settings(safety={"enabled": False}, answer={"closest_sentences": 0}, database={"url": f"sqlite:///{tmp_path}/a.db"})
    svc = QueryService.from_settings(s, index_dir=demo_index[0], embedder=embedder)
    r = svc.answer(QueryRequest(question=NEAR_MISS))
    assert r.status == "abstained" and r.closest == []


def test_ask_prints_the_closest_statements(demo_index, tmp_path):
    """`guideground ask` (human output) lists an abstention's closest sentences under their label."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, GUIDEGROUND_DATABASE__URL=f"sqlite:///{tmp_path / 'cli.db'}", GUIDEGROUND_SAFETY__ENABLED="false",
               COLUMNS="400")
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "ask", NEAR_MISS, "--index", str(demo_index[0]), "--json"],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], env=env, timeout=300,
    )
    closest = json.loads(proc.stdout)["closest"]
    assert closest, proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "app.cli", "ask", NEAR_MISS, "--index", str(demo_index[0])],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Closest statements found (not an answer to the question):" in proc.stdout
    for c in closest:
        assert f"{c['text']} [{c['citation']}]" in proc.stdout, proc.stdout  # COLUMNS=400: one line each


def test_a_short_question_abstained_on_says_how_to_ask(service):
    """Stop 44 (evalsets/terse): questions of 12 words or fewer are abstained on far more often than the same questions
    written out; a weak-evidence abstention on one says what helps. A longer question's message is the plain one."""
    from app.query.respond import MESSAGES, SHORT_QUESTION_HINT, abstention_message

    short = service.answer(QueryRequest(question="Vitamin D dose before colonoscopy?"))
    assert short.status == "abstained" and short.reason == "weak_evidence"
    assert short.message == MESSAGES["weak_evidence"] + SHORT_QUESTION_HINT
    long = service.answer(QueryRequest(question=NEAR_MISS))
    assert len(NEAR_MISS.split()) > 12 and long.status == "abstained" and long.message == MESSAGES["weak_evidence"]
    # only weak evidence: a disagreement or no evidence at all is not a matter of how the question was put
    assert abstention_message("conflicting_evidence", "Aspirin dose?") == MESSAGES["conflicting_evidence"]
    assert abstention_message("weak_evidence", "") == MESSAGES["weak_evidence"]


def test_the_closest_sentences_skip_what_an_answer_would_not_quote():
    """Stop 45: a pointer elsewhere ("See the … section below …") or a list fragment is not shown as a closest
    statement either, even when it scores best."""
    from app.query.answer import Picked
    from app.query.respond import closest_sentences

    pointer = Picked(0, 7, 0, 0, 80, 'See the "Clinical Considerations" section below for a description of high-risk populations.', 0.9, score=2.0)
    said = Picked(0, 7, 1, 81, 160, "The USPSTF recommends intensive behavioral counseling for all sexually active adolescents.", 0.8, score=1.0)
    got = closest_sentences([pointer, said], {7: 1}, 3)
    assert [c.text for c in got] == [said.text]
