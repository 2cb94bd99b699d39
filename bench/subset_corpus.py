"""The same questions on a smaller index: is the service as useful to a deployment with ten guidelines as to one with
a hundred, and to one whose guidelines came without their metadata file? (stop 43, docs/benchmarks.md)

    python bench/subset_corpus.py --index var/shared-idx --docs 10 [--no-sidecar] [--out var/subset]

Takes ``--docs`` of the test split's documents (random, ``--seed``), links their files into a folder (with the sidecar
rows of ``../shared/data/guidelines.manifest.csv`` filtered to them, or none with ``--no-sidecar``), ingests it with
``guideground ingest``, then runs ``guideground eval`` on the test split's and the blind set's questions about those
documents (answerable and near misses) plus every out-of-scope question, on the small index and on ``--index``, and
prints both side by side on the same questions.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETS = ("evalsets/clinician/test.jsonl", "evalsets/blind/test.jsonl")
FIGURES = ("answered", "evidence_in_answer", "near_miss_abstained", "out_of_scope_abstained")


def subset_folder(shared: Path, docs: list[str], out: Path, sidecar: bool) -> Path:
    folder = out / "guidelines"
    folder.mkdir(parents=True, exist_ok=True)
    by_stem = {p.stem: p for p in (shared / "guidelines").iterdir()}
    for d in docs:
        link = folder / by_stem[d].name
        if not link.exists():
            link.symlink_to(by_stem[d].resolve())
    side = out / "guidelines.manifest.csv"  # the folder's sidecar: <folder>.manifest.csv beside it
    side.unlink(missing_ok=True)
    if sidecar:
        rows = list(csv.DictReader((shared / "guidelines.manifest.csv").open(encoding="utf-8")))
        with side.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(r for r in rows if r["doc_id"] in docs)
    return folder


def questions(docs: set[str], out: Path) -> Path:
    rows = []
    for name in SETS:
        for line in (REPO / name).read_text().splitlines():
            c = json.loads(line)
            gold = set(c.get("gold_doc_ids") or [])
            if "out_of_scope" in c["tags"] or (gold and gold <= docs and ("answerable" in c["tags"] or "near_miss" in c["tags"])):
                rows.append(line)
    path = out / "questions.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


def run(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "app.cli", *args], check=True, cwd=REPO, stdout=subprocess.DEVNULL)


def rates(report: Path) -> dict[str, float | None]:
    """The report's own summary figures (app/eval: one definition of each metric)."""
    summary = json.loads(report.read_text())["summary"]
    return {k: summary[k] for k in FIGURES}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True, help="the full shared-corpus index")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--docs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=43)
    ap.add_argument("--no-sidecar", action="store_true", help="ingest the files without their metadata rows")
    ap.add_argument("--out", type=Path, default=REPO / "var" / "subset")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    test_docs = json.loads((REPO / "evalsets/clinician/stats.json").read_text())["test_documents"]
    docs = sorted(test_docs) if a.docs >= len(test_docs) else random.Random(a.seed).sample(sorted(test_docs), a.docs)
    out = a.out / f"{a.docs}{'-nosidecar' if a.no_sidecar else ''}"
    folder = subset_folder(a.shared, docs, out, sidecar=not a.no_sidecar)
    cases = questions(set(docs), out)
    run("ingest", str(folder), "--index", str(out / "index"), "--quiet", "--json")
    result: dict[str, dict[str, float | None]] = {}
    for label, index in (("full", a.index), ("subset", out / "index")):
        run("eval", "--index", str(index), "--cases", str(cases), "--out", str(out / f"eval-{label}"), "--json")
        result[label] = rates(out / f"eval-{label}" / "eval.json")
    if a.json:
        print(json.dumps({"docs": docs, "sidecar": not a.no_sidecar, **result}, indent=2))
        return
    print(f"{len(docs)} test-split documents ({'no sidecar' if a.no_sidecar else 'with their sidecar rows'}): {', '.join(docs)}")
    for k in FIGURES:
        f, s = result["full"][k], result["subset"][k]
        print(f"  {k:24s} full index {f if f is None else round(f, 3)}   subset {s if s is None else round(s, 3)}")


if __name__ == "__main__":
    main()
