"""The grade labels of the shared corpus that close a two-sentence statement (a real index, the real sentence
splitter): an answer quoting the statement's first sentence quotes it through its grade, as one contiguous span."""

from __future__ import annotations

from app.query.quotable import GRADE_LABEL
from app.query.statements import entry_head, statement_end, whole_label
from ingest.store import load_version


def test_two_sentence_graded_statements_of_the_shared_corpus(shared_index) -> None:
    idx = load_version(shared_index[0])
    labels, found = 0, []
    for ch in idx.chunks:
        texts = [ch.text[s.start : s.end] for s in ch.sentences]
        labels += sum(bool(GRADE_LABEL.match(t)) for t in texts)
        for i in range(len(texts)):
            end = statement_end(ch.text, ch.sentences, i)
            if end is None:
                continue
            if i + 2 < len(texts) and end == ch.sentences[i + 2].end and GRADE_LABEL.match(texts[i + 2]):
                found.append((ch.doc_id, ch.text[ch.sentences[i].start : end]))
            else:  # a statement with a list (stop 53, tests/test_statements.py): it ends at an entry or at its label
                last = next(k for k, s in enumerate(ch.sentences) if s.end == end)
                assert last > i and (entry_head(ch.text, ch.sentences, last) is not None or whole_label(texts[last]))
    assert labels >= 70
    docs = {d for d, _ in found}
    # 8 of 78 at stop 52: lung LDCT, adult and adolescent depression, HIV, BRCA, breast-cancer medicines, two I statements
    assert 6 <= len(found) <= 12 and {"ngc-10192", "ngc-10889", "ngc-9806"} <= docs
    lung = next(t for d, t in found if d == "ngc-10192")
    assert lung.startswith("The USPSTF recommends annual screening") and "discontinued" in lung and lung.endswith("(B recommendation)")
