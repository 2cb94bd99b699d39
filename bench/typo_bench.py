"""One typing slip per question: what it costs, and what reading slips (app/query/spelling.py) gives back (stop 43,
docs/benchmarks.md).

    python bench/typo_bench.py --index var/shared-idx [--kind swap|omit] [--out var/typo]

Each answerable and near-miss question of the test split gets one slip in its longest word of 7 or more letters, in
the middle of it: two neighbouring letters swapped (``swap``) or one left out (``omit``). ``guideground eval`` runs on
those questions with ``retrieval.read_slips`` off and on, and on the clean questions, and the three are printed side
by side (answered, gold evidence in the answer, near misses abstained).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LONG = re.compile(r"[A-Za-z]{7,}")


def slip(word: str, kind: str) -> str:
    k = len(word) // 2
    return word[: k - 1] + word[k] + word[k - 1] + word[k + 1 :] if kind == "swap" else word[:k] + word[k + 1 :]


def slipped_cases(src: Path, kind: str, out: Path) -> tuple[Path, Path]:
    clean, typo = [], []
    for line in src.read_text().splitlines():
        c = json.loads(line)
        words = LONG.findall(c["question"])
        if not words or not ({"answerable", "near_miss"} & set(c["tags"])):
            continue
        clean.append(json.dumps(c))
        w = max(words, key=len)
        c["question"] = c["question"].replace(w, slip(w, kind), 1)
        typo.append(json.dumps(c))
    out.mkdir(parents=True, exist_ok=True)
    (out / "clean.jsonl").write_text("\n".join(clean) + "\n")
    (out / f"{kind}.jsonl").write_text("\n".join(typo) + "\n")
    return out / "clean.jsonl", out / f"{kind}.jsonl"


def evaluate(index: Path, cases: Path, out: Path, read_slips: bool) -> dict[str, float]:
    env = {**os.environ, "GUIDEGROUND_RETRIEVAL__READ_SLIPS": str(read_slips).lower()}
    subprocess.run([sys.executable, "-m", "app.cli", "eval", "--index", str(index), "--cases", str(cases), "--out", str(out), "--json"],
                   check=True, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    report = json.loads((out / "eval.json").read_text())
    summary = report["summary"]  # the report's own figures (app/eval: one definition of each metric)
    read = sum(bool(c.get("read_as")) for c in report["cases"])
    return {"answered": summary["answered"], "evidence_in_answer": summary["evidence_in_answer"],
            "near_miss_abstained": summary["near_miss_abstained"], "questions_read": read / max(len(report["cases"]), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--cases", type=Path, default=REPO / "evalsets/clinician/test.jsonl")
    ap.add_argument("--kind", choices=["swap", "omit"], default="swap")
    ap.add_argument("--out", type=Path, default=REPO / "var" / "typo")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    clean, typo = slipped_cases(a.cases, a.kind, a.out)
    runs = {
        "clean": evaluate(a.index, clean, a.out / "eval-clean", True),
        "slipped, read_slips off": evaluate(a.index, typo, a.out / f"eval-{a.kind}-off", False),
        "slipped, read_slips on": evaluate(a.index, typo, a.out / f"eval-{a.kind}-on", True),
    }
    if a.json:
        print(json.dumps({"kind": a.kind, **runs}, indent=2))
        return
    print(f"one slip ({a.kind}) in the longest word of each question of {a.cases.name}")
    for name, r in runs.items():
        print(f"  {name:26s} " + "  ".join(f"{k} {v:.3f}" for k, v in r.items()))


if __name__ == "__main__":
    main()
