"""A statement with a list is quoted through its list and the grade label that closes it (stop 53): an answer that
quotes only the lead-in says "… include:" and stops; a list entry alone says nothing by itself."""

from __future__ import annotations

from types import SimpleNamespace

from app.query.statements import MAX_ENTRIES, entry_head, list_end, statement_end, whole_label

UDT = [
    "Recommendation 7",
    "The Work Group recommends implementing risk mitigation strategies upon initiation of long-term opioid therapy.",
    "The strategies and their frequency should be commensurate with risk factors and include:",
    "Ongoing, random urine drug testing (including appropriate confirmatory testing)",
    "Checking state prescription drug monitoring programs",
    "Providing overdose education",
    "( Strong for; Reviewed, New-replaced )",
    "Recommendation 8",
    "The Work Group recommends assessing suicide risk when considering long-term opioid therapy. ( Strong for; Reviewed, Amended )",
]


def _chunk(parts: list[str]) -> SimpleNamespace:
    text = "\n\n".join(parts)
    sents, at = [], 0
    for p in parts:
        a = text.index(p, at)
        sents.append(SimpleNamespace(start=a, end=a + len(p)))
        at = a + len(p)
    return SimpleNamespace(text=text, sentences=sents)


def test_a_statement_runs_through_its_list_and_the_label_that_closes_it() -> None:
    ch = _chunk(UDT)
    t, s = ch.text, ch.sentences
    assert whole_label(UDT[6]) and whole_label("(B recommendation)") and not whole_label(UDT[3])
    assert list_end(t, s, 2) == 6  # the lead-in: through three entries and the label
    assert statement_end(t, s, 1) == s[6].end  # the recommending sentence before the lead-in, through both
    assert statement_end(t, s, 2) == s[6].end
    assert [entry_head(t, s, k) for k in (3, 4, 5)] == [1, 1, 1]  # each entry belongs to the statement opened at 1
    # Not entries: the lead-in, the label, the next statement's heading and sentence, a recommending sentence
    assert [entry_head(t, s, k) for k in (1, 2, 6, 7, 8)] == [None] * 5
    assert statement_end(t, s, 8) is None and list_end(t, s, 1) is None


def test_a_lead_in_without_its_list_or_with_too_long_a_list_is_left_as_it_was() -> None:
    alone = _chunk(["The Work Group recommends against using the following tests in routine diagnosis:"])
    assert list_end(alone.text, alone.sentences, 0) is None and statement_end(alone.text, alone.sentences, 0) is None
    long = _chunk(["Drug classes for consideration include:"] + [f"Drug class number {chr(65 + k)}" for k in range(MAX_ENTRIES + 1)])
    assert list_end(long.text, long.sentences, 0) is None and entry_head(long.text, long.sentences, 3) is None
    prose = _chunk(["The first screening visit should include:", "History of the present illness.", "Blood pressure measurement"])
    assert list_end(prose.text, prose.sentences, 0) is None  # a sentence with a full stop ends the list before it starts
    heading = _chunk(["Definitions:", "Quality of Evidence and Definitions"])
    assert list_end(heading.text, heading.sentences, 0) is None  # a heading, not a lead-in (fewer than 4 words)
    table = _chunk(["The grades are defined as follows:", "Grade | Definition | Suggestions for Practice"])
    assert list_end(table.text, table.sentences, 0) is None  # a table row, not a list entry
    closed = _chunk(["The panel recommends NIV to support weaning in patients with COPD. ( Strong For )",
                     "The quality of evidence is graded as follows:", "High quality of evidence", "Low quality of evidence"])
    assert statement_end(closed.text, closed.sentences, 0) is None  # its own grade closes it: the list is another's
    assert statement_end(closed.text, closed.sentences, 1) == closed.sentences[3].end


def test_the_answer_quotes_the_whole_statement_once_whichever_part_is_chosen() -> None:
    from app.query.generate.extractive import ExtractiveGenerator
    from app.settings import Settings

    ch = _chunk(UDT)
    ch.doc_id = "va-opioids"
    passage = SimpleNamespace(n=1, chunk=ch)
    gen = ExtractiveGenerator(Settings().answer)

    def picked(i: int, score: float) -> SimpleNamespace:
        s = ch.sentences[i]
        return SimpleNamespace(row=3, sent_idx=i, start=s.start, end=s.end, text=UDT[i], score=score, cand_rank=0,
                               about_guideline=False, entry_of=entry_head(ch.text, ch.sentences, i), is_fragment=lambda: False)

    def answer(*pool: SimpleNamespace) -> list[tuple[str, tuple[int, int, int]]]:
        inp = SimpleNamespace(pool=list(pool), scope=[], question="How strongly is random urine drug testing recommended?",
                              index=SimpleNamespace(chunks={3: SimpleNamespace(doc_id="va-opioids")}), by_row=lambda row: passage if row == 3 else None)
        return [(d.text, d.span) for d in gen.generate(inp)]  # type: ignore[arg-type]

    whole = ch.text[ch.sentences[1].start : ch.sentences[6].end]
    span = (1, ch.sentences[1].start, ch.sentences[6].end)
    assert answer(picked(3, 2.0)) == [(whole, span)]  # an entry alone: the statement it belongs to
    assert answer(picked(1, 2.0), picked(3, 1.9)) == [(whole, span)]  # the opener and an entry: once
    assert answer(picked(2, 2.0), picked(3, 1.9), picked(1, 1.8)) == [(whole, span)]  # the lead-in first: one union
    assert whole.endswith("( Strong for; Reviewed, New-replaced )") and "random urine drug testing" in whole
    nxt = ch.text[ch.sentences[8].start : ch.sentences[8].end]
    assert answer(picked(3, 2.0), picked(8, 1.9)) == [(whole, span), (nxt, (1, ch.sentences[8].start, ch.sentences[8].end))]


def test_the_shared_corpus_statements_with_lists(shared_index) -> None:
    """On the real index and splitter: VA/DoD statements with lists are found and end at their label; the random
    urine drug testing entry of the opioid guideline is quoted with its "Strong for"."""
    from ingest.store import load_version

    idx = load_version(shared_index[0])
    found = []
    for ch in idx.chunks:
        for k in range(len(ch.sentences)):
            head = entry_head(ch.text, ch.sentences, k)
            if head is not None and (head, ch.chunk_id) not in {(h, c) for h, c, _ in found}:
                end = statement_end(ch.text, ch.sentences, head)
                assert end is not None and end >= ch.sentences[k].end
                found.append((head, ch.chunk_id, ch.text[ch.sentences[head].start : end]))
    assert 150 <= len(found) <= 260, len(found)  # 194 at stop 53 (48 of them open with "recommends" or "suggests")
    udt = [t for _h, c, t in found if c.startswith("ngc-11178") and "random urine drug testing" in t]
    assert udt and udt[0].startswith("The Work Group recommends implementing risk mitigation") and udt[0].endswith("New-replaced )")


def test_a_lead_in_whose_list_is_in_the_next_chunk_is_not_quoted() -> None:
    """"… recommends against using the following tests …:" as a chunk's last sentence names no test: selection reads it
    as a fragment (``QUOTABLE``); the same words with their list after them are quoted through it."""
    from app.query.answer import QUOTABLE
    from app.query.statements import dangling_lead

    lead = "The Work Group recommends against using the following tests in routine diagnosis of patients with mTBI:"
    cut = _chunk(["The Work Group suggests a focused diagnostic work-up specific to new symptoms only.", lead])
    whole = _chunk([lead, "Neuroimaging studies of the head without red flags", "Serum biomarkers of brain injury"])
    assert dangling_lead(cut.text, cut.sentences, 1) and not dangling_lead(whole.text, whole.sentences, 0)
    assert not dangling_lead(cut.text, cut.sentences, 0)
    for n, ch in enumerate((cut, whole)):
        ch.title, ch.citable, ch.boilerplate = "Concussion-mild traumatic brain injury", True, []
        index = SimpleNamespace(root="mem", version=f"test-dangling-{n}", chunks=[ch])
        QUOTABLE.clear()
        got = {t: (frag, entry_of) for _i, _s, _e, t, _p, frag, entry_of in QUOTABLE.get(index, 0)}  # type: ignore[arg-type]
        QUOTABLE.clear()
        assert got[lead] == ((True, None) if ch is cut else (False, None))
        if ch is whole:
            assert got["Neuroimaging studies of the head without red flags"] == (False, 0)  # an entry: chosen, quoted as the statement


def test_a_lead_in_whose_entries_are_not_its_statement_is_not_quoted() -> None:
    """Stop 55 (`gl-13`): "Assessment of presence and access to lethal means should include:" followed by full
    sentences, not list entries, was quoted alone. A lead-in that opens no statement with a list is a fragment wherever
    it sits in its chunk; one whose list is read (UDT's) is not, nor is a sentence that does not end in ":"."""
    from app.query.statements import dangling_lead

    lethal = _chunk([
        "Assessment of presence and access to lethal means should include:",
        "Assess for access and past use of lethal means (firearms, drugs, toxic agents).",
        "Consider ways to restrict access to lethal means that patients could use to take their own lives.",
    ])
    assert statement_end(lethal.text, lethal.sentences, 0) is None
    assert dangling_lead(lethal.text, lethal.sentences, 0)
    assert not dangling_lead(lethal.text, lethal.sentences, 1) and not dangling_lead(lethal.text, lethal.sentences, 2)
    udt = _chunk(UDT)
    assert [k for k in range(len(UDT)) if dangling_lead(udt.text, udt.sentences, k)] == []


def test_parts_of_one_statement_take_one_place_among_the_chosen_sentences() -> None:
    """Two entries of one list (or an entry and its opener) are quoted as one statement: selection keeps choosing
    until it has ``k`` different quotes, so a list does not crowd out the answer's other sentences."""
    from app.query.answer import Picked, select_by_score

    ch = _chunk(UDT)

    def picked(i: int, score: float, row: int = 3) -> Picked:
        s = ch.sentences[i]
        return Picked(0, row, i, s.start, s.end, UDT[i], 0.5, score=score, entry_of=entry_head(ch.text, ch.sentences, i))

    other = picked(8, 1.0)
    index = SimpleNamespace(chunks=[SimpleNamespace(doc_id="va-opioids")] * 5)
    chosen = select_by_score(index, [picked(3, 3.0), picked(4, 2.9), picked(1, 2.8), other], k=2, margin=5.0, floor=-5.0)  # type: ignore[arg-type]
    assert [p.sent_idx for p in chosen] == [3, 8]
    # The same entries in another passage are another quote.
    chosen = select_by_score(index, [picked(3, 3.0), picked(4, 2.9, row=4), other], k=2, margin=5.0, floor=-5.0)  # type: ignore[arg-type]
    assert sorted((p.row, p.sent_idx) for p in chosen) == [(3, 3), (4, 4)]
