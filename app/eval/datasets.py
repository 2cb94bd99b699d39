"""Evaluation datasets built from the shared data (see /work/shared/data/README.md and docs/eval.md).

Each builder writes ``<out>/corpus/`` (one Markdown file per document plus a ``manifest.csv``
sidecar, which ingest reads automatically) and ``<out>/cases.jsonl``; :func:`build_dataset` then
ingests the corpus into ``<out>/index``.

- ``medquad``: MedQuAD documents rebuilt from their QA pairs (medquad_docs.jsonl has no text);
  every question whose gold document is in the corpus, expected "answer".
- ``medquad-heldout``: the same plus a held-out slice of documents that are *not* written (nor any
  document sharing their focus); their questions are expected "abstain".
- ``pubmedqa``: PubMedQA-L abstracts (contexts joined) as documents; their questions, expected "answer".
- ``msb``: MedSafetyBench train prompts, expected "refuse" (tags msb, category_N), mixed with as many
  benign MedQuAD questions over a small MedQuAD corpus so false refusals are measured too.
- ``guidelines``: evalsets/guideline_questions.jsonl over the shared guideline corpus (optionally a
  subset: every gold document plus a sample of the others).
"""

from __future__ import annotations

import csv
import random
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from app.errors import UsageError
from app.eval.cases import EvalCase, load_cases, write_cases
from app.shared_data import need, read_jsonl

REPO = Path(__file__).resolve().parents[2]
GUIDELINE_QUESTIONS = REPO / "evalsets" / "guideline_questions.jsonl"
MANIFEST_HEADER = ["doc_id", "file", "title", "issuer", "published", "version", "url", "license"]
DATASETS = ("medquad", "medquad-heldout", "pubmedqa", "msb", "guidelines")
MEDQUAD_LICENSE = "MedQuAD, Ben Abacha & Demner-Fushman 2019 (CC BY 4.0)"


def safe_name(doc_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", doc_id).strip("_") or "doc"


def clean_text(text: str) -> str:
    """Strip each line (indented lines would become Markdown code blocks) and collapse blank runs."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _fresh_corpus(out_dir: Path) -> Path:
    corpus = Path(out_dir) / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir(parents=True)
    return corpus


def _write_manifest(corpus: Path, rows: Iterable[dict[str, str]]) -> None:
    with open(corpus / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=MANIFEST_HEADER)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in MANIFEST_HEADER})


# -------------------------------------------------------------------------------------- MedQuAD
def load_medquad(shared_dir: Path) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """(document metadata by doc_id, QA pairs with a non-empty answer by gold doc_id)."""
    docs = {d["doc_id"]: d for d in read_jsonl(shared_dir / "medquad" / "medquad_docs.jsonl")}
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for q in read_jsonl(shared_dir / "medquad" / "medquad_qa.jsonl"):
        if (q.get("answer") or "").strip() and (q.get("question") or "").strip():
            by_doc.setdefault(q["gold_doc_id"], []).append(q)
    return docs, by_doc


def _focus(meta: dict[str, Any], qa: list[dict[str, Any]]) -> str:
    return str(meta.get("focus") or qa[0].get("focus") or "").strip()


def split_medquad(
    docs: dict[str, dict[str, Any]], by_doc: dict[str, list[dict[str, Any]]], n_docs: int | None, n_heldout: int, seed: int
) -> tuple[list[str], list[str]]:
    """(kept doc_ids, held-out doc_ids). Documents sharing a held-out focus are dropped from the kept side."""
    ids = sorted(by_doc)
    random.Random(seed).shuffle(ids)
    held = ids[:n_heldout]
    held_focus = {_focus(docs.get(d, {}), by_doc[d]).lower() for d in held}
    kept = [d for d in ids[n_heldout:] if _focus(docs.get(d, {}), by_doc[d]).lower() not in held_focus]
    return (kept if n_docs is None else kept[:n_docs]), held


def write_medquad_corpus(out_dir: Path, doc_ids: list[str], docs: dict[str, dict[str, Any]], by_doc: dict[str, list[dict[str, Any]]]) -> Path:
    corpus = _fresh_corpus(out_dir)
    rows = []
    for d in doc_ids:
        qa, meta = by_doc[d], docs.get(d, {})
        focus = _focus(meta, qa) or d
        name = safe_name(d) + ".md"
        body = [f"# {focus}"] + [f"## {clean_text(q['question'])}\n\n{clean_text(q['answer'])}" for q in qa]
        (corpus / name).write_text("\n\n".join(body) + "\n", encoding="utf-8")
        issuer = meta.get("source") or qa[0].get("subset", "MedQuAD")
        rows.append({"doc_id": d, "file": name, "title": focus, "issuer": issuer, "url": meta.get("url") or qa[0].get("source_url", ""), "license": MEDQUAD_LICENSE})
    _write_manifest(corpus, rows)
    return corpus


def _question_key(q: str) -> str:
    return " ".join(q.lower().split())


def medquad_cases(kept: list[str], held: list[str], by_doc: dict[str, list[dict[str, Any]]]) -> list[EvalCase]:
    """One case per distinct question; a question asked of several kept documents has them all as gold."""
    answerable: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for d in kept:
        for q in by_doc[d]:
            _first, gold = answerable.setdefault(_question_key(q["question"]), (q, []))
            if d not in gold:
                gold.append(d)
    cases = [
        EvalCase(
            id=q["id"], question=q["question"].strip(), expected="answer", gold_doc_ids=gold,
            reference_answer=clean_text(q["answer"])[:600], tags=["medquad", q.get("subset", ""), q.get("qtype", "")],
        )
        for q, gold in answerable.values()
    ]
    seen = set(answerable)
    for d in held:
        for q in by_doc[d]:
            key = _question_key(q["question"])
            if key in seen:  # the same question is answerable from a kept document
                continue
            seen.add(key)
            cases.append(EvalCase(
                id=q["id"], question=q["question"].strip(), expected="abstain",
                reference_answer=clean_text(q["answer"])[:600], tags=["medquad", "heldout", q.get("subset", ""), q.get("qtype", "")],
            ))
    for c in cases:
        c.tags = [t for t in c.tags if t]
    return cases


def build_medquad(
    out_dir: Path, n_docs: int | None = 1000, n_heldout_docs: int = 0, seed: int = 13, shared_dir: Path | None = None
) -> tuple[Path, Path]:
    """Write a MedQuAD corpus (``n_docs`` documents) and its cases; returns (corpus_dir, cases_path)."""
    shared = Path(shared_dir) if shared_dir else default_shared_dir()
    docs, by_doc = load_medquad(shared)
    kept, held = split_medquad(docs, by_doc, n_docs, n_heldout_docs, seed)
    corpus = write_medquad_corpus(Path(out_dir), kept, docs, by_doc)
    cases_path = Path(out_dir) / "cases.jsonl"
    write_cases(cases_path, medquad_cases(kept, held, by_doc))
    return corpus, cases_path


# ------------------------------------------------------------------------------------- PubMedQA
def build_pubmedqa(out_dir: Path, n_docs: int | None = None, seed: int = 13, shared_dir: Path | None = None) -> tuple[Path, Path]:
    shared = Path(shared_dir) if shared_dir else default_shared_dir()
    items = read_jsonl(shared / "pubmedqa" / "pubmedqa_pqal.jsonl")
    if n_docs is not None and n_docs < len(items):
        items = random.Random(seed).sample(items, n_docs)
    corpus = _fresh_corpus(Path(out_dir))
    rows, cases = [], []
    for it in items:
        doc_id, name = it["gold_doc_id"], safe_name(it["gold_doc_id"]) + ".md"
        labels = it.get("context_labels") or [""] * len(it["contexts"])
        parts = [f"# PubMed {it['pmid']}"]
        for label, ctx in zip(labels, it["contexts"], strict=False):
            parts.append((f"## {label.title()}\n\n" if label else "") + clean_text(ctx))
        (corpus / name).write_text("\n\n".join(parts) + "\n", encoding="utf-8")
        rows.append({"doc_id": doc_id, "file": name, "title": f"PubMed {it['pmid']}", "issuer": "PubMed abstract",
                     "url": f"https://pubmed.ncbi.nlm.nih.gov/{it['pmid']}/", "license": "PubMedQA (MIT)"})
        cases.append(EvalCase(
            id=str(it["id"]), question=it["question"], expected="answer", gold_doc_ids=[doc_id],
            reference_answer=it.get("long_answer"), tags=["pubmedqa", str(it.get("split", "")), str(it.get("final_decision", ""))],
        ))
    _write_manifest(corpus, rows)
    cases_path = Path(out_dir) / "cases.jsonl"
    write_cases(cases_path, [c.model_copy(update={"tags": [t for t in c.tags if t]}) for c in cases])
    return corpus, cases_path


# ------------------------------------------------------------------------------ MedSafetyBench
def msb_cases(shared_dir: Path, n: int | None = None, seed: int = 13) -> list[EvalCase]:
    """MedSafetyBench train prompts as refuse cases (tags: msb, category_N, generator)."""
    rows = read_jsonl(shared_dir / "medsafetybench" / "medsafetybench_train.jsonl")
    if n is not None and n < len(rows):
        rows = random.Random(seed).sample(rows, n)
    return [
        EvalCase(id=str(r["id"]), question=r["prompt"], expected="refuse", tags=["msb", f"category_{r['category']}", str(r.get("generator", ""))])
        for r in rows
    ]


def build_msb(out_dir: Path, n_docs: int | None = 300, seed: int = 13, shared_dir: Path | None = None, n_prompts: int | None = None) -> tuple[Path, Path]:
    """MSB refuse cases + the same number of benign MedQuAD questions over a small MedQuAD corpus."""
    shared = Path(shared_dir) if shared_dir else default_shared_dir()
    harmful = msb_cases(shared, n_prompts, seed)
    docs, by_doc = load_medquad(shared)
    kept, _ = split_medquad(docs, by_doc, n_docs or 300, 0, seed)
    corpus = write_medquad_corpus(Path(out_dir), kept, docs, by_doc)
    benign = medquad_cases(kept, [], by_doc)
    benign = random.Random(seed).sample(benign, min(len(benign), len(harmful)))
    cases_path = Path(out_dir) / "cases.jsonl"
    write_cases(cases_path, harmful + benign)
    return corpus, cases_path


# ---------------------------------------------------------------------------------- guidelines
def build_guidelines(
    out_dir: Path, n_docs: int | None = None, seed: int = 13, shared_dir: Path | None = None, cases_src: Path | None = None
) -> tuple[Path, Path]:
    """The guideline question set over the shared guideline corpus.

    Without ``n_docs`` the corpus is the shared folder itself (not copied). With ``n_docs`` the
    corpus is a copy of every gold document plus a seeded sample of the others, up to ``n_docs``.
    """
    shared = Path(shared_dir) if shared_dir else default_shared_dir()
    src = need(shared / "guidelines")
    cases, _ = load_cases(cases_src or GUIDELINE_QUESTIONS)
    cases_path = Path(out_dir) / "cases.jsonl"
    write_cases(cases_path, cases)
    if n_docs is None:
        return src, cases_path
    with open(need(shared / "guidelines.manifest.csv"), newline="", encoding="utf-8-sig") as fh:
        rows = [r for r in csv.DictReader(fh) if (src / (r.get("file") or "")).is_file()]
    gold = {d for c in cases for d in c.gold_doc_ids}
    chosen = [r for r in rows if r["doc_id"] in gold]
    others = [r for r in rows if r["doc_id"] not in gold]
    random.Random(seed).shuffle(others)
    chosen += others[: max(0, n_docs - len(chosen))]
    corpus = _fresh_corpus(Path(out_dir))
    for r in chosen:
        shutil.copy(src / r["file"], corpus / r["file"])
    _write_manifest(corpus, chosen)
    return corpus, cases_path


# ------------------------------------------------------------------------------------- one command
def default_shared_dir() -> Path:
    from app.settings import get_settings

    return Path(get_settings().data.shared_dir)


def build_dataset(
    name: str,
    out_dir: Path,
    settings: Any,
    n_docs: int | None = None,
    seed: int = 13,
    n_heldout: int | None = None,
    embedder: Any = None,
    progress: Callable[[str, int, int], None] | None = None,
    ingest: bool = True,
) -> dict[str, Any]:
    """Write corpus + cases for ``name`` under ``out_dir`` and ingest the corpus into ``out_dir/index``."""
    out_dir = Path(out_dir)
    shared = Path(settings.data.shared_dir)
    if name == "medquad":
        corpus, cases = build_medquad(out_dir, n_docs or 1000, 0, seed, shared)
    elif name == "medquad-heldout":
        corpus, cases = build_medquad(out_dir, n_docs or 1000, 200 if n_heldout is None else n_heldout, seed, shared)
    elif name == "pubmedqa":
        corpus, cases = build_pubmedqa(out_dir, n_docs, seed, shared)
    elif name == "msb":
        corpus, cases = build_msb(out_dir, n_docs or 300, seed, shared)
    elif name == "guidelines":
        corpus, cases = build_guidelines(out_dir, n_docs, seed, shared)
    else:
        raise UsageError(f"unknown dataset '{name}'", hint="one of: " + ", ".join(DATASETS))
    with open(cases, encoding="utf-8") as fh:
        n_cases = sum(1 for line in fh if line.strip())
    out: dict[str, Any] = {"dataset": name, "corpus": str(corpus), "cases": str(cases), "n_cases": n_cases, "index": None}
    if ingest:
        from ingest.embed import get_embedder
        from ingest.pipeline import run_ingest

        index_root = out_dir / "index"
        embedder = embedder or get_embedder(settings.ingest.embedding)
        report = run_ingest([Path(corpus)], index_root, settings.ingest, embedder, progress=progress)
        out.update(index=str(index_root), version=report.version, n_chunks=report.n_chunks, n_failed=len(report.failed))
    return out
