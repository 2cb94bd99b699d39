"""The response names the question's specific words that no cited guideline uses, and the asked kinds of item no
answer sentence gives (app/query/coverage.py)."""

from __future__ import annotations

import pytest

from app.query.coverage import (
    absent_names,
    specific_words,
    unanswered_items,
    unindexed_terms,
    unmatched_terms,
    wordpieces,
)
from app.query.schemas import QueryRequest


def test_wordpieces_counts_the_packaged_tokenizers_pieces():
    assert wordpieces("dose") == 1 and wordpieces("screening") <= 2
    assert wordpieces("gabapentin") >= 4 and wordpieces("anastrozole") >= 4
    assert wordpieces("zzqx") >= 2  # no whole token: split into pieces, never zero


def test_specific_words_read_the_asking_part_only():
    q = ("A 29-year-old with a new transhumeral amputation has phantom limb pain. "
         "What gabapentin titration schedule does the guideline recommend?")
    words = specific_words(q)
    assert "gabapentin" in words
    assert "transhumeral" not in words  # the vignette's story is context, not what is asked
    assert not {"schedule", "guideline", "recommend", "what", "pain"} & set(words)
    # a hyphenated name by its parts; a possessive is its word
    assert specific_words("At what age should risk-reducing salpingo-oophorectomy be offered?") == ["salpingo", "oophorectomy"]
    assert specific_words("Is a toddler's cyclobenzaprine-type drug dose given?") == ["cyclobenzaprine"]


@pytest.fixture(scope="module")
def service(demo_index, embedder, tmp_path_factory):
    from app.query.service import QueryService
    from app.settings import Settings

    db = tmp_path_factory.mktemp("cov") / "a.db"
    s = Settings(safety={"enabled": False}, database={"url": f"sqlite:///{db}"})
    return QueryService.from_settings(s, index_dir=demo_index[0], embedder=embedder)


def test_a_drug_the_cited_guideline_never_names_is_reported(service):
    """The real demo index, encoder and gate: whatever the status, the named drug is listed because no cited
    guideline's text or title holds it; the guideline's own words never are."""
    q = "From what age should people at average risk taking rivaroxaban begin colorectal cancer screening?"
    r = service.answer(QueryRequest(question=q))
    assert r.status in ("answered", "abstained") and r.citations
    assert r.unmatched_terms == ["rivaroxaban"], r.unmatched_terms
    assert r.unindexed_terms == ["rivaroxaban"], r.unindexed_terms  # no demo guideline names it at all
    idx = service.holder.get()
    # a word the cited guideline does use is not listed, even when it is as rare in general English
    used = "colonoscopy"
    assert wordpieces(used) >= 4
    assert unmatched_terms(idx, f"Is {used} preferred?", [c.doc_id for c in r.citations]) == []
    # nothing cited, nothing to say
    assert unmatched_terms(idx, q, []) == []


def test_a_question_in_the_guidelines_own_words_has_no_note(service):
    r = service.answer(QueryRequest(question="From what age should people at average risk begin colorectal cancer screening?"))
    assert r.status == "answered" and r.unmatched_terms == [] and r.unindexed_terms == []


def test_a_word_another_guideline_uses_is_not_unindexed(service):
    """The whole index is read, not the cited guidelines: "colonoscopy" is unmatched against the opioid guideline
    alone but the colorectal one uses it, so only the word no demo guideline holds is unindexed; stems are compared
    ("colonoscopies"), and nothing is said of no words."""
    idx = service.holder.get()
    assert unmatched_terms(idx, "Is colonoscopy or rivaroxaban preferred?", ["demo-opioid-2026"]) == ["colonoscopy", "rivaroxaban"]
    assert unindexed_terms(idx, ["colonoscopy", "rivaroxaban"]) == ["rivaroxaban"]
    assert unindexed_terms(idx, ["colonoscopies"]) == []
    assert unindexed_terms(idx, []) == []


def test_a_question_naming_what_no_guideline_mentions_abstains(service, demo_index, embedder, tmp_path):
    """Stop 57: the gate abstains with no_evidence when the asking part names what no guideline of the index mentions,
    says so, and still attaches the closest passages; with ``abstain.absent_names`` off the same question is answered
    from the colorectal guideline, so it is this rule, not the model, that abstains."""
    from app.query.respond import ABSENT_MESSAGE
    from app.query.service import QueryService
    from app.settings import Settings

    q = "From what age should people at average risk taking rivaroxaban begin colorectal cancer screening?"
    r = service.answer(QueryRequest(question=q))
    assert (r.status, r.reason, r.message) == ("abstained", "no_evidence", ABSENT_MESSAGE), r
    assert r.unindexed_terms == ["rivaroxaban"] and r.citations and r.closest and not r.sentences
    off = Settings(safety={"enabled": False}, abstain={"absent_names": False}, database={"url": f"sqlite:///{tmp_path / 'b.db'}"})
    r = QueryService.from_settings(off, index_dir=demo_index[0], embedder=embedder).answer(QueryRequest(question=q))
    assert r.status == "answered" and r.unindexed_terms == ["rivaroxaban"], r
    assert r.citations[0].doc_id == "demo-crc-2026"


def test_a_guidelines_word_in_other_dress_is_not_an_absent_name(service):
    """No demo guideline holds any of these words, but only the drugs and the procedure are absent names: an English
    prefix on a held word ("pre" + "colonoscopy") or on an everyday one ("under" + "pinned"), a word one letter from a
    held one ("colonoscopic" beside "colonoscopy"), and a word written in capitals (an abbreviation a guideline may
    spell out) are not."""
    idx = service.holder.get()
    for q, unindexed, absent in (
        ("Is rivaroxaban or apixaban preferred?", ["rivaroxaban", "apixaban"], ["rivaroxaban", "apixaban"]),
        ("Is a colonoscopic polypectomy needed?", ["colonoscopic", "polypectomy"], ["polypectomy"]),
        ("Is precolonoscopy bowel prep needed?", ["precolonoscopy"], []),
        ("Which trials underpinned the advice?", ["underpinned"], []),
        ("Is reapplication of the patch needed?", ["reapplication"], []),
        ("Is RIVAROXABAN a concern?", ["rivaroxaban"], []),
    ):
        assert unindexed_terms(idx, specific_words(q)) == unindexed, q
        assert absent_names(idx, q) == absent, q


def test_the_holders_of_a_term_are_the_documents_that_hold_it(service):
    """``DOC_TERMS.holders`` reads a term's posting list once; it must name exactly the documents a per-document
    lookup says hold the term (text or title), for words of titles, of one guideline, of several, and of none."""
    from app.query.termcache import DOC_TERMS

    idx = service.holder.get()
    docs = list(idx.manifest["documents"])
    words = "colonoscopy naloxone screening opioid guideline adults rivaroxaban colorectal".split()
    checked = 0
    for stem in {s for w in words for s in idx.bm25.terms(w)}:
        want = frozenset(d for d in docs if stem in DOC_TERMS.get(idx, d))
        assert DOC_TERMS.holders(idx, stem) == want, stem
        checked += bool(want) and len(want) < len(docs)
    assert checked >= 3  # the words are not all everywhere or nowhere


def test_the_note_is_per_cited_document(service):
    """A word one cited guideline holds is not listed; the same word against another guideline alone is."""
    idx = service.holder.get()
    q = "Is colonoscopy the preferred test?"
    assert unmatched_terms(idx, q, ["demo-crc-2026"]) == []
    assert unmatched_terms(idx, q, ["demo-opioid-2026"]) == ["colonoscopy"]
    assert unmatched_terms(idx, q, ["demo-opioid-2026", "demo-crc-2026"]) == []


def test_ask_prints_the_note(demo_index, tmp_path):
    """`guideground ask` (human output) says which words no cited guideline uses, and which asked item the answer
    does not give."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, GUIDEGROUND_DATABASE__URL=f"sqlite:///{tmp_path / 'cli.db'}", GUIDEGROUND_SAFETY__ENABLED="false")
    for q, said in (
        ("From what age should people at average risk taking rivaroxaban begin colorectal cancer screening?",
         "No guideline in this index uses: rivaroxaban"),
        ("How long should stool tests be continued in average-risk adults for colorectal cancer screening?",
         "The answer gives no duration, which the question asks for"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "app.cli", "ask", q, "--index", str(demo_index[0])],
            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], env=env, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert said in proc.stdout, proc.stdout


def test_unanswered_items_are_the_asked_specific_kinds_no_sentence_gives():
    q = "At what age and how often should oral HPV testing be repeated in high-risk men?"
    prevalence = "The overall prevalence of oral HPV infection is estimated to be 6.9% in adults."
    assert unanswered_items(q, [prevalence]) == ["age", "interval"]
    assert unanswered_items(q, [prevalence, "Screen men aged 45 to 65 years every 3 years."]) == []
    assert unanswered_items(q, [prevalence, "Repeat the test every 3 years."]) == ["age"]
    # a grade or a yes/no ask is not noted; no sentence, no note (an abstention says why on its own)
    assert unanswered_items("How strongly does the USPSTF recommend it?", ["Offer counseling to adults."]) == []
    assert unanswered_items(q, []) == []


def test_an_answer_without_the_asked_duration_says_so(service):
    """The real demo index, encoder and gate: "how long" answered with the stool tests' intervals and the screening
    ages gives no duration, and the response notes it; an answer that gives the asked age carries no note."""
    r = service.answer(QueryRequest(question="How long should stool tests be continued in average-risk adults for colorectal cancer screening?"))
    assert r.status == "answered", (r.status, r.reason)
    assert r.unanswered_items == ["duration"], r.unanswered_items
    r = service.answer(QueryRequest(question="At what age should colorectal cancer screening start?"))
    assert r.status == "answered" and r.unanswered_items == [], r.unanswered_items
