"""The web layer without a browser: span splitting, the feedback body, report listing, static files, the off switch."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from app.api.app import create_app
from app.settings import Settings
from app.web.reports import list_runs, run_path, scoped_css
from app.web.routes import feedback_payload, split_span


def test_split_span_uses_offsets_and_refuses_bad_ones():
    text = "Alpha. Beta beta. Gamma."
    assert split_span(text, 7, 17) == ("Alpha. ", "Beta beta.", " Gamma.")
    assert split_span(text, 0, len(text)) == ("", text, "")
    assert split_span(text, 5, 4) is None and split_span(text, 0, len(text) + 1) is None


def test_feedback_payload_matches_the_curation_model():
    from app.curation.feedback import FeedbackIn

    s = feedback_payload("q1", "sentence", 2, "outdated", "  newer guidance says 40  ")
    assert s == {"query_id": "q1", "sentences": [{"sentence": 2, "verdict": "outdated"}], "correction": {"answer": "newer guidance says 40"}}
    c = feedback_payload("q1", "citation", 1, "wrong_span", "")
    assert c == {"query_id": "q1", "citations": [{"n": 1, "verdict": "wrong_span", "note": None}]}
    for body in (s, c):
        FeedbackIn.model_validate(body)  # the API's own request model accepts what the page sends


def _run(folder, name, started):
    (folder / name).mkdir(parents=True)
    (folder / name / "eval.json").write_text(json.dumps({"run": {"started_at": started}, "metrics": {"n_cases": 3}, "summary": {}}))


def test_runs_newest_first_and_names_are_not_paths(tmp_path):
    _run(tmp_path, "old", "2026-01-01T00:00:00Z")
    _run(tmp_path, "new", "2026-02-01T00:00:00Z")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "eval.json").write_text("{not json")
    assert [r.name for r in list_runs(tmp_path)] == ["new", "old"]
    assert list_runs(tmp_path / "missing") == []
    with pytest.raises(Exception, match="not a report name"):
        run_path(tmp_path, "../etc")
    with pytest.raises(Exception, match="no evaluation report"):
        run_path(tmp_path, "nope")


def test_scoped_css_keeps_the_report_styles_inside_it():
    css = scoped_css("body{color:red}h2,td.num{margin:0}")
    assert css == ".eval-report{color:red}.eval-report h2,.eval-report td.num{margin:0}"


def _client(tmp_path, **over):
    s = Settings(index={"dir": str(tmp_path / "no-index")}, database={"url": f"sqlite:///{tmp_path / 'db.sqlite'}"}, **over)
    return TestClient(create_app(s))


def test_pages_and_the_packaged_htmx(tmp_path):
    with _client(tmp_path) as c:
        for path in ("/", "/curate", "/eval"):
            r = c.get(path)
            assert r.status_code == 200 and "/static/web/htmx.min.js" in r.text, path
        js = c.get("/static/web/htmx.min.js")
        assert js.status_code == 200 and js.text.startswith("var htmx=") and "javascript" in js.headers["content-type"]
        assert c.get("/static/web/../../settings.py").status_code == 404
        assert c.get("/static/web/nothing.js").status_code == 404
        assert "not ready" in c.get("/ui/release").text  # no index: the page says so instead of failing
        assert all(not p.startswith(("/ui", "/curate", "/eval", "/static/web")) for p in c.get("/openapi.json").json()["paths"])


def test_the_web_page_can_be_switched_off(tmp_path):
    with _client(tmp_path, web={"enabled": False}) as c:
        assert c.get("/").status_code == 404
        assert c.get("/ui/queue").status_code == 404
        assert c.get("/healthz").status_code == 200


def test_chunk_fragment_escapes_text_and_marks_the_stored_span():
    from app.web.render import templates

    text = 'Intro <b>bold</b>. Give 5 mg & "review". Tail <script>x</script>'
    start = text.index("Give")
    end = text.index(" Tail")
    html = templates.env.get_template("_chunk.html").render(
        c={"chunk_id": "d:1", "title": "T", "issuer": "I", "version": "1", "published": "", "section_path": ["A", "B"],
           "pages": [3], "text": text, "flags": [], "index_version": "v1"},
        parts=split_span(text, start, end), n=2, start=start, end=end)
    assert f'<mark id="cited-span" data-start="{start}" data-end="{end}">Give 5 mg &amp; &#34;review&#34;.</mark>' in html
    assert "<script>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html and "A › B" in html


def test_reader_key_required_reaches_the_page_too(tmp_path):
    with _client(tmp_path, auth={"require_reader_key": True}) as c:
        ask = c.post("/ui/ask", data={"question": "When should colorectal screening start?"})
        assert ask.status_code == 200 and 'role="alert"' in ask.text and "reader API key" in ask.text
        ev = c.get("/ui/eval")
        assert 'role="alert"' in ev.text and "Evaluation runs" not in ev.text
        bad = c.get("/ui/eval", headers={"X-API-Key": "not-a-key"})
        assert 'role="alert"' in bad.text and "Evaluation runs" not in bad.text


def test_the_note_tells_words_no_guideline_uses_from_words_no_cited_one_uses():
    """Stop 56: a word of the question no guideline of the index uses is named apart from one only the cited
    guidelines lack; with one kind only, one sentence of the note."""
    from app.query.schemas import QueryResponse
    from app.web.render import templates

    def note(unmatched: list[str], unindexed: list[str]) -> str:
        r = QueryResponse(status="abstained", reason="weak_evidence", unmatched_terms=unmatched, unindexed_terms=unindexed)
        html = templates.env.get_template("_answer.html").render(r=r.model_dump(mode="json"), question="q", who=None)
        start = html.index('<p class="unmatched"')
        return re.sub(r"<[^>]+>", "", html[start : html.index("</p>", start)])

    assert note(["colonoscopy", "rivaroxaban"], ["rivaroxaban"]) == (
        "No guideline in this index uses rivaroxaban; no cited guideline uses colonoscopy."
    )
    assert note(["rivaroxaban"], ["rivaroxaban"]) == "No guideline in this index uses rivaroxaban."
    assert note(["colonoscopy", "gabapentin"], []) == "No cited guideline uses colonoscopy, gabapentin."
