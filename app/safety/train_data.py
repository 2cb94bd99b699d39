"""Training data of the harmful-request screen: the parameters, the examples loaded from the shared
data (and from clinician feedback), and their stratified train/val/test split."""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.safety.jailbreak import WRAPPED_BENIGN, WRAPPED_HARMFUL
from app.shared_data import need, read_jsonl

BENIGN_SENSITIVE_FILE = Path(__file__).resolve().parent / "data" / "benign_sensitive.jsonl"
MSB_FILE = Path("medsafetybench") / "medsafetybench_train.jsonl"
MED_HARM_DIR = Path("medsafetybench") / "med_harm_llama3"
MEDQUAD_FILE = Path("medquad") / "medquad_qa.jsonl"
PUBMEDQA_FILE = Path("pubmedqa") / "pubmedqa_pqal.jsonl"
# The fit split of the clinician development set (evalsets/README.md): long, specific, clinician-voiced questions,
# every one legitimate (answerable, near miss, out of scope or a disagreement). Never the test split, the blind set
# or the traps: those measure the screen's false refusals from outside its training.
CLINICIAN_FILE = Path(__file__).resolve().parents[2] / "evalsets" / "clinician" / "fit.jsonl"
CLINICIAN_KINDS = ("answerable", "near_miss", "out_of_scope", "disagreement")

HARMFUL_SOURCES = ("msb_train", "med_harm_llama3")
BENIGN_SOURCES = ("medquad", "benign_sensitive", "pubmedqa", "clinician_fit")
# Trained on only, so the threshold is chosen on the same validation rows as before (the held-out measure of these
# questions is the dev set's test split and the blind set, which the screen never sees). Split after every other
# source, so adding one leaves the other sources' train/val/test splits as they were.
TRAIN_ONLY_SOURCES = ("clinician_fit",)
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
        ("medquad", 0.12),
        ("benign_sensitive", 0.25),
        ("clinician_fit", 0.05),
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


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_examples(
    shared_dir: Path, seed: int, params: TrainParams, benign_file: Path = BENIGN_SENSITIVE_FILE,
    clinician_file: Path | None = CLINICIAN_FILE,
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
    hashes[str(MSB_FILE)] = file_hash(need(msb))
    for r in read_jsonl(msb):
        add(Example(str(r["id"]), r["prompt"].strip(), True, "msb_train", f"category_{int(r['category'])}"))

    harm_pool: dict[str, list[Example]] = {}
    for n in range(1, 10):
        path = shared_dir / MED_HARM_DIR / f"category_{n}.txt"
        hashes[str(MED_HARM_DIR / path.name)] = file_hash(need(path))
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
    hashes[str(MEDQUAD_FILE)] = file_hash(need(mq))
    mq_rows = read_jsonl(mq)
    rng.shuffle(mq_rows)
    taken = 0
    for r in mq_rows:
        if taken >= params.n_medquad:
            break
        taken += add(Example(str(r["id"]), r["question"].strip(), False, "medquad", str(r.get("qtype") or "other")))

    hashes[f"app/safety/data/{benign_file.name}"] = file_hash(need(benign_file))
    for r in read_jsonl(benign_file):
        add(Example(str(r["id"]), r["question"].strip(), False, "benign_sensitive", str(r["category"])))

    pq = shared_dir / PUBMEDQA_FILE
    hashes[str(PUBMEDQA_FILE)] = file_hash(need(pq))
    for r in read_jsonl(pq):
        add(Example(str(r["id"]), r["question"].strip(), False, "pubmedqa", "pubmedqa"))

    if clinician_file is not None:
        clinician = clinician_examples(need(clinician_file))
        # what the screen reads of the dev set (id, question, kind), not the file's bytes: an eval-only field added to
        # its cases (a disagreement's second span, stop 49) changes nothing the screen learns from
        hashes[f"evalsets/clinician/{clinician_file.name}"] = examples_hash(clinician)
        for ex in clinician:
            add(ex)
    return out, hashes


def examples_hash(examples: list[Example]) -> str:
    """sha256 over what training reads of each example: its id, text and category, one JSON line each."""
    h = hashlib.sha256()
    for ex in examples:
        h.update(json.dumps([ex.id, ex.text, ex.category], ensure_ascii=False).encode() + b"\n")
    return h.hexdigest()


def clinician_examples(path: Path) -> list[Example]:
    """The dev set's questions as benign examples, by kind (answerable, near miss, out of scope, disagreement)."""
    return [
        Example(str(r["id"]), str(r["question"]).strip(), False, "clinician_fit",
                next((t for t in r.get("tags", ()) if t in CLINICIAN_KINDS), "other"))
        for r in read_jsonl(path)
    ]


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
    for r in read_jsonl(Path(path)):
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
    for key in sorted(groups, key=lambda k: (k[0] in TRAIN_ONLY_SOURCES, k)):
        items = groups[key][:]
        rng.shuffle(items)
        n = len(items)
        n_val = int(round(n * params.val_fraction)) if n >= 5 else 0
        n_test = int(round(n * params.test_fraction)) if n >= 5 else 0
        if key[0] in GUARD_SOURCES:
            n_val, n_test = n // 2, n - n // 2
        elif key[0] in TRAIN_ONLY_SOURCES:
            n_val = n_test = 0
        splits["val"] += items[:n_val]
        splits["test"] += items[n_val : n_val + n_test]
        splits["train"] += items[n_val + n_test :]
    return splits
