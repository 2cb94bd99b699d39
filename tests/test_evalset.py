"""The clinician dev set tooling (scripts/evalset.py): checker rules on small synthetic records, and the
committed source set checked against the real shared-corpus index and rebuilt byte for byte."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("evalset", REPO / "scripts" / "evalset.py")
evalset = importlib.util.module_from_spec(_spec)
sys.modules["evalset"] = evalset
_spec.loader.exec_module(evalset)

TEXT = (
    "The USPSTF recommends annual screening for lung cancer with low-dose computed tomography in adults "
    "aged 55 to 80 years who have a 30 pack-year smoking history. Screening should be discontinued once a "
    "person has not smoked for 15 years."
)
EVIDENCE = "Screening should be discontinued once a person has not smoked for 15 years."


def corpus() -> evalset.Corpus:
    chunks = [
        SimpleNamespace(doc_id="doc-a", title="Screening for lung cancer: statement", text=TEXT, pages=[]),
        SimpleNamespace(doc_id="doc-b", title="Hip and knee osteoarthritis", text="Offer duloxetine  or\ntramadol.", pages=[]),
        SimpleNamespace(doc_id="doc-pdf", title="Opioids", text="Use the lowest effective dose of immediate-release opioids for acute pain.", pages=[7]),
    ]
    return evalset.Corpus(chunks)


def answerable(**over) -> dict:
    rec = {
        "id": "A-doc-a-01", "type": "answerable", "kind": "number", "vignette": True, "doc_id": "doc-a",
        "question": "My 70-year-old patient quit smoking 16 years ago; should his yearly CT continue?",
        "evidence": EVIDENCE, "page": None, "reference_answer": "Stop after 15 smoke-free years.",
    }
    rec.update(over)
    return rec


def check(*recs: dict) -> list:
    bad, _ = evalset.check_records([("A.jsonl", i + 1, r) for i, r in enumerate(recs)], corpus())
    return bad


def rules(bad) -> set[str]:
    return {v.rule for v in bad}


def test_a_clean_record_passes():
    assert check(answerable()) == []


def test_an_audit_note_is_a_non_empty_string_and_tags_the_case():
    note = "near miss until the second-reader audit: the corpus gives the interval"
    assert check(answerable(audit=note)) == []
    assert rules(check(answerable(audit=""))) == {"schema"}
    assert "audited" in evalset.to_case(answerable(audit=note))["tags"]


def test_four_word_overlap_is_caught_but_names_are_allowed():
    copied = answerable(question="Should screening be discontinued once a person has quit for years?")
    bad = check(copied)
    assert rules(bad) == {"overlap"}
    assert any("be discontinued once a" in v.detail for v in bad)
    assert evalset.shared_runs("Does the U.S. Preventive Services Task Force say so?", "the U.S. Preventive Services Task Force recommends") == []
    assert evalset.shared_runs("low-dose computed tomography every year?", TEXT) == []  # a test's name


def test_missing_span_and_wrong_document_are_caught():
    assert rules(check(answerable(evidence="Screening should be discontinued once a person has not smoked for 10 years."))) == {"evidence_span"}
    assert rules(check(answerable(doc_id="doc-b"))) == {"evidence_span"}
    assert rules(check(answerable(doc_id="doc-zzz"))) == {"doc_exists"}
    # whitespace is compared normalized
    ok = answerable(id="A-doc-b-01", doc_id="doc-b", evidence="Offer duloxetine or tramadol.", question="Which drugs may be added for knee pain?")
    bad = check(ok)
    assert "evidence_span" not in rules(bad)
    assert rules(bad) == {"schema"}  # 29 characters: under the 60-character minimum


def test_page_must_match_the_chunk_for_pdfs():
    rec = answerable(id="A-doc-pdf-01", doc_id="doc-pdf", evidence="Use the lowest effective dose of immediate-release opioids for acute pain.", page=3,
                     question="How much opioid should I give for a sprained ankle?")
    assert rules(check(rec)) == {"page"}
    rec["page"] = 7
    assert check(rec) == []
    assert rules(check(answerable(page=2))) == {"page"}  # an HTML document has no pages


def test_absent_regex_that_matches_the_corpus_is_caught():
    nm = {"id": "A-doc-a-N1", "type": "near_miss", "vignette": False, "doc_id": "doc-a",
          "question": "What nodule size needs a 3-month follow-up CT?", "absent": [r"nodule"]}
    assert check(nm) == []
    nm["absent"] = [r"nodule", r"\d+ pack-years?"]
    bad = check(nm)
    assert rules(bad) == {"absent_regex"} and "pack-year" in bad[0].detail
    nm["absent"] = [r"(unclosed"]
    assert rules(check(nm)) == {"absent_regex"}
    nm["absent"] = []
    assert rules(check(nm)) == {"schema"}


def test_fast_corpus_search_equals_searching_every_chunk():
    import re

    c = corpus()
    patterns = [
        r"nodule", r"\d+ pack-years?", r"tramadol", r"duloxetine\W+or", r"tramadol\W+\w+", r"^use the",
        r"(?<=effective )dose", r"(low|high)-dose", r"\d", r"years\.\s*Offer", r"pain\.$", r"(quit|smok)\w*[^.]{0,30}15",
        r"(?i:LOW-DOSE) computed", r"[^.]{0,80}tramadol", r"\bor\b",
    ]
    for p in patterns:
        rx = re.compile(p, re.IGNORECASE)
        fast = c.first_match(rx)
        slow = next((t for t in c.texts if rx.search(t)), None)
        assert (fast[0] if fast else None) == slow, p
    assert evalset.required_literals(re.compile(r"(inject\w* drug|IDU)[^.]{0,9}(annual|every \d+ months)", re.I)) == ["annual", " months"]
    assert evalset.required_literals(re.compile(r"\d+(\.\d+)?", re.I)) is None


def test_schema_ids_and_prefixes():
    bad = check(answerable(), answerable())
    assert rules(bad) == {"unique_id"}
    assert "id_prefix" in rules(check(answerable(id="B-doc-a-01")))
    assert "schema" in rules(check(answerable(kind="dose")))
    assert "schema" in rules(check({"id": "A-x", "type": "opinion", "question": "?"}))
    dis = answerable(id="A-d-1", type="disagreement", doc_id_b="doc-a", evidence_b=EVIDENCE, disagreement_on="number")
    assert "schema" in rules(check(dis))  # the same document twice


def test_out_of_scope_naming_a_corpus_topic_is_only_a_warning():
    oos = {"id": "A-oos-1", "type": "out_of_scope", "vignette": False, "question": "What is the dose of lung cancer chemotherapy?"}
    bad, warn = evalset.check_records([("A.jsonl", 1, oos)], corpus())
    assert bad == [] and [w.rule for w in warn] == ["oos_topic"]


def _sha_mod(s: str) -> int:
    return int(hashlib.sha1(s.encode()).hexdigest(), 16) % 10


def test_split_is_by_document():
    docs = [f"ngc-{n}" for n in range(10000, 10060)]
    test_docs = [d for d in docs if _sha_mod(d) < 3]
    fit_docs = [d for d in docs if _sha_mod(d) >= 3]
    assert test_docs and fit_docs
    for d in docs:
        splits = {evalset.split_of({"id": f"A-{d}-{i}", "type": t, "doc_id": d}) for i in range(5) for t in ("answerable", "near_miss")}
        assert splits == {"test" if d in test_docs else "fit"}  # every record of a document lands together
    dis = {"id": "x", "type": "disagreement", "doc_id": fit_docs[0], "doc_id_b": test_docs[0]}
    assert evalset.split_of(dis) == "test"
    assert evalset.split_of(dis | {"doc_id_b": fit_docs[1]}) == "fit"
    for i in range(20):
        rid = f"C-oos-{i}"
        assert evalset.split_of({"id": rid, "type": "out_of_scope"}) == ("test" if _sha_mod(rid) < 3 else "fit")


def test_build_writes_eval_cases(tmp_path):
    from app.eval.cases import load_cases

    recs = [
        answerable(id="A-ngc-10192-01", doc_id="ngc-10192"),
        {"id": "A-ngc-10192-N1", "type": "near_miss", "vignette": True, "doc_id": "ngc-10192", "question": "Nodule size?", "absent": ["nodule"]},
        {"id": "A-oos-1", "type": "out_of_scope", "question": "How is gout treated?"},
        answerable(id="A-d-1", type="disagreement", kind="number", doc_id="ngc-10192", doc_id_b="ngc-10904",
                   evidence_b="Other span of sixty characters or more, verbatim from the second document.", disagreement_on="number"),
    ]
    stats = evalset.build(recs, tmp_path)
    cases = {}
    for split in ("fit", "test"):
        p = tmp_path / f"{split}.jsonl"
        if p.stat().st_size:
            cases.update({c.id: c for c in load_cases(p)[0]})
    assert set(cases) == {r["id"] for r in recs}
    a, n, o, d = (cases[r["id"]] for r in recs)
    assert (a.expected, n.expected, o.expected, d.expected) == ("answer", "abstain", "abstain", "abstain")
    assert a.gold_evidence == EVIDENCE and n.gold_evidence is None and o.gold_doc_ids == []
    assert d.gold_doc_ids == ["ngc-10192", "ngc-10904"]
    assert {"clinician", "answerable", "kind:number", "vignette"} <= set(a.tags)
    assert {"doc_b:ngc-10904", "on:number"} <= set(d.tags)
    split = evalset.split_of(recs[0])
    assert f"split:{split}" in a.tags and f"split:{split}" in n.tags
    assert stats["by_type"] == {"answerable": 1, "disagreement": 1, "near_miss": 1, "out_of_scope": 1}
    assert "audited" not in a.tags and stats["audited"] == 0
    assert json.loads((tmp_path / "stats.json").read_text()) == stats


@pytest.mark.slow
def test_committed_set_checks_against_the_shared_index_and_rebuilds(shared_index, tmp_path):
    root, _ = shared_index
    recs, bad = evalset.load_sources(evalset.SRC)
    assert recs, "no source records under evalsets/clinician/src"
    more, _ = evalset.check_records(recs, evalset.Corpus.load(root))
    bad += more
    assert not bad, "\n".join(f"{v.id} [{v.rule}] {v.detail}" for v in bad[:30])

    stats = evalset.build([r for _, _, r in recs], tmp_path)
    for name in ("fit.jsonl", "test.jsonl", "stats.json"):
        assert (tmp_path / name).read_bytes() == (evalset.OUT / name).read_bytes(), f"{name} is stale: run scripts/evalset.py build"

    by_type = stats["by_type"]
    assert by_type.get("answerable", 0) >= 300 and stats["vignette_share_answerable"] >= 1 / 3
    assert by_type.get("near_miss", 0) >= 150
    assert by_type.get("out_of_scope", 0) >= 40
    assert by_type.get("disagreement", 0) >= 30


def _checked_side_set(name: str, root, tmp_path, at_least: int, split: str, built: tuple[str, ...]) -> tuple[list[dict], dict]:
    """A side set under evalsets/<name>/src: every record passes the checker on the shared index, asks about
    documents of one split of the dev set, and the committed built files are what the builder writes."""
    src = evalset.REPO / "evalsets" / name / "src"
    recs, bad = evalset.load_sources(src)
    assert len(recs) >= at_least, f"the {name} set's source records are missing"
    more, _ = evalset.check_records(recs, evalset.Corpus.load(root))
    bad += more
    assert not bad, "\n".join(f"{v.id} [{v.rule}] {v.detail}" for v in bad[:30])
    assert {evalset.split_of(r) for _, _, r in recs} == {split}
    stats = evalset.build([r for _, _, r in recs], tmp_path)
    for f in built:
        assert (tmp_path / f).read_bytes() == (src.parent / f).read_bytes(), f"{f} is stale: see evalsets/{name}/README.md"
    assert stats["by_split"] == {split: len(recs)}
    return [r for _, _, r in recs], stats


@pytest.mark.slow
def test_blind_set_checks_against_the_shared_index_and_asks_only_about_test_documents(shared_index, tmp_path):
    # every record asks about a document of the dev set's test split: nothing is fitted on them
    _checked_side_set("blind", shared_index[0], tmp_path, 150, "test", ("test.jsonl", "stats.json"))


@pytest.mark.slow
def test_second_blind_set_checks_against_the_shared_index_and_repeats_no_older_question(shared_index, tmp_path):
    # the test split's documents only, and written without the older sets: none of its questions is one of theirs
    recs, stats = _checked_side_set("blind2", shared_index[0], tmp_path, 150, "test", ("test.jsonl", "stats.json"))
    assert stats["by_type"] == {"answerable": 99, "near_miss": 66} and stats["vignette_share_answerable"] >= 1 / 3
    older = set()
    for name in ("clinician", "blind", "traps", "unmentioned"):
        older |= {" ".join(r["question"].lower().split()) for _, _, r in evalset.load_sources(REPO / "evalsets" / name / "src")[0]}
    assert [r["id"] for r in recs if " ".join(r["question"].lower().split()) in older] == []
    # a blind second reader's verdict on each near miss (evalsets/audit/README.md); none is answered by the corpus
    rows = [json.loads(line) for line in AUDIT_BLIND2.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in recs if r["type"] == "near_miss")
    assert {r["verdict"] for r in rows} <= {"absent", "partial"}
    corpus = evalset.Corpus.load(shared_index[0])
    assert [r["id"] for r in rows if r["span"] and corpus.find(r["doc_id"], r["span"]) is None] == []


@pytest.mark.slow
def test_trap_set_checks_against_the_shared_index_and_holds_only_fit_document_near_misses(shared_index, tmp_path):
    # near misses only, about documents of the dev set's fit split, each with the nearby detail it is a trap for
    recs, stats = _checked_side_set("traps", shared_index[0], tmp_path, 130, "fit", ("fit.jsonl", "stats.json"))
    assert {r["type"] for r in recs} == {"near_miss"}
    assert sum(bool(r.get("trap")) for r in recs) >= 0.9 * len(recs)
    assert stats["vignettes"]["near_miss"] >= len(recs) // 3


@pytest.mark.slow
def test_unmentioned_set_checks_against_the_shared_index_and_names_what_the_corpus_lacks(shared_index, tmp_path):
    # fit-split documents only; each near miss's `absent` patterns (the named drug, test, scale or device) match no
    # chunk of the whole corpus (the checker's absent_regex rule), and each answerable names what its evidence names
    recs, stats = _checked_side_set("unmentioned", shared_index[0], tmp_path, 60, "fit", ("fit.jsonl", "stats.json"))
    near, answerable = [r for r in recs if r["type"] == "near_miss"], [r for r in recs if r["type"] == "answerable"]
    assert len(near) >= 40 and len(answerable) >= 25 and len(near) + len(answerable) == len(recs)
    assert stats["vignettes"]["near_miss"] >= len(near) // 3
    # a blind second reader's verdict on each near miss (evalsets/audit/README.md); none is answered by the corpus
    rows = [json.loads(line) for line in AUDIT_K.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in near)
    assert {r["verdict"] for r in rows} <= {"absent", "partial"}
    corpus = evalset.Corpus.load(shared_index[0])
    assert [r["id"] for r in rows if r["span"] and corpus.find(r["doc_id"], r["span"]) is None] == []


AUDIT_K = REPO / "evalsets" / "audit" / "near_miss_K_2026-12-06.jsonl"
AUDIT_BLIND2 = REPO / "evalsets" / "audit" / "near_miss_blind2_2026-12-06.jsonl"
AUDIT = REPO / "evalsets" / "audit" / "near_miss_2026-12-05.jsonl"


@pytest.mark.slow
def test_near_miss_audit_covers_every_near_miss_and_quotes_the_corpus_verbatim(shared_index):
    rows = [json.loads(line) for line in AUDIT.read_text(encoding="utf-8").splitlines()]
    near_misses = {}
    for name in ("clinician", "blind", "traps"):
        recs, _ = evalset.load_sources(REPO / "evalsets" / name / "src")
        near_misses.update({r["id"]: r for _, _, r in recs if r["type"] == "near_miss" or r.get("audit")})
    assert [r["id"] for r in rows] == sorted(near_misses), "the audit must hold exactly one verdict per near miss"
    assert {r["verdict"] for r in rows} <= {"absent", "partial", "answered"}
    corpus = evalset.Corpus.load(shared_index[0])
    quoted = [r for r in rows if r["span"]]
    missing = [r["id"] for r in quoted if corpus.find(r["doc_id"], r["span"]) is None]
    assert not missing, f"quoted spans not verbatim in their documents: {missing[:10]}"
    # the rule of evalsets/audit/README.md: an `answered` verdict is turned answerable (audit note) or kept with a decision
    for r in rows:
        if r["verdict"] == "answered":
            rec = near_misses.get(r["id"])
            assert r.get("decision") or (rec is not None and rec.get("audit")), f"{r['id']}: answered with no decision"


def test_corpus_search_tool_reads_a_built_index(demo_index, capsys):
    spec = importlib.util.spec_from_file_location("corpus_search", REPO / "scripts" / "corpus_search.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    root = str(demo_index[0])
    assert tool.main(["--index", root, "docs"]) == 0
    doc_id = capsys.readouterr().out.split(" | ", 1)[0].strip()
    assert tool.main(["--index", root, "grep", r"\bscreen\w*", "--max", "2"]) == 0
    out = capsys.readouterr().out
    assert "matches" in out and not out.startswith("-- 0 matches")
    span = out.split("...", 2)[1][:40].strip()
    hit_doc = out.split("]", 1)[0].lstrip("[").split(" p")[0]
    assert tool.main(["--index", root, "has", hit_doc, span]) == 0
    assert tool.main(["--index", root, "has", doc_id, "no guideline says this sentence, ever"]) == 1
    assert "NOT FOUND" in capsys.readouterr().out


@pytest.mark.slow
def test_terse_set_rewrites_the_dev_set_in_its_own_split_and_checks_against_the_shared_index(shared_index, tmp_path):
    # evalsets/terse: every answerable, near-miss and out-of-scope dev-set question typed in at most 12-14 words, with its
    # original's document, evidence and `absent` patterns, in its original's split (so nothing fitted leaks into test)
    src = REPO / "evalsets" / "terse" / "src"
    recs, bad = evalset.load_sources(src)
    more, _ = evalset.check_records(recs, evalset.Corpus.load(shared_index[0]))
    bad += more
    assert not bad, "\n".join(f"{v.id} [{v.rule}] {v.detail}" for v in bad[:30])
    originals = {r["id"]: r for _, _, r in evalset.load_sources(REPO / "evalsets" / "clinician" / "src")[0]}
    recs = [r for _, _, r in recs]
    wanted = {i for i, r in originals.items() if r["type"] in ("answerable", "near_miss", "out_of_scope")}
    assert sorted(r["from_id"] for r in recs) == sorted(wanted)
    for r in recs:
        o = originals[r["from_id"]]
        assert r["id"] == "T-" + o["id"] and r["question"] != o["question"]
        assert {k: v for k, v in r.items() if k not in ("id", "from_id", "question", "vignette")} == {
            k: v for k, v in o.items() if k not in ("id", "question", "vignette", "audit")}
        assert evalset.split_of(r) == evalset.split_of(o)
    n_words = [len(r["question"].split()) for r in recs]
    assert max(n_words) <= 14 and sum(n <= 12 for n in n_words) >= 0.95 * len(recs)
    stats = evalset.build(recs, tmp_path)
    for f in ("fit.jsonl", "test.jsonl", "stats.json"):
        assert (tmp_path / f).read_bytes() == (src.parent / f).read_bytes(), f"{f} is stale: see evalsets/terse/README.md"
    assert stats["by_split"] == {"fit": 486, "test": 234}


@pytest.mark.slow
def test_disagreement_set_checks_against_the_shared_index_and_repeats_no_older_item(shared_index, tmp_path):
    # disagreements and same-topic answerables, written blind; the builder's split by document is kept as it writes it
    src = REPO / "evalsets" / "disagree" / "src"
    loaded, bad = evalset.load_sources(src)
    recs = [r for _, _, r in loaded]
    more, _ = evalset.check_records(loaded, evalset.Corpus.load(shared_index[0]))
    assert not bad + more, "\n".join(f"{v.id} [{v.rule}] {v.detail}" for v in (bad + more)[:30])
    stats = evalset.build(recs, tmp_path)
    for f in ("fit.jsonl", "test.jsonl", "stats.json"):
        assert (tmp_path / f).read_bytes() == (src.parent / f).read_bytes(), f"{f} is stale: see evalsets/disagree/README.md"
    assert stats["by_type"] == {"answerable": 16, "disagreement": 15}
    dis = [r for r in recs if r["type"] == "disagreement"]
    assert all(r["doc_id"] != r["doc_id_b"] for r in dis)
    # no question is an older set's, and no disagreement repeats an older one's pair of spans
    older_q, older_pairs = set(), set()
    for name in ("clinician", "blind", "blind2", "traps", "unmentioned"):
        for _, _, r in evalset.load_sources(REPO / "evalsets" / name / "src")[0]:
            older_q.add(" ".join(r["question"].lower().split()))
            if r["type"] == "disagreement":
                older_pairs.add(frozenset((r["evidence"], r["evidence_b"])))
    assert [r["id"] for r in recs if " ".join(r["question"].lower().split()) in older_q] == []
    assert [r["id"] for r in dis if frozenset((r["evidence"], r["evidence_b"])) in older_pairs] == []
    # a blind second reader's verdict on each disagreement, resting on the corpus's own words
    rows = [json.loads(line) for line in AUDIT_DISAGREE.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in dis)
    assert {r["verdict"] for r in rows} <= {"genuine", "arguable", "not"}
    corpus = evalset.Corpus.load(shared_index[0])
    assert [r["id"] for r in rows if r["span"] and corpus.find(r["doc_id"], r["span"]) is None] == []


AUDIT_DISAGREE = REPO / "evalsets" / "audit" / "disagree_2026-12-06.jsonl"
