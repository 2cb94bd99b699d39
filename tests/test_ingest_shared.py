"""Ingest of the whole shared guideline corpus (HTML, Markdown, DOCX, PDF) with the real model."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from ingest.parse.normalize import normalize_text
from ingest.store import load_version

pytestmark = pytest.mark.slow

OPIOID = "cdc-opioids-2022"


def test_shared_corpus_ingests_without_failures(shared_index, shared_dir):
    root, report = shared_index
    if report is None:
        pytest.skip("using a cached index (GUIDEGROUND_TEST_SHARED_INDEX); rebuild to check the report")
    files = sorted(p.name for p in (shared_dir / "guidelines").iterdir() if p.is_file())
    assert [f for f in report.files if f.status == "failed"] == []
    assert sorted(f.path.rsplit("/", 1)[-1] for f in report.files if f.status == "indexed") == files
    idx = load_version(root)
    formats = Counter(d["format"] for d in idx.manifest["documents"].values())
    assert formats["html"] >= 80 and formats["md"] == 10 and formats["docx"] == 5 and formats["pdf"] >= 2
    for c in idx.chunks[:: max(1, len(idx.chunks) // 500)]:
        assert c.text and c.start < c.end and c.doc_id in idx.manifest["documents"]


@pytest.fixture(scope="module")
def opioid_chunks(shared_index):
    root, _ = shared_index
    idx = load_version(root)
    return [c for c in idx.chunks if c.doc_id == OPIOID]


def test_opioid_recommendations_1_to_12_have_their_own_sections(opioid_chunks):
    for n in range(1, 13):
        named = [c for c in opioid_chunks if any(re.fullmatch(rf"Recommendation {n}\b.*", s) for s in c.section_path)]
        assert named, f"no chunk under a 'Recommendation {n}' heading"
        assert any(re.search(r"\b(should|recommend)", c.text) for c in named)


def test_opioid_chunk_pages_within_one_of_the_true_page(opioid_chunks, shared_dir):
    import pymupdf

    doc = pymupdf.open(shared_dir / "guidelines" / f"{OPIOID}.pdf")
    pages = [re.sub(r"\W+", "", normalize_text(p.get_text())).lower() for p in doc]
    checked = 0
    for c in opioid_chunks:
        probe = re.sub(r"\W+", "", c.text[:80]).lower()[:40]
        if len(probe) < 30 or not c.pages:
            continue
        hits = [i + 1 for i, t in enumerate(pages) if probe in t]
        if len(hits) != 1:  # text repeated on several pages (summary boxes) or split by a column break
            continue
        checked += 1
        assert abs(c.pages[0] - hits[0]) <= 1, (c.chunk_id, c.pages, hits, c.text[:80])
    assert checked >= 300


def test_no_chunk_contains_running_headers(opioid_chunks, shared_dir):
    import pymupdf

    doc = pymupdf.open(shared_dir / "guidelines" / f"{OPIOID}.pdf")
    counts: Counter[str] = Counter()
    raw: dict[str, str] = {}
    for p in doc:
        for line in {normalize_text(x) for x in p.get_text().splitlines() if x.strip()}:
            key = re.sub(r"\d+", "#", line)
            counts[key] += 1
            raw.setdefault(key, line)
    running = [raw[k] for k, n in counts.items() if n >= doc.page_count * 0.5 and len(re.sub(r"[\W\d]", "", k)) >= 10]
    assert running, "expected the MMWR running header/footer lines"
    for c in opioid_chunks:
        for line in running:
            assert re.sub(r"\d+", "#", line) not in re.sub(r"\d+", "#", c.text), (line, c.chunk_id)
