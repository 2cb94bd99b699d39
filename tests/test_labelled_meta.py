"""A guideline ingested without its sidecar row gets the issuer and date it labels itself (ingest/parse/labelled.py)."""

from __future__ import annotations

import csv

import pytest

from ingest.documents import Block
from ingest.parse.labelled import labelled_meta
from tests.conftest import SHARED, SHARED_GUIDELINES, build_index, copy_files


def H(text: str, level: int = 3) -> Block:
    return Block("heading", text, level=level)


def T(text: str) -> Block:
    return Block("text", text)


def test_a_labelled_heading_gives_the_value_under_it():
    blocks = [H("Date Released"), T("2017 Jan"), H("Guideline Developer(s)"), H("U.S. Preventive Services Task Force", 4)]
    assert labelled_meta(blocks) == {"published": "2017 Jan", "issuer": "U.S. Preventive Services Task Force"}


def test_one_line_labels_and_the_first_value_wins():
    blocks = [T("Issued by: Demo Council"), T("Publication date: 2026-03-18"), T("Issued by: someone else")]
    assert labelled_meta(blocks) == {"issuer": "Demo Council", "published": "2026-03-18"}


@pytest.mark.parametrize("blocks", [
    [H("Guideline Developer(s)"), H("Source(s) of Funding")],  # a label whose value is missing: the next section's title
    [H("Date Released"), T("see the original guideline document")],  # a date without a year
    [T("The developer of this guideline is the USPSTF, published in 2016.")],  # prose is never read
    [H("Guideline Developer(s)")],  # nothing after the label
    [T("Published"), T("Published")],  # a label is not its own value
])
def test_no_value_without_a_label_and_a_plausible_value(blocks):
    assert labelled_meta(blocks) == {}


def test_the_shared_summaries_without_their_sidecar_get_its_issuer_and_date(tmp_path, embedder):
    """Real parsers on four files of three formats, ingested without the sidecar: each gets the sidecar's date and an
    issuer that starts with the sidecar's (a summary may list more developers than the sidecar's first)."""
    names = ["ngc-11138.html", "ngc-10535.html", "ngc-11213.md", "ngc-10008.html"]
    rows = {r["file"]: r for r in csv.DictReader((SHARED / "guidelines.manifest.csv").open(encoding="utf-8"))}
    assert SHARED_GUIDELINES.is_dir()
    root = tmp_path / "index"
    build_index([copy_files(names, tmp_path / "src")], root, embedder)
    from ingest.store import load_version

    docs = {d["source_file"]: d for d in load_version(root).manifest["documents"].values()}
    for n in names:
        assert docs[n]["published"] == rows[n]["published"], n
        assert docs[n]["issuer"].startswith(rows[n]["issuer"]), (n, docs[n]["issuer"])


def test_ingest_says_which_files_had_no_sidecar_row(tmp_path):
    """`guideground ingest` (real CLI, parser, encoder) on two Markdown guidelines without a sidecar: one labels its
    issuer and date, one does not; the summary says so and the index holds the labelled values."""
    from typer.testing import CliRunner

    from app.cli import app
    from ingest.store import load_version

    src = tmp_path / "src"
    src.mkdir()
    body = "\n\nScreen all adults aged 40 to 70 years for the demo condition every 3 years.\n"
    (src / "a.md").write_text("# Demo guideline A\n\nIssued by: Demo Council\n\nPublication date: 2025-05-01" + body)
    (src / "b.md").write_text("# Demo guideline B" + body)
    res = CliRunner().invoke(app, ["ingest", str(src), "--index", str(tmp_path / "idx")])
    text = " ".join((res.output + (res.stderr if res.stderr_bytes is not None else "")).split())
    assert res.exit_code == 0, text
    assert "2 file(s) without a sidecar row" in text and "labelled fields for 1" in text
    docs = {d["source_file"]: d for d in load_version(tmp_path / "idx").manifest["documents"].values()}
    assert (docs["a.md"]["issuer"], docs["a.md"]["published"]) == ("Demo Council", "2025-05-01")
    assert (docs["b.md"]["issuer"], docs["b.md"]["published"]) == ("", "")


@pytest.mark.slow  # parses the 2022 guideline's PDF (about a minute on 2 cores)
def test_without_the_sidecar_the_2016_opioid_guideline_is_still_labelled_superseded(tmp_path, embedder):
    """Real parsers on CDC's 2016 summary (Markdown, labelled date) and its 2022 guideline (PDF: no labelled date, the
    year in its title): the 2016 one is labelled superseded by the 2022 one, as with the sidecar (app/query/versions.py)."""
    from app.query.versions import superseded_map
    from ingest.store import load_version

    root = tmp_path / "index"
    build_index([copy_files(["ngc-10953.md", "cdc-opioids-2022.pdf"], tmp_path / "src")], root, embedder)
    docs = load_version(root).manifest["documents"]
    assert docs["cdc-opioids-2022"]["published"] == "" and docs["ngc-10953"]["published"]  # the premise
    assert superseded_map(f"{root}-test", docs) == {"ngc-10953": "cdc-opioids-2022"}
