"""Train the harmful-request screen (``guideground safety train``): data, splits, model, threshold, report.

Harmful side: the MedSafetyBench training prompts (900) and a seeded sample of the Llama-3
``med_harm_llama3`` prompts. Benign side: a seeded sample of MedQuAD questions and the clinician-voiced
``benign_sensitive.jsonl`` (overdose, opioids, sexual health, end of life …), which MedQuAD alone lacks.
Each source is split 60/20/20 (train/val/test) stratified by category; the threshold is chosen on
val (rule in ``choose_threshold``), test is only reported, and written out as evaluation cases.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from app.errors import ConfigError
from app.safety.jailbreak import (
    WRAPPED_BENIGN,
    WRAPPED_HARMFUL,
    family_rates,
    held_out_variants,
    wrapped_examples,
)
from app.safety.ngrams import NgramLR, NgramSpec
from app.safety.normalize import deobfuscate
from app.safety.screen import (
    CATEGORY_PRINCIPLES,
    FEATURE_SET,
    SCREEN_FORMAT,
    RequestScreen,
    features,
    harm_intent,
)

BENIGN_SENSITIVE_FILE = Path(__file__).resolve().parent / "data" / "benign_sensitive.jsonl"
MSB_FILE = Path("medsafetybench") / "medsafetybench_train.jsonl"
MED_HARM_DIR = Path("medsafetybench") / "med_harm_llama3"
MEDQUAD_FILE = Path("medquad") / "medquad_qa.jsonl"
PUBMEDQA_FILE = Path("pubmedqa") / "pubmedqa_pqal.jsonl"

HARMFUL_SOURCES = ("msb_train", "med_harm_llama3")
BENIGN_SOURCES = ("medquad", "benign_sensitive", "pubmedqa")
# Never trained on: half in val (its false refusals count as errors when the threshold is chosen), half
# in test. Research questions in PubMedQA's voice stand in for benign questions unlike either training
# source; without them the threshold rule drifted low and refused 6 % of them.
GUARD_SOURCES = ("pubmedqa",)
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class TrainParams:
    n_med_harm: int = 4000
    n_medquad: int = 4000
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    C: float = 16.0
    # Hashed TF-IDF n-gram views (app.safety.ngrams): (analyzer, (min_n, max_n), hash buckets).
    ngram_views: tuple[tuple[str, tuple[int, int], int], ...] = (("word", (1, 2), 1 << 18), ("char_wb", (2, 5), 1 << 20))
    ngram_C: float = 16.0
    ngram_min_df: int = 2
    # Share of the total training weight per source (each class sums to 0.5): the benign side leans
    # on the clinician-voiced questions, which MedQuAD's "What is X?" cannot stand in for.
    source_weight: tuple[tuple[str, float], ...] = (
        ("msb_train", 0.2),
        ("med_harm_llama3", 0.2),
        (WRAPPED_HARMFUL, 0.1),
        ("medquad", 0.17),
        ("benign_sensitive", 0.25),
        (WRAPPED_BENIGN, 0.08),
    )
    # Jailbreak wrappers (app.safety.jailbreak, train templates): one wrapped copy of every harmful
    # training prompt and of this many benign training questions; refusal bar on wrapped val prompts.
    n_wrapped_benign: int = 1500
    min_recall_jailbreak: float = 0.98
    # The bars, applied per group on validation: recall per harm category, false refusals per
    # benign_sensitive category, false refusals on MedQuAD.
    min_recall_per_category: float = 0.98
    max_frr_sensitive: float = 0.03
    max_frr_medquad: float = 0.01


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    harmful: bool
    source: str
    category: str


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _need(path: Path) -> Path:
    if not path.is_file():
        raise ConfigError(f"training data not found: {path}", hint="set GUIDEGROUND_DATA__SHARED_DIR to the shared data folder")
    return path


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(_need(path), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_examples(
    shared_dir: Path, seed: int, params: TrainParams, benign_file: Path = BENIGN_SENSITIVE_FILE
) -> tuple[list[Example], dict[str, str]]:
    """All examples (deduplicated across sources, harmful first) and a sha256 per input file."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[Example] = []
    hashes: dict[str, str] = {}

    def add(ex: Example) -> bool:
        key = _norm(ex.text)
        if not key or key in seen:
            return False
        seen.add(key)
        out.append(ex)
        return True

    msb = shared_dir / MSB_FILE
    hashes[str(MSB_FILE)] = _file_hash(_need(msb))
    for r in _read_jsonl(msb):
        add(Example(str(r["id"]), r["prompt"].strip(), True, "msb_train", f"category_{int(r['category'])}"))

    harm_pool: dict[str, list[Example]] = {}
    for n in range(1, 10):
        path = shared_dir / MED_HARM_DIR / f"category_{n}.txt"
        hashes[str(MED_HARM_DIR / path.name)] = _file_hash(_need(path))
        with open(path, encoding="utf-8") as f:
            harm_pool[f"category_{n}"] = [
                Example(f"medharm-c{n}-{i}", line.strip(), True, "med_harm_llama3", f"category_{n}")
                for i, line in enumerate(f)
                if line.strip()
            ]
    per_cat = params.n_med_harm // len(harm_pool)
    for cat in sorted(harm_pool):
        pool = harm_pool[cat][:]
        rng.shuffle(pool)
        taken = 0
        for ex in pool:
            if taken >= per_cat:
                break
            taken += add(ex)

    mq = shared_dir / MEDQUAD_FILE
    hashes[str(MEDQUAD_FILE)] = _file_hash(_need(mq))
    mq_rows = _read_jsonl(mq)
    rng.shuffle(mq_rows)
    taken = 0
    for r in mq_rows:
        if taken >= params.n_medquad:
            break
        taken += add(Example(str(r["id"]), r["question"].strip(), False, "medquad", str(r.get("qtype") or "other")))

    hashes[f"app/safety/data/{benign_file.name}"] = _file_hash(_need(benign_file))
    for r in _read_jsonl(benign_file):
        add(Example(str(r["id"]), r["question"].strip(), False, "benign_sensitive", str(r["category"])))

    pq = shared_dir / PUBMEDQA_FILE
    hashes[str(PUBMEDQA_FILE)] = _file_hash(_need(pq))
    for r in _read_jsonl(pq):
        add(Example(str(r["id"]), r["question"].strip(), False, "pubmedqa", "pubmedqa"))
    return out, hashes


# Confirmed clinician feedback (written by app/curation/export.py to curation.feedback_dir/screen.jsonl):
# false refusals (harmful=false) and missed refusals (harmful=true). Weighted inside these pools.
FEEDBACK_SOURCE = "clinician_feedback"
FEEDBACK_POOL = {False: "benign_sensitive", True: "msb_train"}


def load_feedback(path: Path | None, known: Sequence[Example] = ()) -> tuple[list[Example], int]:
    """Examples from the feedback file (missing file: none) and how many repeated a known question
    (the curated datasets' label wins)."""
    if path is None or not Path(path).is_file():
        return [], 0
    seen = {_norm(ex.text) for ex in known}
    out: list[Example] = []
    skipped = 0
    for r in _read_jsonl(Path(path)):
        text = str(r.get("question", "")).strip()
        if not text or _norm(text) in seen:
            skipped += bool(text)
            continue
        seen.add(_norm(text))
        out.append(Example(str(r["id"]), text, bool(r.get("harmful", False)), FEEDBACK_SOURCE, FEEDBACK_SOURCE))
    return out, skipped


def split_examples(examples: Sequence[Example], seed: int, params: TrainParams) -> dict[str, list[Example]]:
    """Per source, per category: shuffle and cut val/test/train (rare categories fall into train first).
    Guard sources are never trained on: half val, half test."""
    rng = random.Random(seed + 1)
    groups: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for ex in examples:
        groups[(ex.source, ex.category)].append(ex)
    splits: dict[str, list[Example]] = {s: [] for s in SPLITS}
    for key in sorted(groups):
        items = groups[key][:]
        rng.shuffle(items)
        n = len(items)
        n_val = int(round(n * params.val_fraction)) if n >= 5 else 0
        n_test = int(round(n * params.test_fraction)) if n >= 5 else 0
        if key[0] in GUARD_SOURCES:
            n_val, n_test = n // 2, n - n // 2
        splits["val"] += items[:n_val]
        splits["test"] += items[n_val : n_val + n_test]
        splits["train"] += items[n_val + n_test :]
    return splits


def _weights(examples: Sequence[Example], params: TrainParams) -> np.ndarray:
    share = dict(params.source_weight)
    pools = [FEEDBACK_POOL[ex.harmful] if ex.source == FEEDBACK_SOURCE else ex.source for ex in examples]
    counts = Counter(pools)
    w = np.array([share[p] / counts[p] for p in pools], dtype=np.float64)
    return w * len(examples) / w.sum()


def target_groups(split: Sequence[Example], params: TrainParams) -> list[tuple[str, np.ndarray, bool, float]]:
    """The groups the bars apply to: (name, row mask, harmful?, bar). Harmful bars are minimum recalls,
    benign bars maximum false-refusal rates."""
    src = np.array([ex.source for ex in split])
    cat = np.array([ex.category for ex in split])
    harmful = np.isin(src, HARMFUL_SOURCES)
    groups = [(f"harm:{c}", harmful & (cat == c), True, params.min_recall_per_category) for c in sorted(set(cat[harmful]))]
    sensitive = src == "benign_sensitive"
    groups += [(f"benign_sensitive:{c}", sensitive & (cat == c), False, params.max_frr_sensitive) for c in sorted(set(cat[sensitive]))]
    if (src == "medquad").any():
        groups.append(("medquad", src == "medquad", False, params.max_frr_medquad))
    if (src == WRAPPED_HARMFUL).any():
        groups.append(("jailbreak", src == WRAPPED_HARMFUL, True, params.min_recall_jailbreak))
    return groups


def choose_threshold(scores: np.ndarray, harmful: np.ndarray, groups: Sequence[tuple[str, np.ndarray, bool, float]]) -> dict[str, Any]:
    """The threshold rule (validation split only; a question is refused when score >= threshold).

    Candidates are the midpoints between adjacent validation scores (plus both ends), so the chosen
    threshold keeps a margin on both sides. Pick the candidate that (1) breaks the fewest group bars
    (recall per harm category, false refusals per benign category and on MedQuAD), then (2) makes the
    fewest errors overall (every validation row counts, guard-source questions included), then (3) is
    the lowest (refusing is the safer side of a tie).
    """
    scores = np.asarray(scores, np.float64)
    harmful = np.asarray(harmful, bool)
    u = np.unique(scores)
    cands = np.concatenate([[u[0]], (u[:-1] + u[1:]) / 2.0, [np.nextafter(u[-1], np.inf)]])
    cands = cands[np.isfinite(cands)]  # +inf marks questions a harm-intent rule refuses anyway
    refused = scores[None, :] >= cands[:, None]
    errors = (refused & ~harmful).sum(axis=1) + (~refused & harmful).sum(axis=1)
    broken = np.zeros((len(cands), len(groups)), bool)
    for j, (_, mask, is_harm, bar) in enumerate(groups):
        rate = refused[:, mask].mean(axis=1)
        broken[:, j] = rate < bar if is_harm else rate > bar
    best = int(np.lexsort((cands, errors, broken.sum(axis=1)))[0])
    t = float(cands[best])
    return {
        "threshold": t,
        "rule": "per_category",
        "val_bars_broken": [groups[int(j)][0] for j in np.flatnonzero(broken[best])],
        "val_errors": int(errors[best]),
        "val_recall_at_threshold": round(float(np.mean(scores[harmful] >= t)), 4) if harmful.any() else None,
        "bars": {g[0]: g[3] for g in groups},
    }


def evaluate(split: Sequence[Example], refused: np.ndarray, cats: Sequence[str]) -> dict[str, Any]:
    """Recall per harmful source, false refusals per benign source (and benign_sensitive category)."""
    by_source: dict[str, dict[str, Any]] = {}
    for source in HARMFUL_SOURCES + BENIGN_SOURCES:
        idx = [i for i, ex in enumerate(split) if ex.source == source]
        if not idx:
            continue
        key = "recall" if source in HARMFUL_SOURCES else "false_refusal_rate"
        entry: dict[str, Any] = {"n": len(idx), key: round(float(np.mean(refused[idx])), 4)}
        if source == "benign_sensitive":
            per: dict[str, list[bool]] = defaultdict(list)
            for i in idx:
                per[split[i].category].append(bool(refused[i]))
            entry["by_category"] = {
                c: {"n": len(v), "false_refusal_rate": round(float(np.mean(v)), 4), "refused": int(sum(v))}
                for c, v in sorted(per.items())
            }
            entry["refused_examples"] = [split[i].text for i in idx if refused[i]][:20]
        if source in ("medquad", *GUARD_SOURCES):
            entry["refused_examples"] = [split[i].text for i in idx if refused[i]][:20]
        by_source[source] = entry
    harm_idx = [i for i, ex in enumerate(split) if ex.harmful]
    cat_acc = float(np.mean([cats[i] == split[i].category for i in harm_idx])) if harm_idx else 0.0
    per_harm: dict[str, list[bool]] = defaultdict(list)
    for i in harm_idx:
        per_harm[split[i].category].append(bool(refused[i]))
    return {
        "harmful_recall": round(float(np.mean(refused[harm_idx])), 4) if harm_idx else None,
        # Both harmful sources together, per MedSafetyBench category (the per-category target).
        "harmful_recall_by_category": {
            c: {"n": len(v), "recall": round(float(np.mean(v)), 4), "missed": len(v) - int(sum(v))} for c, v in sorted(per_harm.items())
        },
        "missed_harmful_examples": [split[i].text for i in harm_idx if not refused[i]][:20],
        "category_accuracy": round(cat_acc, 4),
        "by_source": by_source,
    }


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, C: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=2000, random_state=seed)
    model.fit(x, y, sample_weight=w)
    return model


def _atomic_write(path: Path, write: Callable[[Any], None], mode: str = "wb") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def code_hash() -> str:
    """sha256 over the screen's own code (training, features, scoring): part of the artefact's identity."""
    h = hashlib.sha256()
    for name in ("train.py", "screen.py", "ngrams.py", "normalize.py", "jailbreak.py"):
        h.update((Path(__file__).resolve().parent / name).read_bytes())
    return h.hexdigest()[:16]


def report_path(out_path: Path) -> Path:
    return out_path.with_name(f"{out_path.stem}.report.json")


def write_cases(path: Path, test: Sequence[Example]) -> int:
    lines = [
        json.dumps(
            {
                "id": f"safety-{ex.id}",
                "question": ex.text,
                "expected": "refuse" if ex.harmful else "answer",
                "tags": ["safety", ex.source, ex.category],
            },
            ensure_ascii=False,
        )
        for ex in test
    ]
    _atomic_write(path, lambda f: f.write("\n".join(lines) + "\n"), mode="w")
    return len(lines)


def jailbreak_cases_path(cases_out: Path) -> Path:
    return cases_out.with_name(f"{cases_out.stem}.jailbreak.jsonl")


def write_jailbreak_cases(path: Path, harm: Sequence[tuple[str, str, str]], benign: Sequence[tuple[str, str, str]]) -> int:
    """The wrapped held-out cases, in the eval format (tags: safety, jailbreak, family)."""
    lines = [
        json.dumps({"id": f"jailbreak-{rid}", "question": text, "expected": expected, "tags": ["safety", "jailbreak", fam]}, ensure_ascii=False)
        for rows, expected in ((harm, "refuse"), (benign, "answer"))
        for rid, fam, text in rows
    ]
    _atomic_write(path, lambda f: f.write("\n".join(lines) + "\n"), mode="w")
    return len(lines)


def _jailbreak_report(
    screen: RequestScreen, wrapped_val: Sequence[Example], val_vecs: np.ndarray,
    harm: Sequence[tuple[str, str, str]], benign: Sequence[tuple[str, str, str]], vecs: np.ndarray,
) -> dict[str, Any]:
    """Refusal of wrapped harmful prompts (val: train templates; test: unseen test templates, every
    family) and false refusals of wrapped benign_sensitive test questions."""
    from app.safety.injection import screen_injection

    def rates(rows: Sequence[tuple[str, str, str]], v: np.ndarray) -> dict[str, Any]:
        texts = [r[2] for r in rows]
        refused = [d.refused for d in screen.decide_many(texts, v)] if rows else []
        return family_rates(rows, refused, [screen_injection(t).refused for t in texts])

    val_rows = [(ex.id, ex.id.rsplit("~", 1)[-1], ex.text) for ex in wrapped_val]
    n_h = len(harm)
    test_harm = rates(harm, vecs[:n_h])
    return {
        "val_recall": rates(val_rows, val_vecs),
        "test_recall": test_harm,
        "test_benign_sensitive_false_refusal": rates(benign, vecs[n_h:]),
        "missed_test_examples": _missed(screen, harm, vecs[:n_h]),
    }


def _missed(screen: RequestScreen, rows: Sequence[tuple[str, str, str]], v: np.ndarray) -> list[str]:
    decisions = screen.decide_many([r[2] for r in rows], v) if rows else []
    return [f"[{r[1]}] {r[2][:300]}" for r, d in zip(rows, decisions, strict=True) if not d.refused][:20]


def _embed(embedder: Any, texts: Sequence[str], progress: Callable[[str, int, int], None] | None) -> np.ndarray:
    """Encode in length-sorted batches (padding is the main cost on CPU), returned in input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), int(embedder.dim)), dtype=np.float32)
    batch = 512
    for start in range(0, len(order), batch):
        idx = order[start : start + batch]
        out[idx] = embedder.embed([texts[i] for i in idx])
        if progress:
            progress("embed", min(start + batch, len(texts)), len(texts))
    return out


def _fit_screen(
    train: Sequence[Example], vecs: np.ndarray, embedder: Any, params: TrainParams, seed: int
) -> RequestScreen:
    """Embedding model, n-gram models and the category model (harmful rows only) over the train split."""
    texts = [deobfuscate(ex.text) for ex in train]
    x = features(texts, vecs)
    y = np.array([ex.harmful for ex in train], dtype=int)
    w = _weights(train, params)
    clf = _fit(x, y, w, params.C, seed)
    ngram_models = [
        NgramLR.fit(NgramSpec(a, ng, nf), texts, y, w, params.ngram_C, params.ngram_min_df, seed) for a, ng, nf in params.ngram_views
    ]
    harmful = y == 1
    cat_clf = _fit(x[harmful], np.array([ex.category for ex, h in zip(train, harmful, strict=True) if h]), np.ones(int(harmful.sum())), 1.0, seed)
    return RequestScreen(
        coef=clf.coef_[0],
        intercept=float(clf.intercept_[0]),
        threshold=0.5,
        cat_coef=cat_clf.coef_,
        cat_intercept=cat_clf.intercept_,
        cat_names=[str(c) for c in cat_clf.classes_],
        embedder_id=str(embedder.model_id),
        dim=int(embedder.dim),
        ngram_models=ngram_models,
    )


def save_screen(screen: RequestScreen, path: Path) -> None:
    """Write the artefact atomically (temp file + os.replace); loadable with allow_pickle=False."""
    arrays: dict[str, Any] = {
        "format": np.array(SCREEN_FORMAT),
        "feature_set": np.array(FEATURE_SET),
        "version": np.array(screen.version),
        "coef": screen.coef,
        "intercept": np.array(screen.intercept),
        "threshold": np.array(screen.threshold),
        "cat_coef": screen.cat_coef,
        "cat_intercept": screen.cat_intercept,
        "cat_names": np.array(screen.cat_names),
        "n_ngram_models": np.array(len(screen.ngram_models)),
        "embedder_id": np.array(screen.embedder_id),
        "embedder_dim": np.array(screen.dim),
        "seed": np.array(int(screen.meta.get("seed", -1))),
        "data_hashes": np.array(json.dumps(screen.meta.get("data_hashes", {}), sort_keys=True)),
        "meta": np.array(json.dumps(screen.meta, sort_keys=True)),
    }
    for i, m in enumerate(screen.ngram_models):
        arrays |= m.to_arrays(f"ngram{i}")
    _atomic_write(path, lambda f: np.savez_compressed(f, **arrays))


def train_screen(
    shared_dir: Path,
    out_path: Path,
    cases_out: Path | None = None,
    seed: int = 13,
    embedder: Any = None,
    progress: Callable[[str, int, int], None] | None = None,
    params: TrainParams | None = None,
    benign_file: Path = BENIGN_SENSITIVE_FILE,
    feedback_file: Path | None = None,
) -> dict[str, Any]:
    """Train on the train split, pick the threshold on val, report val and test; returns the report."""
    params = params or TrainParams()
    t0, cpu0 = time.perf_counter(), time.process_time()
    shared_dir, out_path = Path(shared_dir), Path(out_path)
    examples, hashes = load_examples(shared_dir, seed, params, benign_file)
    feedback, fb_skipped = load_feedback(feedback_file, examples)
    if feedback:
        examples = [*examples, *feedback]
        hashes[f"feedback/{Path(str(feedback_file)).name}"] = _file_hash(Path(str(feedback_file)))
    splits = split_examples(examples, seed, params)
    # Jailbreak-wrapped copies: train and val with the train templates, test (report only) with the test templates.
    wrapped_train = wrapped_examples(splits["train"], "train", seed, params.n_wrapped_benign)
    wrapped_val = wrapped_examples(splits["val"], "val", seed, 0)
    jb_harm, jb_benign = held_out_variants(splits["test"], seed)
    if embedder is None:
        from ingest.embed import get_embedder

        embedder = get_embedder()
    every = [*examples, *wrapped_train, *wrapped_val]
    all_vecs = _embed(embedder, [ex.text for ex in every] + [r[2] for r in jb_harm + jb_benign], progress)
    row = {(ex.source, ex.id): i for i, ex in enumerate(every)}
    jb_vecs = all_vecs[len(every):]
    t_embed = time.perf_counter() - t0

    def vecs(split: Sequence[Example]) -> np.ndarray:
        return all_vecs[[row[(ex.source, ex.id)] for ex in split]]

    train_all = splits["train"] + wrapped_train
    screen = _fit_screen(train_all, vecs(train_all), embedder, params, seed)
    if progress:
        progress("fit", 1, 1)
    val, test = splits["val"], splits["test"]
    val_all = val + wrapped_val
    val_texts = [ex.text for ex in val_all]
    # A harm-intent rule refuses whatever the threshold: such questions count as refused at every candidate.
    rule_hit = np.array([harm_intent(q) is not None for q in val_texts], dtype=bool)
    val_scores = np.where(rule_hit, np.inf, screen.scores(val_texts, vecs(val_all)))
    choice = choose_threshold(val_scores, np.array([ex.harmful for ex in val_all]), target_groups(val_all, params))
    screen.threshold = choice["threshold"]

    def outcome(split: Sequence[Example]) -> dict[str, Any]:
        qs, v = [ex.text for ex in split], vecs(split)
        refused = np.array([d.refused for d in screen.decide_many(qs, v)], dtype=bool)
        return evaluate(split, refused, screen.categories(qs, v))

    identity = {"hashes": hashes, "seed": seed, "params": asdict(params), "format": SCREEN_FORMAT, "features": FEATURE_SET, "code": code_hash()}
    screen.version = "screen-" + hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    created = datetime.now(UTC).isoformat(timespec="seconds")
    screen.meta = {"created_at": created, "seed": seed, "data_hashes": hashes, "threshold_rule": choice["rule"]}
    report: dict[str, Any] = {
        "version": screen.version,
        "format": SCREEN_FORMAT,
        "feature_set": FEATURE_SET,
        "created_at": created,
        "seed": seed,
        "embedder": {"model_id": screen.embedder_id, "dim": screen.dim},
        "params": asdict(params),
        "data_hashes": hashes,
        "code_hash": identity["code"],
        "counts": {
            "train": dict(Counter(ex.source for ex in train_all)),
            "val": dict(Counter(ex.source for ex in val_all)),
            "test": dict(Counter(ex.source for ex in test)),
        },
        "threshold": choice,
        "val": outcome(val),
        "test": outcome(test),
        "jailbreak": _jailbreak_report(screen, wrapped_val, vecs(wrapped_val), jb_harm, jb_benign, jb_vecs),
        "category_names": {c: CATEGORY_PRINCIPLES.get(c, c) for c in screen.cat_names},
        "artifact": str(out_path),
        "cases_out": str(cases_out) if cases_out else None,
        "feedback": {
            "file": str(feedback_file) if feedback_file else None,
            "n_examples": len(feedback),
            "n_benign": sum(not ex.harmful for ex in feedback),
            "n_skipped_known": fb_skipped,
            "by_split": {sp: sum(ex.source == FEEDBACK_SOURCE for ex in splits[sp]) for sp in SPLITS},
        },
    }
    save_screen(screen, out_path)
    if cases_out is not None:
        report["n_cases"] = write_cases(Path(cases_out), test)
        report["n_jailbreak_cases"] = write_jailbreak_cases(jailbreak_cases_path(Path(cases_out)), jb_harm, jb_benign)
    # CPU seconds (all threads) next to wall time: on a shared machine wall time says little.
    report["timings_s"] = {
        "embed": round(t_embed, 2),
        "total": round(time.perf_counter() - t0, 2),
        "cpu_total": round(time.process_time() - cpu0, 2),
    }
    _atomic_write(report_path(out_path), lambda f: f.write(json.dumps(report, indent=2) + "\n"), mode="w")
    return report
