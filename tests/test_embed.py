"""The embedder's late-chunking path: one encoder pass gives the text vector and span vectors."""

from __future__ import annotations

import numpy as np
import pytest

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


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_backends_match_torch_and_keep_late_chunking(embedder, backend, tmp_path_factory):
    """Exported offline from the packaged weights (HF_HUB_OFFLINE is set), cached, same pooling as torch."""
    from ingest.documents import EmbeddingParams
    from ingest.embed import get_embedder
    from ingest.embed_onnx import ensure_onnx_model

    onnx = get_embedder(EmbeddingParams(backend=backend))
    assert isinstance(onnx, SpanEmbedder) and onnx.dim == embedder.dim and onnx.model_id == embedder.model_id
    assert ensure_onnx_model(backend == "onnx-int8").is_file()  # cached: no second export
    texts = [
        "Screen adults aged 45 to 75 years for colorectal cancer with a stool test every year.",
        "Offer naloxone to patients who take high doses of opioids.",
        "Hypertension is confirmed with home blood pressure readings of 130/80 mm Hg or higher. " * 3,
    ]
    cos = (onnx.embed(texts) * embedder.embed(texts)).sum(1)
    assert cos.min() > (0.9999 if backend == "onnx" else 0.98), cos
    if backend == "onnx-int8":  # really the quantized graph, not the fp32 one under the int8 name
        assert onnx.model_file == ensure_onnx_model(True) and "int8" in onnx.model_file.name
        assert cos.mean() < 0.99999, cos
    spans = [[(0, 20), (21, 60)], [], [(10, 40)]]
    v_o, b_o = onnx.embed_spans(texts, spans)
    v_t, b_t = embedder.embed_spans(texts, spans)
    assert np.allclose(v_o, onnx.embed(texts), atol=1e-5)  # text vectors = embed(), from the same pass
    for a, b in zip(b_o, b_t, strict=True):
        assert a.shape == b.shape
        if a.size:
            assert ((a * b).sum(1) > (0.9999 if backend == "onnx" else 0.97)).all()
