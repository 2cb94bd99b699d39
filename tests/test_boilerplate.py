"""An issuer's standard text, repeated word for word by several guidelines, is never quoted (stop 34)."""

from __future__ import annotations

from pathlib import Path

from app.query.answer import QUOTABLE, candidate_sentences
from app.query.retrieve import HybridRetriever
from ingest.boilerplate import BOILERPLATE_DOCS, mark_boilerplate
from ingest.documents import Chunk, IngestParams, Sentence
from ingest.pipeline import run_ingest
from ingest.store import load_version

STANDARD = "The task force does not consider the costs of providing a service in this assessment."


def _chunk(doc: str, sentences: list[str]) -> Chunk:
    text = " ".join(sentences)
    spans, at = [], 0
    for s in sentences:
        spans.append(Sentence(start=at, end=at + len(s)))
        at += len(s) + 1
    return Chunk(chunk_id=f"{doc}-0", doc_id=doc, title=doc, start=0, end=len(text), text=text, sentences=spans)


def test_a_sentence_in_enough_documents_is_marked_and_one_in_fewer_is_not():
    docs = [f"d{i}" for i in range(BOILERPLATE_DOCS)]
    chunks = [_chunk(d, [f"Adults in group {d} are screened every 3 years.", STANDARD.upper() if d == "d0" else STANDARD]) for d in docs]
    chunks.append(_chunk("d0", [STANDARD]))  # the same document twice counts once
    assert mark_boilerplate(chunks) == BOILERPLATE_DOCS + 1
    assert [c.boilerplate for c in chunks] == [[1]] * BOILERPLATE_DOCS + [[0]]  # case and punctuation aside
    assert mark_boilerplate(chunks[1:BOILERPLATE_DOCS]) == 0  # in fewer documents: the guideline's own text
    assert all(c.boilerplate == [] for c in chunks[1:BOILERPLATE_DOCS])


def test_the_published_index_marks_it_and_answers_never_quote_it(tmp_path: Path, embedder):
    src = tmp_path / "src"
    src.mkdir()
    topics = ["colon", "lung", "skin"][:BOILERPLATE_DOCS]
    for t in topics:
        (src / f"{t}.md").write_text(
            f"# Screening for {t} cancer (demo content, not clinical advice)\n\n"
            f"The task force recommends screening for {t} cancer in adults aged 50 to 75 years. {STANDARD}\n"
        )
    report = run_ingest([src], tmp_path / "index", IngestParams(), embedder)
    idx = load_version(tmp_path / "index")
    assert idx.manifest["n_boilerplate_sentences"] == report.n_boilerplate_sentences == BOILERPLATE_DOCS
    question = "Does the task force consider the costs of providing a service when it assesses colon cancer screening?"
    q = embedder.embed([question])[0]
    res = HybridRetriever(near_dup=1.0).retrieve(idx, q, question, 5, None)
    QUOTABLE.clear()
    texts = [p.text for p in candidate_sentences(idx, res.candidates, q)]
    assert any("recommends screening" in t for t in texts)
    assert not any("costs of providing" in t for t in texts)
    marked = [c for c in idx.chunks if c.boilerplate]
    assert len({c.doc_id for c in marked}) == BOILERPLATE_DOCS  # and the mark is what keeps it out:
    for c in marked:
        c.boilerplate = []
    QUOTABLE.clear()
    assert any("costs of providing" in p.text for p in candidate_sentences(idx, res.candidates, q))


def test_an_index_published_before_the_marks_is_published_again_without_embedding(tmp_path: Path, embedder):
    import json

    from ingest.publish import MERGE_REVISION
    from ingest.store import current_version

    src = tmp_path / "src"
    src.mkdir()
    for t in ("colon", "lung", "skin"):
        (src / f"{t}.md").write_text(f"# Screening for {t} cancer (demo content)\n\nScreen adults for {t} cancer from age 50. {STANDARD}\n")
    root = tmp_path / "index"
    run_ingest([src], root, IngestParams(), embedder)
    again = run_ingest([src], root, IngestParams(), embedder)
    assert not again.published  # nothing changed: nothing to publish
    manifest = root / "versions" / str(current_version(root)) / "manifest.json"
    m = json.loads(manifest.read_text())
    assert m["merge_revision"] == MERGE_REVISION
    del m["merge_revision"]  # as an index published before the marks existed
    manifest.write_text(json.dumps(m))
    report = run_ingest([src], root, IngestParams(), embedder)
    assert report.published and report.n_embedded_texts == 0
    assert load_version(root).manifest["n_boilerplate_sentences"] == 3
