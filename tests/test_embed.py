"""The embedder's late-chunking path: one encoder pass gives the text vector and span vectors."""

from __future__ import annotations

import numpy as np

from ingest.embed import SpanEmbedder


def test_span_vectors_come_from_the_same_pass_and_pick_their_own_sentence(embedder):
    assert isinstance(embedder, SpanEmbedder)
    sents = [
        "Give one dose of Tdap to every adult who has never received it.",
        "Screen adults aged 45 to 75 years for colorectal cancer with a stool test every year.",
        "Offer naloxone to patients who take high doses of opioids.",
    ]
    head = "Adult prevention demo. Recommendations.\n"
    text = head + " ".join(sents)
    spans, pos = [], len(head)
    for s in sents:
        spans.append((pos, pos + len(s)))
        pos += len(s) + 1
    vecs, blocks = embedder.embed_spans([text, "no spans here"], [spans, []])
    # The text vectors are exactly what embed() returns (the model's own mean pooling).
    assert np.allclose(vecs, embedder.embed([text, "no spans here"]), atol=1e-5)
    block = blocks[0]
    assert block.shape == (3, embedder.dim) and blocks[1].shape == (0, embedder.dim)
    assert np.allclose(np.linalg.norm(block, axis=1), 1.0, atol=1e-5)
    # Each span vector is nearest to its own sentence encoded alone.
    alone = embedder.embed(sents)
    assert list((block @ alone.T).argmax(axis=1)) == [0, 1, 2]
    # And it ranks the right sentence first for a question about it.
    q = embedder.embed(["At what age should colorectal cancer screening start?"])[0]
    assert int(np.argmax(block @ q)) == 1


def test_spans_beyond_truncation_get_zero_rows(embedder):
    filler = "The committee reviewed the evidence in detail. " * 60  # far past 256 tokens
    text = filler + "Tail sentence about influenza vaccine."
    tail = (len(filler), len(text))
    _, blocks = embedder.embed_spans([text], [[(0, 10), tail]])
    assert np.linalg.norm(blocks[0][0]) > 0.99 and not blocks[0][1].any()
