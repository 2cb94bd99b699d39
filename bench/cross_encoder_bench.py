"""Cross-encoder sentence-scorer latency per question: the whole candidate pool vs the linear scorer's top N.

Reads the pools collected by ``python bench/ce_experiment.py collect`` (var/ce/pairs.jsonl) and
the model written by its ``train`` step (var/ce/model). Backends: torch (eager, fp32), ONNX Runtime fp32
and ONNX Runtime dynamic int8 (per-channel int8 MatMul weights, as ingest/embed_onnx.py does for the
embedder), exported offline once into var/ce/onnx/. Times include tokenization. Also reports how
closely the ONNX scores follow the torch ones (Pearson r, same top-1 sentence).

    .venv/bin/python bench/cross_encoder_bench.py [--questions 60] [--threads 2] [--top 8] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ce_experiment import CrossEncoderModel, load_pairs, pair_text  # noqa: E402


def export_onnx(model: CrossEncoderModel, out_dir: Path) -> tuple[Path, Path]:
    """fp32 and int8 ONNX graphs of (encoder + mean pooling + head) → logits."""
    import torch

    out_dir.mkdir(parents=True, exist_ok=True)
    fp32, int8 = out_dir / "ce.onnx", out_dir / "ce-int8.onnx"
    if not fp32.is_file():
        class _Wrap(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.enc, self.head = model.enc, model.head

            def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
                h = self.enc(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
                m = attention_mask.unsqueeze(-1).to(h.dtype)
                return self.head((h * m).sum(1) / m.sum(1).clamp(min=1.0)).squeeze(-1)

        model.train(False)
        enc = model.encode(["a question for tracing", "another"], ["a sentence", "and a second sentence"])
        names = ["input_ids", "attention_mask", "token_type_ids"]
        with torch.inference_mode():
            torch.onnx.export(
                _Wrap().eval(), (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]), str(fp32),
                input_names=names, output_names=["logits"],
                dynamic_axes={n: {0: "batch", 1: "seq"} for n in names} | {"logits": {0: "batch"}},
                opset_version=17, dynamo=False, do_constant_folding=True,
            )
    if not int8.is_file():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, reduce_range=False,
                         op_types_to_quantize=["MatMul"])
    return fp32, int8


class OnnxScorer:
    def __init__(self, path: Path, model: CrossEncoderModel, threads: int) -> None:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.model = model

    def score(self, qs: list[str], texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros(len(texts), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -(len(qs[i]) + len(texts[i])))
        for b in range(0, len(order), batch_size):
            ids = order[b : b + batch_size]
            enc = self.model.tok([qs[i] for i in ids], [texts[i] for i in ids], padding=True, truncation="longest_first",
                                 max_length=self.model.max_length, return_tensors="np")
            feed = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
            out[ids] = self.sess.run(["logits"], feed)[0]
        return out


def _stats(ms: list[float]) -> dict[str, float]:
    a = np.array(ms)
    return {"mean": round(float(a.mean()), 1), "p50": round(float(np.percentile(a, 50)), 1),
            "p90": round(float(np.percentile(a, 90)), 1), "max": round(float(a.max()), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=REPO / "var/ce/model")
    ap.add_argument("--pairs", type=Path, default=REPO / "var/ce/pairs.jsonl")
    ap.add_argument("--onnx-dir", type=Path, default=REPO / "var/ce/onnx")
    ap.add_argument("--questions", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--backends", default="torch,onnx,onnx-int8")
    ap.add_argument("--out", type=Path, default=REPO / "var/ce/bench.json")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    model = CrossEncoderModel(str(a.model), threads=a.threads)
    recs = [r for r in load_pairs(a.pairs, "test") if r["sents"]][: a.questions]
    scorers: dict[str, Any] = {}
    for b in a.backends.split(","):
        if b == "torch":
            scorers[b] = model
        else:
            fp32, int8 = export_onnx(model, a.onnx_dir)
            scorers[b] = OnnxScorer(int8 if b == "onnx-int8" else fp32, model, a.threads)

    def inputs(r: dict[str, Any], top: int) -> tuple[list[str], list[str]]:
        ss = r["sents"]
        idx = np.argsort([-s["lin"] for s in ss], kind="stable")[:top] if top > 0 else range(len(ss))
        return [r["question"]] * len(idx), [pair_text(ss[i], model.heading) for i in idx]

    rep: dict[str, Any] = {
        "questions": len(recs), "threads": a.threads, "max_length": model.max_length,
        "pool_size": _stats([len(r["sents"]) for r in recs]),
    }
    ref: dict[str, np.ndarray] = {}
    for name, sc in scorers.items():
        for label, top in (("all", 0), (f"top{a.top}", a.top)):
            for r in recs[:3]:  # warm-up
                sc.score(*inputs(r, top))
            ms, outs = [], {}
            for r in recs:
                qs, ts = inputs(r, top)
                t0 = time.perf_counter()
                outs[r["id"]] = sc.score(qs, ts)
                ms.append((time.perf_counter() - t0) * 1000)
            rep[f"{name}/{label}_ms"] = _stats(ms)
            if label == "all":
                if name == "torch":
                    ref = outs
                elif ref:
                    x = np.concatenate([ref[k] for k in outs])
                    y = np.concatenate([outs[k] for k in outs])
                    rep[f"{name}/vs_torch"] = {
                        "pearson": round(float(np.corrcoef(x, y)[0, 1]), 4),
                        "max_abs_diff": round(float(np.abs(x - y).max()), 4),
                        "same_top1": round(float(np.mean([int(np.argmax(ref[k]) == np.argmax(outs[k])) for k in outs])), 4),
                    }
            print(name, label, rep[f"{name}/{label}_ms"], file=sys.stderr, flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(rep, indent=2))
    print(json.dumps(rep, indent=2) if a.json else "\n".join(f"{k}: {v}" for k, v in rep.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
