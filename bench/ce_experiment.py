"""Offline experiment: a small cross-encoder (fine-tuned from the packaged MiniLM weights) as sentence scorer.

Question: does reading (question, sentence) jointly tell "asks about children's dose" from a sentence
giving adults' dose (near misses) better than the lexical sentence scorer (app/query/signals.py), and
at what latency? Nothing here is used at serving time.

Steps (each a sub-command, outputs under var/ce/ by default)::

    python bench/ce_experiment.py collect --index var/cmp/idx-torch   # pool sentences + labels
    python bench/ce_experiment.py train                               # fine-tune on the fit split
    python bench/ce_experiment.py score --split test                  # CE score of every pool sentence
    python bench/ce_experiment.py score --split fit --top 8           # (for the gate combination)
    python bench/ce_experiment.py report                              # metrics vs the linear scorer

Labels: a pool sentence is positive when the question is answerable, the sentence comes from a gold
document and holds the gold evidence (app.calibration.collect.holds_evidence); every other sentence is
negative, in particular every sentence of a near-miss question (on topic, but not the asked detail).
The model is MiniLM + mean pooling + one linear unit, trained with BCE.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OUT = Path("var/ce")
QTYPES = ("answerable", "near_miss", "out_of_scope", "disagreement")


def _qtype(tags: list[str]) -> str:
    return next((t for t in tags if t in QTYPES), "other")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ----------------------------------------------------------------------------- collect
def _collect(index_dir: Path, clinician_dir: Path, out: Path, extra: list[str] | None = None) -> dict[str, Any]:
    """One JSON line per question: its type, document group, current gate output and every pool sentence."""
    from app.calibration.collect import holds_evidence
    from app.calibration.run import plain_service
    from app.eval.cases import load_cases
    from app.query.abstain import AbstainModel
    from app.query.signals import SENTENCE_FEATURES, question_signals, sentence_table
    from app.settings import Settings
    from ingest.embed import get_embedder

    settings = Settings()
    embedder = get_embedder(settings.ingest.embedding)
    svc = plain_service(settings, index_dir, embedder)
    model = AbstainModel.load(settings.abstain.calibration_file)
    assert model.sentence is not None
    cols = [SENTENCE_FEATURES.index(f) for f in model.sentence.features]  # by name: robust to a reordered table
    t0 = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    n_q = n_s = n_pos = 0
    with out.open("w") as fh:
        sources = [("fit", clinician_dir / "fit.jsonl"), ("test", clinician_dir / "test.jsonl")]
        sources += [(e.split("=", 1)[0], Path(e.split("=", 1)[1])) for e in extra or []]
        for split, path in sources:
            cases = load_cases(path)[0]
            for c, v in zip(cases, embedder.embed([c.question for c in cases]), strict=True):
                svc.cache.put(c.question, v)
            for c in cases:
                res, idx, pool = svc.explain(c.question)
                X = sentence_table(idx, c.question, res, pool)
                lin = model.sentence.logits(X[:, cols]) if len(pool) else np.zeros(0)
                sig, _ = question_signals(idx, c.question, res, pool, settings.retrieval.rrf_k, model.sentence)
                gate_p = model.probability(sig)
                gold = set(c.gold_doc_ids)
                sents = []
                for p, s in zip(pool, lin, strict=True):
                    ch = idx.chunks[p.row]
                    ev = bool(c.gold_evidence) and ch.doc_id in gold and holds_evidence(p.text, c.gold_evidence or "")
                    sents.append({
                        "text": p.text, "head": ch.section_path[-1] if ch.section_path else ch.title, "title": ch.title,
                        "doc": ch.doc_id, "row": p.row, "sent_idx": p.sent_idx, "rank": p.cand_rank, "sim": round(p.sim, 5),
                        "lin": round(float(s), 5), "ev": int(ev), "y": int(ev and c.expected == "answer"),
                    })
                rec = {
                    "id": c.id, "split": split, "qtype": _qtype(list(c.tags)), "expected": c.expected,
                    "group": (c.gold_doc_ids or [c.id])[0], "question": c.question,
                    "gate_p": round(gate_p, 6), "signals": sig.as_dict(), "sents": sents,
                }
                fh.write(json.dumps(rec) + "\n")
                n_q += 1
                n_s += len(sents)
                n_pos += sum(s["y"] for s in sents)
    return {"questions": n_q, "sentences": n_s, "positives": n_pos, "seconds": round(time.perf_counter() - t0, 1)}


def load_pairs(path: Path, split: str | None = None) -> list[dict[str, Any]]:
    recs = [json.loads(line) for line in path.open()]
    return [r for r in recs if split is None or r["split"] == split]


# ----------------------------------------------------------------------------- model
def pair_text(s: dict[str, Any], heading: bool) -> str:
    return f"{s['head']}: {s['text']}" if heading and s.get("head") else s["text"]


class CrossEncoderModel:
    """MiniLM encoder + mean pooling + one linear unit → a logit per (question, sentence) pair."""

    def __init__(self, path: str | None = None, max_length: int = 128, heading: bool = True, threads: int = 2) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from ingest.embed import MINILM_ID, _model_path

        torch.set_num_threads(threads)
        src = path or _model_path(MINILM_ID)
        self.tok = AutoTokenizer.from_pretrained(src)
        self.enc = AutoModel.from_pretrained(src)
        self.head = torch.nn.Linear(self.enc.config.hidden_size, 1)
        self.max_length, self.heading = max_length, heading
        if path is not None:
            meta = json.loads((Path(path) / "ce_meta.json").read_text())
            self.max_length, self.heading = int(meta["max_length"]), bool(meta["heading"])
            self.head.load_state_dict(torch.load(Path(path) / "head.pt"))
        else:
            torch.nn.init.normal_(self.head.weight, std=0.02)
            torch.nn.init.zeros_(self.head.bias)

    def parameters(self) -> list[Any]:
        return list(self.enc.parameters()) + list(self.head.parameters())

    def train(self, on: bool = True) -> None:
        self.enc.train(on)
        self.head.train(on)

    def encode(self, questions: list[str], texts: list[str]) -> dict[str, Any]:
        return self.tok(questions, texts, padding=True, truncation="longest_first", max_length=self.max_length, return_tensors="pt")

    def forward(self, batch: dict[str, Any]) -> Any:
        hidden = self.enc(**batch).last_hidden_state
        m = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)

    def score(self, questions: list[str], texts: list[str], batch_size: int = 32) -> np.ndarray:
        import torch

        self.train(False)
        out = np.zeros(len(texts), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -(len(questions[i]) + len(texts[i])))  # less padding
        with torch.inference_mode():
            for b in range(0, len(order), batch_size):
                ids = order[b : b + batch_size]
                out[ids] = self.forward(self.encode([questions[i] for i in ids], [texts[i] for i in ids])).numpy()
        return out

    def save(self, out: Path, meta: dict[str, Any]) -> None:
        import torch

        out.mkdir(parents=True, exist_ok=True)
        self.enc.save_pretrained(out)
        self.tok.save_pretrained(out)
        torch.save(self.head.state_dict(), out / "head.pt")
        (out / "ce_meta.json").write_text(json.dumps(dict(meta, max_length=self.max_length, heading=self.heading), indent=2))


# ----------------------------------------------------------------------------- train
def training_set(recs: list[dict[str, Any]], hard: int, rand: int, nm_hard: int, seed: int) -> list[tuple[str, dict[str, Any], int]]:
    """(question, sentence, label): all positives; per question the ``hard`` negatives the linear scorer ranks
    highest plus ``rand`` random others (near-miss questions: ``nm_hard`` highest, every one a negative)."""
    rng = random.Random(seed)
    out: list[tuple[str, dict[str, Any], int]] = []
    for r in recs:
        if r["qtype"] == "disagreement":  # both positions are evidence there: not a clean label
            continue
        ss = r["sents"]
        pos = [s for s in ss if s["y"]]
        neg = sorted((s for s in ss if not s["y"]), key=lambda s: -s["lin"])
        k = nm_hard if r["qtype"] == "near_miss" else hard
        chosen = neg[:k]
        rest = neg[k:]
        chosen += rng.sample(rest, min(rand, len(rest)))
        out += [(r["question"], s, 1) for s in pos] + [(r["question"], s, 0) for s in chosen]
    rng.shuffle(out)
    return out


def _length_batches(data: list[tuple[str, dict[str, Any], int]], batch_size: int, heading: bool, rng: random.Random) -> list[Any]:
    """Shuffled batches of similar length (less padding): sort within windows of 50 batches, shuffle the batches."""
    rng.shuffle(data)
    win = batch_size * 50
    batches = []
    for w in range(0, len(data), win):
        part = sorted(data[w : w + win], key=lambda e: len(e[0]) + len(pair_text(e[1], heading)))
        batches += [part[b : b + batch_size] for b in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def train(
    pairs: Path, out: Path, epochs: float, budget_min: float, wall_min: float, batch_size: int, lr: float, max_length: int, heading: bool,
    hard: int, rand: int, nm_hard: int, pos_weight: float, seed: int, threads: int, init: Path | None = None,
) -> dict[str, Any]:
    import torch

    torch.manual_seed(seed)
    recs = load_pairs(pairs, "fit")
    data = training_set(recs, hard, rand, nm_hard, seed)
    n_pos = sum(y for _, _, y in data)
    model = CrossEncoderModel(str(init) if init else None, max_length, heading, threads)
    steps = max(1, int(math.ceil(len(data) / batch_size) * epochs))
    opt = torch.optim.AdamW([
        {"params": [p for n, p in model.enc.named_parameters() if not n.startswith("embeddings.")], "lr": lr},
        {"params": list(model.head.parameters()), "lr": lr * 30},
    ], weight_decay=0.01)
    warm = max(1, steps // 20)
    peaks = [g["lr"] for g in opt.param_groups]
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))
    cpu0, t0 = _cpu(), time.perf_counter()
    model.train(True)
    done, losses, stopped = 0, [], "planned steps"
    rng = random.Random(seed)
    for p in model.enc.embeddings.parameters():  # small data: keep the vocabulary as pre-trained (and the step cheaper)
        p.requires_grad_(False)
    while done < steps:
        for chunk in _length_batches(data, batch_size, heading, rng):
            if done >= steps:
                break
            if (_cpu() - cpu0) / 60 > budget_min:
                stopped = f"CPU budget {budget_min} min"
                break
            if (time.perf_counter() - t0) / 60 > wall_min:
                stopped = f"wall budget {wall_min} min"
                break
            # linear warm-up, then linear decay to 0 at whichever comes first: the planned steps or a budget
            progress = max(done / steps, (_cpu() - cpu0) / 60 / budget_min, (time.perf_counter() - t0) / 60 / wall_min)
            for g, peak in zip(opt.param_groups, peaks, strict=True):
                g["lr"] = peak * min(1.0, (done + 1) / warm) * max(0.0, 1.0 - progress)
            batch = model.encode([q for q, _, _ in chunk], [pair_text(s, heading) for _, s, _ in chunk])
            y = torch.tensor([float(t) for _, _, t in chunk])
            loss = loss_fn(model.forward(batch), y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            done += 1
            losses.append(float(loss.detach()))
            if done % 25 == 0:
                print(f"step {done}/{steps} loss {np.mean(losses[-25:]):.4f} cpu {(_cpu() - cpu0) / 60:.1f} min "
                      f"wall {(time.perf_counter() - t0) / 60:.1f} min", file=sys.stderr, flush=True)
        else:
            continue
        break
    info = {
        "examples": len(data), "positives": n_pos, "steps": done, "planned_steps": steps, "stopped": stopped,
        "epochs_done": round(done * batch_size / len(data), 2), "final_loss": round(float(np.mean(losses[-50:])), 4),
        "cpu_min": round((_cpu() - cpu0) / 60, 2), "wall_min": round((time.perf_counter() - t0) / 60, 2),
        "params": {"epochs": epochs, "budget_min": budget_min, "wall_min": wall_min, "batch_size": batch_size, "lr": lr, "max_length": max_length, "heading": heading, "hard": hard,
                       "rand": rand, "nm_hard": nm_hard, "pos_weight": pos_weight, "seed": seed, "threads": threads,
                   "init": str(init) if init else None},
    }
    prev = json.loads((init / "ce_meta.json").read_text()).get("train") if init else None
    model.save(out, {"train": info, "previous": prev})
    return info


# ----------------------------------------------------------------------------- score
def score_split(pairs: Path, model_dir: Path, split: str, top: int, out: Path, threads: int) -> dict[str, Any]:
    """CE logit of every pool sentence (``top`` > 0: only the linear scorer's ``top`` best) → {id: [score|null]}."""
    model = CrossEncoderModel(str(model_dir), threads=threads)
    recs = load_pairs(pairs, split)
    qs, texts, where = [], [], []
    for r in recs:
        ss = r["sents"]
        idx = list(np.argsort([-s["lin"] for s in ss], kind="stable")[:top]) if top > 0 else list(range(len(ss)))
        for i in idx:
            qs.append(r["question"])
            texts.append(pair_text(ss[i], model.heading))
            where.append((r["id"], int(i)))
    cpu0, t0 = _cpu(), time.perf_counter()
    sc = model.score(qs, texts)
    res: dict[str, list[float | None]] = {r["id"]: [None] * len(r["sents"]) for r in recs}
    for (qid, i), s in zip(where, sc, strict=True):
        res[qid][i] = round(float(s), 5)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res))
    return {"pairs": len(qs), "questions": len(recs), "cpu_s": round(_cpu() - cpu0, 1), "wall_s": round(time.perf_counter() - t0, 1)}


# ----------------------------------------------------------------------------- report
def _auroc(y: list[int], s: list[float]) -> float | None:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, s)), 4) if len(set(y)) == 2 else None


def _variants(r: dict[str, Any], ce: list[float | None] | None, k_rerank: int) -> dict[str, np.ndarray]:
    """Per-sentence score arrays for the scorers compared (higher = more likely the evidence)."""
    lin = np.array([s["lin"] for s in r["sents"]], dtype=np.float64)
    v = {"linear": lin}
    if ce is not None and len(ce) and all(c is not None for c in ce):
        c = np.array(ce, dtype=np.float64)
        v["ce_all"] = c
        top = np.argsort(-lin, kind="stable")[:k_rerank]
        rr = np.full(len(lin), -1e9) + lin * 1e-6  # outside the linear top-k: ranked after, in linear order
        rr[top] = c[top]
        v[f"ce_top{k_rerank}"] = rr
        v["ce_all+linear"] = c + lin  # both log-odds of holding the evidence
    elif ce is not None and len(ce):  # only the linear top-k were scored
        c = np.array([x if x is not None else np.nan for x in ce], dtype=np.float64)
        rr = np.where(np.isnan(c), -1e9 + lin * 1e-6, c)
        v[f"ce_top{k_rerank}"] = rr
        v[f"ce_top{k_rerank}+linear"] = rr + lin
    return v


def _top2(a: np.ndarray) -> tuple[float, float]:
    if not len(a):
        return -10.0, -12.0
    s = np.sort(a)[::-1]
    return float(s[0]), float(s[1]) if len(s) > 1 else float(s[0]) - 4.0


def split_metrics(recs: list[dict[str, Any]], ce: dict[str, list[float | None]] | None, k_rerank: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ans = [r for r in recs if r["qtype"] == "answerable"]
    out["n"] = {t: sum(r["qtype"] == t for r in recs) for t in QTYPES}
    out["answerable_with_evidence_in_pool"] = round(np.mean([any(s["y"] for s in r["sents"]) for r in ans]), 4)
    names = list(_variants(ans[0], (ce or {}).get(ans[0]["id"]), k_rerank)) if ans else []
    for name in names:
        hit1, hit4, mx = [], [], {}
        for r in recs:
            vs = _variants(r, (ce or {}).get(r["id"]), k_rerank)
            v = vs.get(name, vs["linear"])  # an empty pool has no CE scores
            if r["qtype"] == "answerable":
                order = np.argsort(-v, kind="stable")
                ys = [r["sents"][i]["y"] for i in order]
                hit1.append(int(any(ys[:1])))
                hit4.append(int(any(ys[:4])))
            mx[r["id"]] = float(v.max()) if len(v) else -1e9
        m: dict[str, Any] = {"top1_evidence": round(float(np.mean(hit1)), 4), "top4_evidence": round(float(np.mean(hit4)), 4)}
        for label, neg in (("auroc_max_ans_vs_nearmiss", {"near_miss"}), ("auroc_max_ans_vs_nm_oos", {"near_miss", "out_of_scope"})):
            sel = [r for r in recs if r["qtype"] == "answerable" or r["qtype"] in neg]
            m[label] = _auroc([int(r["qtype"] == "answerable") for r in sel], [mx[r["id"]] for r in sel])
        out[name] = m
    sel = [r for r in recs if r["qtype"] in ("answerable", "near_miss", "out_of_scope")]
    y = [int(r["qtype"] == "answerable") for r in sel]
    out["current_gate"] = {
        "auroc_ans_vs_nm_oos": _auroc(y, [r["gate_p"] for r in sel]),
        "auroc_ans_vs_nearmiss": _auroc(
            [int(r["qtype"] == "answerable") for r in sel if r["qtype"] != "out_of_scope"],
            [r["gate_p"] for r in sel if r["qtype"] != "out_of_scope"]),
    }
    return out


def _gate_rows(recs: list[dict[str, Any]], ce: dict[str, list[float | None]], name: str, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rows, y, grp, kind = [], [], [], []
    for r in recs:
        if r["qtype"] not in ("answerable", "near_miss", "out_of_scope"):
            continue
        v = _variants(r, ce.get(r["id"]), k)
        c1, c2 = _top2(v[name][v[name] > -1e8]) if name in v else (-10.0, -12.0)
        g = r["gate_p"]
        rows.append([r["signals"].get("s_best", -8.0), c1, c2, math.log(max(g, 1e-6) / max(1 - g, 1e-6))])
        y.append(int(r["qtype"] == "answerable"))
        grp.append(r["group"])
        kind.append(r["qtype"])
    return np.array(rows), np.array(y), np.array(grp), np.array(kind)


def gate_combination(fit: list[dict[str, Any]], test: list[dict[str, Any]], ce_fit: dict[str, Any] | None,
                     ce_test: dict[str, Any], name: str, k: int) -> dict[str, Any]:
    """AUROC (answerable vs near-miss + out-of-scope) of small logistic regressions over question-level scores."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    sets = {"s_best": [0], "s_best+ce_max+ce_second": [0, 1, 2], "ce_max+ce_second": [1, 2],
            "gate_logit": [3], "gate_logit+ce_max+ce_second": [3, 1, 2]}
    Xt, yt, gt, qt = _gate_rows(test, ce_test, name, k)
    res: dict[str, Any] = {}
    if ce_fit is not None:
        Xf, yf, _, _ = _gate_rows(fit, ce_fit, name, k)
        for label, cols in sets.items():
            lr = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)).fit(Xf[:, cols], yf)
            res[f"fit_on_fit/{label}"] = _auroc(list(yt), list(lr.decision_function(Xt[:, cols])))
    # grouped 5-fold CV inside test (CE scores there are all out-of-sample)
    uniq = sorted(set(gt))
    random.Random(13).shuffle(uniq)
    fold = {g: i % 5 for i, g in enumerate(uniq)}
    f = np.array([fold[g] for g in gt])
    for label, cols in sets.items():
        p = np.zeros(len(yt))
        for i in range(5):
            tr, te = f != i, f == i
            lr = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000)).fit(Xt[tr][:, cols], yt[tr])
            p[te] = lr.decision_function(Xt[te][:, cols])
        res[f"cv_in_test/{label}"] = _auroc(list(yt), list(p))
        res[f"cv_in_test/{label}/near_miss_abstained_at_answered"] = _near_miss_at(p, yt, qt)
    return res


def _near_miss_at(p: np.ndarray, y: np.ndarray, qtype: np.ndarray, answered: tuple[float, ...] = (0.85, 0.87, 0.89)) -> dict[str, float]:
    """Near-miss abstention with the threshold where the given share of answerable questions is answered."""
    from app.calibration.thresholds import abstained_at_answered

    return abstained_at_answered(p, y == 1, qtype == "near_miss", answered)


def report(pairs: Path, out_dir: Path, k_rerank: int) -> dict[str, Any]:
    fit, test = load_pairs(pairs, "fit"), load_pairs(pairs, "test")

    def _load(name: str) -> dict[str, Any] | None:
        p = out_dir / name
        return json.loads(p.read_text()) if p.is_file() else None

    ce_test = _load("scores-test.json") or _load(f"scores-test-top{k_rerank}.json")  # all pool sentences, else the top k
    ce_fit = _load(f"scores-fit-top{k_rerank}.json")
    rep: dict[str, Any] = {"test": split_metrics(test, ce_test, k_rerank), "fit_linear_only": split_metrics(fit, None, k_rerank)}
    if ce_test is not None:
        if all(x is not None for v in ce_test.values() for x in v):
            rep["gate_combination_ce_all"] = gate_combination(fit, test, None, ce_test, "ce_all", k_rerank)
        rep[f"gate_combination_ce_top{k_rerank}"] = gate_combination(fit, test, ce_fit, ce_test, f"ce_top{k_rerank}", k_rerank)
    blind, ce_blind = load_pairs(pairs, "blind"), _load(f"scores-blind-top{k_rerank}.json")
    if blind and ce_blind is not None:  # a second held-out set (collect --extra blind=...)
        rep["blind"] = split_metrics(blind, ce_blind, k_rerank)
        rep[f"blind_gate_combination_ce_top{k_rerank}"] = gate_combination(fit, blind, ce_fit, ce_blind, f"ce_top{k_rerank}", k_rerank)
    tm = out_dir / "model" / "ce_meta.json"
    if tm.is_file():
        rep["train"] = json.loads(tm.read_text()).get("train")
    (out_dir / "report.json").write_text(json.dumps(rep, indent=2))
    return rep


# ----------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/ce_experiment.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", type=Path, default=OUT)
    ap.add_argument("--model", default="model", help="model directory name under --out-dir")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--index", type=Path, required=True)
    c.add_argument("--clinician-dir", type=Path, default=Path("evalsets/clinician"))
    c.add_argument("--extra", action="append", default=[], metavar="SPLIT=PATH",
                   help="more questions under a split name, e.g. fit=evalsets/traps/fit.jsonl or blind=evalsets/blind/test.jsonl")
    t = sub.add_parser("train")
    t.add_argument("--epochs", type=float, default=1.0)
    t.add_argument("--budget-min", type=float, default=25.0, help="stop when the process has used this much CPU time")
    t.add_argument("--wall-min", type=float, default=40.0, help="stop after this much wall time (shared machine)")
    t.add_argument("--batch-size", type=int, default=16)
    t.add_argument("--lr", type=float, default=4e-5)
    t.add_argument("--max-length", type=int, default=128)
    t.add_argument("--no-heading", action="store_true")
    t.add_argument("--hard", type=int, default=12, help="hardest negatives (by the linear scorer) per answerable / out-of-scope question")
    t.add_argument("--rand", type=int, default=4, help="random further negatives per question")
    t.add_argument("--nm-hard", type=int, default=16, help="hardest negatives per near-miss question")
    t.add_argument("--pos-weight", type=float, default=2.0)
    t.add_argument("--seed", type=int, default=13)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--init", type=Path, default=None, help="continue from a saved model directory")
    s = sub.add_parser("score")
    s.add_argument("--split", default="test", help="fit, test or a split named by collect --extra")
    s.add_argument("--top", type=int, default=0, help="only the linear scorer's top N sentences (0: all)")
    s.add_argument("--threads", type=int, default=2)
    r = sub.add_parser("report")
    r.add_argument("--k-rerank", type=int, default=8)
    a = ap.parse_args(argv)
    pairs = a.out_dir / "pairs.jsonl"
    if a.cmd == "collect":
        info = _collect(a.index, a.clinician_dir, pairs, a.extra)
    elif a.cmd == "train":
        info = train(pairs, a.out_dir / a.model, a.epochs, a.budget_min, a.wall_min, a.batch_size, a.lr, a.max_length, not a.no_heading,
                     a.hard, a.rand, a.nm_hard, a.pos_weight, a.seed, a.threads, a.init)
    elif a.cmd == "score":
        name = f"scores-{a.split}.json" if a.top <= 0 else f"scores-{a.split}-top{a.top}.json"
        info = score_split(pairs, a.out_dir / a.model, a.split, a.top, a.out_dir / name, a.threads)
    else:
        info = report(pairs, a.out_dir, a.k_rerank)
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
