"""What the whole-statement quote costs (stops 52 and 53), timed in process on every sentence of an index:
``app.query.statements.statement_end`` (an answer calls it once per chosen sentence, at most ``answer.max_sentences``)
and ``entry_head`` + ``dangling_lead`` (called once per sentence when a chunk's quotable sentences are first read,
then cached with them, ``app.query.answer.QUOTABLE``)::

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
    from app.query.statements import dangling_lead, entry_head, statement_end
    from ingest.store import load_version

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    idx = load_version(args.index)
    calls = [(ch.text, ch.sentences, i) for ch in idx.chunks for i in range(len(ch.sentences))]
    found = sum(statement_end(t, s, i) is not None for t, s, i in calls)
    entries = sum(entry_head(t, s, i) is not None for t, s, i in calls)
    runs, read_runs = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for t, s, i in calls:
            statement_end(t, s, i)
        t1 = time.perf_counter()
        for t, s, i in calls:
            entry_head(t, s, i)
            dangling_lead(t, s, i)
        runs.append((t1 - t0) / len(calls) * 1e6)
        read_runs.append((time.perf_counter() - t1) / len(calls) * 1e6)
    out = {"sentences": len(calls), "statements_found": found, "list_entries": entries,
           "us_per_call_median": round(statistics.median(runs), 3), "us_per_call_runs": [round(r, 3) for r in runs],
           "entry_us_per_sentence_median": round(statistics.median(read_runs), 3)}
    print(json.dumps(out) if args.json else f"{out['sentences']} sentences, {found} statements running past their first "
          f"sentence, {entries} list entries; statement_end {out['us_per_call_median']} µs a call, entry_head + dangling_lead "
          f"{out['entry_us_per_sentence_median']} µs a sentence (medians of {args.repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
