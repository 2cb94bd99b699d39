"""What the whole-statement quote costs (stop 52): ``app.query.quotable.statement_end`` on every sentence of an
index, timed in process. An answer calls it once per chosen sentence (at most ``answer.max_sentences``)::

    python bench/statement_bench.py --index var/shared-idx [--repeat 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from app.query.quotable import statement_end
    from ingest.store import load_version

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    idx = load_version(args.index)
    calls = [(ch.text, ch.sentences, i) for ch in idx.chunks for i in range(len(ch.sentences))]
    found = sum(statement_end(t, s, i) is not None for t, s, i in calls)
    runs = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for t, s, i in calls:
            statement_end(t, s, i)
        runs.append((time.perf_counter() - t0) / len(calls) * 1e6)
    out = {"sentences": len(calls), "statements_found": found, "us_per_call_median": round(statistics.median(runs), 3),
           "us_per_call_runs": [round(r, 3) for r in runs]}
    print(json.dumps(out) if args.json else f"{out['sentences']} sentences, {found} two-sentence statements, "
          f"{out['us_per_call_median']} µs a call (median of {args.repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
