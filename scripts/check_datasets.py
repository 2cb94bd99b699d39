#!/usr/bin/env python3
"""Validate the hand-written evaluation and safety datasets.

Checks, for each file:
  evalsets/guideline_questions.jsonl     JSON, fields, unique ids/questions, gold doc in the manifest,
                                         format tag matches the file type, gold_evidence occurs verbatim
                                         (after collapsing whitespace) in the gold document's text
  app/safety/data/benign_sensitive.jsonl JSON, fields, unique ids/questions, known categories, 6-40 words
  app/safety/data/injection_questions.jsonl  JSON, fields, unique ids/texts, labels and id prefixes
  tests/data/injection_lines.txt         non-empty, unique lines

The shared data directory is GUIDEGROUND_DATA__SHARED_DIR or ../shared/data beside the checkout.
Document text: HTML with tags stripped and entities unescaped; Markdown as is; DOCX paragraph text
from word/document.xml; PDF via PyMuPDF page text. Exit status 1 if anything fails.

Usage: python scripts/check_datasets.py [--shared DIR]
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import re
import sys
import zipfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GUIDELINE_QUESTIONS = REPO / "evalsets" / "guideline_questions.jsonl"
BENIGN_SENSITIVE = REPO / "app" / "safety" / "data" / "benign_sensitive.jsonl"
INJECTION_QUESTIONS = REPO / "app" / "safety" / "data" / "injection_questions.jsonl"
INJECTION_LINES = REPO / "tests" / "data" / "injection_lines.txt"

BENIGN_CATEGORIES = {
    "overdose_management",
    "naloxone",
    "max_safe_doses",
    "opioid_tapering",
    "suicide_risk",
    "sexual_reproductive_health",
    "controlled_substances",
    "end_of_life",
    "toxicology_and_lethality",
    "sensitive_populations",
}
FORMAT_TAGS = {"html", "md", "docx", "pdf"}

errors: list[str] = []


def err(msg: str) -> None:
    errors.append(msg)


def ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def norm_question(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def read_jsonl(path: Path) -> list[dict]:
    rows: list[dict] = []
    if not path.is_file():
        err(f"{path}: missing")
        return rows
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            err(f"{path.name}:{n}: blank line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            err(f"{path.name}:{n}: invalid JSON ({e})")
            continue
        if not isinstance(obj, dict):
            err(f"{path.name}:{n}: not a JSON object")
            continue
        rows.append(obj)
    return rows


def check_fields(name: str, rows: list[dict], fields: dict[str, type]) -> list[dict]:
    ok = []
    for r in rows:
        rid = r.get("id", "?")
        bad = False
        for f, typ in fields.items():
            if f not in r:
                err(f"{name}:{rid}: missing field {f!r}")
                bad = True
            elif not isinstance(r[f], typ):
                err(f"{name}:{rid}: field {f!r} should be {typ.__name__}")
                bad = True
        if not bad:
            ok.append(r)
    return ok


def check_unique(name: str, rows: list[dict], key: str, normalise=lambda s: s) -> None:
    counts = Counter(normalise(r[key]) for r in rows if key in r)
    for value, c in counts.items():
        if c > 1:
            err(f"{name}: duplicate {key} ({c}x): {value!r}")


# --------------------------------------------------------------------------- document text


def doc_text(path: Path) -> str:
    ext = path.suffix.lower()
    if ext in (".html", ".htm"):
        raw = path.read_text(encoding="utf-8")
        raw = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", raw)
        return html.unescape(re.sub(r"<[^>]+>", " ", raw))
    if ext == ".md":
        return path.read_text(encoding="utf-8")
    if ext == ".docx":
        xml = zipfile.ZipFile(path).read("word/document.xml").decode("utf-8")
        paras = []
        for para in re.findall(r"<w:p[ >].*?</w:p>", xml, flags=re.S):
            paras.append("".join(re.findall(r"<w:t(?: [^>]*)?>(.*?)</w:t>", para, flags=re.S)))
        return html.unescape("\n".join(paras))
    if ext == ".pdf":
        import pymupdf  # PyMuPDF >= 1.24 (project dependency)

        with pymupdf.open(path) as d:
            return "\n".join(page.get_text() for page in d)
    raise ValueError(f"unsupported document type: {path}")


def load_manifest(shared: Path) -> dict[str, dict[str, str]]:
    with open(shared / "guidelines.manifest.csv", newline="", encoding="utf-8") as f:
        return {row["doc_id"]: row for row in csv.DictReader(f)}


# --------------------------------------------------------------------------- checks


def check_guideline_questions(shared: Path) -> None:
    name = GUIDELINE_QUESTIONS.name
    rows = check_fields(
        name,
        read_jsonl(GUIDELINE_QUESTIONS),
        {
            "id": str,
            "question": str,
            "expected": str,
            "gold_doc_ids": list,
            "gold_evidence": str,
            "reference_answer": str,
            "tags": list,
        },
    )
    check_unique(name, rows, "id")
    check_unique(name, rows, "question", norm_question)
    manifest = load_manifest(shared)
    texts: dict[str, str] = {}
    by_format: Counter[str] = Counter()
    docs_used: Counter[str] = Counter()
    for r in rows:
        rid = r["id"]
        if not r["question"].strip():
            err(f"{name}:{rid}: empty question")
        if r["expected"] == "abstain":
            by_format["out_of_corpus"] += 1
            if r["gold_doc_ids"]:
                err(f"{name}:{rid}: abstain item must have no gold_doc_ids")
            if "out_of_corpus" not in r["tags"]:
                err(f"{name}:{rid}: abstain item must be tagged out_of_corpus")
            continue
        if r["expected"] != "answer":
            err(f"{name}:{rid}: expected must be 'answer' or 'abstain'")
            continue
        if len(r["gold_doc_ids"]) != 1:
            err(f"{name}:{rid}: needs exactly one gold doc id")
            continue
        doc_id = r["gold_doc_ids"][0]
        if doc_id not in manifest:
            err(f"{name}:{rid}: gold doc {doc_id!r} not in manifest")
            continue
        docs_used[doc_id] += 1
        file = manifest[doc_id]["file"]
        fmt = Path(file).suffix.lstrip(".").lower()
        fmt_tags = [t for t in r["tags"] if t in FORMAT_TAGS]
        if fmt_tags != [fmt]:
            err(f"{name}:{rid}: format tag {fmt_tags} does not match {file}")
        if len(r["tags"]) < 2:
            err(f"{name}:{rid}: tags should be [format, topic]")
        by_format[fmt] += 1
        if not r["gold_evidence"].strip() or not r["reference_answer"].strip():
            err(f"{name}:{rid}: empty gold_evidence or reference_answer")
            continue
        if doc_id not in texts:
            path = shared / "guidelines" / file
            try:
                texts[doc_id] = ws(doc_text(path))
            except Exception as e:  # noqa: BLE001 - report and continue
                err(f"{name}:{rid}: cannot read {path}: {e}")
                texts[doc_id] = ""
        if texts[doc_id] and ws(r["gold_evidence"]) not in texts[doc_id]:
            err(f"{name}:{rid}: gold_evidence not found verbatim in {file}")
    print(
        f"{name}: {len(rows)} items; by format: {dict(sorted(by_format.items()))}; "
        f"{len(docs_used)} distinct gold documents"
    )


def check_benign_sensitive() -> None:
    name = BENIGN_SENSITIVE.name
    rows = check_fields(name, read_jsonl(BENIGN_SENSITIVE), {"id": str, "category": str, "question": str})
    check_unique(name, rows, "id")
    check_unique(name, rows, "question", norm_question)
    for r in rows:
        if not re.fullmatch(r"bs-\d{4}", r["id"]):
            err(f"{name}:{r['id']}: id should look like bs-0001")
        if r["category"] not in BENIGN_CATEGORIES:
            err(f"{name}:{r['id']}: unknown category {r['category']!r}")
        n = len(r["question"].split())
        if not 6 <= n <= 40:
            err(f"{name}:{r['id']}: question has {n} words (want 6-40)")
    cats = Counter(r["category"] for r in rows)
    print(f"{name}: {len(rows)} items; by category: {dict(sorted(cats.items()))}")


def check_injection_questions() -> None:
    name = INJECTION_QUESTIONS.name
    rows = check_fields(name, read_jsonl(INJECTION_QUESTIONS), {"id": str, "label": str, "text": str})
    check_unique(name, rows, "id")
    check_unique(name, rows, "text", norm_question)
    for r in rows:
        prefix = {"injection": "inj", "benign": "inb"}.get(r["label"])
        if prefix is None:
            err(f"{name}:{r['id']}: label must be 'injection' or 'benign'")
        elif not re.fullmatch(rf"{prefix}-\d{{3}}", r["id"]):
            err(f"{name}:{r['id']}: id should look like {prefix}-001 for label {r['label']}")
        if not r["text"].strip():
            err(f"{name}:{r['id']}: empty text")
    labels = Counter(r["label"] for r in rows)
    print(f"{name}: {len(rows)} items; by label: {dict(sorted(labels.items()))}")


def check_injection_lines() -> None:
    name = INJECTION_LINES.name
    if not INJECTION_LINES.is_file():
        err(f"{INJECTION_LINES}: missing")
        return
    lines = INJECTION_LINES.read_text(encoding="utf-8").splitlines()
    if any(not ln.strip() for ln in lines):
        err(f"{name}: blank line(s)")
    for value, c in Counter(ln.strip() for ln in lines).items():
        if c > 1:
            err(f"{name}: duplicate line: {value!r}")
    print(f"{name}: {len(lines)} lines")


def check_cross_file() -> None:
    """A benign safety question must not also appear as an injection or eval question."""
    seen: dict[str, str] = {}
    sources = [
        (BENIGN_SENSITIVE, "question"),
        (INJECTION_QUESTIONS, "text"),
        (GUIDELINE_QUESTIONS, "question"),
    ]
    for path, key in sources:
        if not path.is_file():
            continue
        for r in read_jsonl(path):
            if key not in r or not isinstance(r[key], str):
                continue
            k = norm_question(r[key])
            if k in seen and seen[k] != path.name:
                err(f"same text in {seen[k]} and {path.name}: {r[key]!r}")
            seen.setdefault(k, path.name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_shared = os.environ.get("GUIDEGROUND_DATA__SHARED_DIR", str(REPO.parent / "shared" / "data"))
    ap.add_argument("--shared", default=default_shared, help="shared data directory (default: %(default)s)")
    args = ap.parse_args()
    shared = Path(args.shared).resolve()
    if not (shared / "guidelines.manifest.csv").is_file():
        print(f"shared data not found at {shared}", file=sys.stderr)
        return 2
    check_guideline_questions(shared)
    check_benign_sensitive()
    check_injection_questions()
    check_injection_lines()
    check_cross_file()
    if errors:
        print(f"\nFAILED: {len(errors)} problem(s)", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        return 1
    print("\nOK: all dataset checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
