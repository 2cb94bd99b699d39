#!/usr/bin/env python3
"""Search the chunk texts of a built index, as the evaluation-set writers and second readers do.

  corpus_search.py grep REGEX [--doc DOC_ID] [--context N] [--max K]  a regex (case-insensitive) over every chunk
  corpus_search.py doc DOC_ID [--grep REGEX]                           one guideline's chunks (optionally only matching ones)
  corpus_search.py docs                                                the documents with their titles
  corpus_search.py has DOC_ID "verbatim span"                          exit 0 if the span (whitespace collapsed) is in a chunk

The index is the published version under --index (default var/shared-idx, built by
`guideground ingest ../shared/data/guidelines --index var/shared-idx`).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def ws(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--index", default=str(REPO / "var" / "shared-idx"))
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grep")
    g.add_argument("regex")
    g.add_argument("--doc")
    g.add_argument("--context", type=int, default=150)
    g.add_argument("--max", type=int, default=40)
    d = sub.add_parser("doc")
    d.add_argument("doc_id")
    d.add_argument("--grep")
    sub.add_parser("docs")
    h = sub.add_parser("has")
    h.add_argument("doc_id")
    h.add_argument("span")
    a = p.parse_args(argv)

    from ingest.store import load_version

    chunks = load_version(Path(a.index)).chunks
    if a.cmd == "docs":
        titles: dict[str, str] = {}
        for c in chunks:
            titles.setdefault(c.doc_id, c.title)
        for doc, title in titles.items():
            print(f"{doc} | {title}")
    elif a.cmd == "grep":
        rx, n = re.compile(a.regex, re.I), 0
        for c in chunks:
            if a.doc and c.doc_id != a.doc:
                continue
            t = ws(c.text)
            for m in rx.finditer(t):
                n += 1
                if n <= a.max:
                    print(f"[{c.doc_id} p{list(c.pages)}] ...{t[max(0, m.start() - a.context) : m.end() + a.context]}...")
        print(f"-- {n} matches")
    elif a.cmd == "doc":
        rx = re.compile(a.grep, re.I) if a.grep else None
        for k, c in enumerate(x for x in chunks if x.doc_id == a.doc_id):
            t = ws(c.text)
            if rx is None or rx.search(t):
                print(f"--- chunk {k} pages {list(c.pages)} section {' > '.join(c.section_path)}\n{t}")
    else:
        ok = any(ws(a.span) in ws(c.text) for c in chunks if c.doc_id == a.doc_id)
        print("FOUND" if ok else "NOT FOUND")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
