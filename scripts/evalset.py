#!/usr/bin/env python3
"""Check and build the clinician dev set (issue 14; spec in evalsets/README.md).

  check   validate every record of evalsets/clinician/src/*.jsonl against the chunk texts of a built
          shared-corpus index: schema, unique ids, gold documents exist, evidence spans are verbatim
          (whitespace-normalized) in one chunk of their document, PDF pages match, questions are
          paraphrased (no shared 4-word run with the evidence), near-miss `absent` regexes match no
          chunk of the whole corpus, out-of-scope questions do not name a corpus topic (warning).
  build   write evalsets/clinician/fit.jsonl, test.jsonl (EvalCase format) and stats.json; the split
          is by guideline document (sha1(doc_id) % 10 < 3 → test).

Usage:
  .venv/bin/python scripts/evalset.py check [--index var/shared-idx] [--json]
  .venv/bin/python scripts/evalset.py build [--json]
Exit status 1 on any violation (check) or schema error (build), 2 when the index cannot be loaded.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SRC = REPO / "evalsets" / "clinician" / "src"
OUT = REPO / "evalsets" / "clinician"
DEFAULT_INDEX = REPO / "var" / "shared-idx"

TYPES = {"answerable", "near_miss", "out_of_scope", "disagreement"}
KINDS = {"number", "grade", "population", "yes_no", "comparison", "what_says"}
DISAGREEMENT_ON = {"number", "grade", "direction"}
COMMON = {"id", "type", "question", "vignette", "kind", "audit", "from_id"}  # from_id: a rewrite's original (evalsets/terse)
ALLOWED = {
    "answerable": COMMON | {"doc_id", "evidence", "page", "reference_answer"},
    "near_miss": COMMON | {"doc_id", "absent", "trap"},
    "out_of_scope": COMMON,
    "disagreement": COMMON
    | {"doc_id", "evidence", "page", "reference_answer", "doc_id_b", "evidence_b", "page_b", "disagreement_on"},
}
REQUIRED = {
    "answerable": {"id", "type", "question", "kind", "doc_id", "evidence", "reference_answer"},
    "near_miss": {"id", "type", "question", "doc_id", "absent"},
    "out_of_scope": {"id", "type", "question"},
    "disagreement": {
        "id", "type", "question", "kind", "doc_id", "evidence", "reference_answer",
        "doc_id_b", "evidence_b", "disagreement_on",
    },
}
EVIDENCE_CHARS = (60, 400)
NGRAM = 4
# Name tokens a question may share with the evidence (drug, test and organisation names only). A shared
# 4-word run is excused only when every word in it is one of these or a joining word.
NAME_TOKENS = frozenset(
    """u s uspstf preventive services task force cdc centers disease control prevention va dod nhlbi
    national institute community american college academy ldct low dose computed
    tomography ankle brachial index abi hba1c a1c hemoglobin glucose tolerance test ogtt brca1 brca2
    brca hiv prep tenofovir emtricitabine tdf ftc hepatitis hbv hbsag anti hbs vaccine tamoxifen
    raloxifene aromatase inhibitors hydroxyurea aspirin fluoride varnish statin statins nicotine
    replacement therapy nrt bupropion varenicline naltrexone buprenorphine methadone phq pcv13 ppsv23
    pneumococcal penicillin mammography tsh vitamin d""".split()
)
JOIN_TOKENS = frozenset({"the", "of", "and", "for", "a", "an", "or", "with", "to", "in"})
TITLE_STOP = frozenset(
    """a an and the of for in on to with by from at or as its into who are is be u s preventive services
    task force recommendation recommendations statement guideline guidelines clinical practice va dod
    management screening screen adults adult children women men people persons care primary
    evidence based use cdc national evaluating evaluation prevention preventing treatment diagnosis
    interventions intervention counseling behavioral final risk assessment health update updated
    infection disease diseases disorders disorder patients""".split()
)


@dataclass(frozen=True)
class Violation:
    id: str
    rule: str
    detail: str


def ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def shared_runs(question: str, evidence: str, n: int = NGRAM) -> list[str]:
    """Runs of n words the question shares with the evidence, except runs made only of names."""
    ev = words(evidence)
    grams = {tuple(ev[i : i + n]) for i in range(len(ev) - n + 1)}
    q = words(question)
    out = []
    for i in range(len(q) - n + 1):
        g = tuple(q[i : i + n])
        if g in grams and not all(t in NAME_TOKENS or t in JOIN_TOKENS for t in g):
            out.append(" ".join(g))
    return out


def is_test_doc(doc_id: str) -> bool:
    return int(hashlib.sha1(doc_id.encode()).hexdigest(), 16) % 10 < 3


def split_of(rec: dict) -> str:
    if rec["type"] == "out_of_scope":  # a rewrite (from_id) stays in its original's split
        key = rec.get("from_id") or rec["id"]
        return "test" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 10 < 3 else "fit"
    docs = [rec["doc_id"]] + ([rec["doc_id_b"]] if rec["type"] == "disagreement" else [])
    return "test" if any(is_test_doc(d) for d in docs) else "fit"


def load_sources(src: Path = SRC) -> tuple[list[tuple[str, int, dict]], list[Violation]]:
    """(file name, line, record) for every line of every src/*.jsonl, in file then line order."""
    recs: list[tuple[str, int, dict]] = []
    bad: list[Violation] = []
    for path in sorted(src.glob("*.jsonl")):
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                bad.append(Violation(f"{path.name}:{no}", "json", exc.msg))
                continue
            if not isinstance(obj, dict):
                bad.append(Violation(f"{path.name}:{no}", "json", "not a JSON object"))
                continue
            recs.append((path.name, no, obj))
    return recs, bad


# --------------------------------------------------------------------------------------------- check


def required_literals(rx: re.Pattern) -> list[str] | None:
    """Casefolded ASCII strings, one of which every match of rx contains; None when none is found (≥ 3 chars)."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    def walk(seq) -> list[str] | None:
        options: list[list[str]] = []
        run: list[str] = []
        for op, av in list(seq) + [(None, None)]:
            if op is c.LITERAL and av < 128:
                run.append(chr(av))
                continue
            if len(run) >= 3:
                options.append(["".join(run).casefold()])
            run = []
            sub = None
            if op is c.SUBPATTERN:
                sub = walk(av[3])
            elif op is c.BRANCH:
                alts = [walk(b) for b in av[1]]
                sub = [n for a in alts for n in a] if all(alts) else None  # type: ignore[union-attr]
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
                sub = walk(av[2])
            if sub:
                options.append(sub)
        return max(options, key=lambda o: min(map(len, o))) if options else None

    try:
        return walk(_parser.parse(rx.pattern, rx.flags))
    except Exception:  # an internal parser change must not break the check: fall back to a full scan
        return None


class Corpus:
    """Chunk texts of one index, by document, whitespace-normalized."""

    SEP = "\n\x00.\x00\n"  # between chunks in `joined`: no word character, and a '.' that stops [^.]{0,n}

    def __init__(self, chunks: Iterable) -> None:
        self.by_doc: dict[str, list[tuple[str, list[int]]]] = defaultdict(list)
        self.titles: dict[str, str] = {}
        self.texts: list[str] = []
        for c in chunks:
            text = ws(c.text)
            self.by_doc[c.doc_id].append((text, list(c.pages)))
            self.titles.setdefault(c.doc_id, c.title)
            self.texts.append(c.text)
        self.starts: list[int] = []
        pos = 0
        for t in self.texts:
            self.starts.append(pos)
            pos += len(t) + len(self.SEP)
        self.joined = self.SEP.join(self.texts)
        self.folded: list[str] | None = None

    def first_match(self, rx: re.Pattern) -> tuple[str, re.Match] | None:
        """The first chunk text rx matches, with the match: the same answer as searching every chunk.

        Searching ~10k chunks with ~500 patterns costs minutes, so a pattern with a literal every match
        must contain (e.g. "ferritin" in r"ferritin[^.]{0,40}\\d") is only run on the chunks holding it
        (casefolded substring test); patterns without one search all chunks joined in one pass, falling
        back to chunk by chunk when a match crosses a separator or the pattern depends on string edges."""
        if self.folded is None:
            self.folded = [t.casefold() for t in self.texts]
        needles = required_literals(rx)
        if needles:
            for t, f in zip(self.texts, self.folded, strict=True):
                if any(n in f for n in needles) and (m := rx.search(t)):
                    return t, m
            return None
        edge = re.search(r"(?<!\[)\^|\$|\\A|\\Z|\(\?<[=!]|\(\?=|\(\?!", rx.pattern)
        if not edge:
            for m in rx.finditer(self.joined):
                i = bisect.bisect_right(self.starts, m.start()) - 1
                if m.end() <= self.starts[i] + len(self.texts[i]):
                    return self.texts[i], rx.search(self.texts[i]) or m
                break  # crosses a separator: decide chunk by chunk
            else:
                return None
        for t in self.texts:
            if m := rx.search(t):
                return t, m
        return None

    @classmethod
    def load(cls, index: Path) -> Corpus:
        from ingest.store import load_version

        return cls(load_version(index).chunks)

    def find(self, doc_id: str, span: str) -> list[list[int]] | None:
        """Pages of every chunk of doc_id holding span (None: no chunk holds it)."""
        s = ws(span)
        hits = [pages for text, pages in self.by_doc.get(doc_id, []) if s in text]
        return hits or None


def _check_schema(r: dict) -> list[str]:
    t = r.get("type")
    if t not in TYPES:
        return [f"type {t!r} is not one of {sorted(TYPES)}"]
    out = [f"missing field '{f}'" for f in sorted(REQUIRED[t] - r.keys())]
    out += [f"unknown field '{f}' for {t}" for f in sorted(r.keys() - ALLOWED[t])]
    for f in ("id", "question", "doc_id", "evidence", "reference_answer", "doc_id_b", "evidence_b", "trap", "audit"):
        if f in r and (not isinstance(r[f], str) or not r[f].strip()):
            out.append(f"'{f}' must be a non-empty string")
    if "vignette" in r and not isinstance(r["vignette"], bool):
        out.append("'vignette' must be true or false")
    if "kind" in r and r["kind"] not in KINDS:
        out.append(f"kind {r['kind']!r} is not one of {sorted(KINDS)}")
    if t == "disagreement" and r.get("disagreement_on") not in DISAGREEMENT_ON:
        out.append(f"disagreement_on must be one of {sorted(DISAGREEMENT_ON)}")
    if t == "disagreement" and r.get("doc_id") == r.get("doc_id_b"):
        out.append("doc_id_b must differ from doc_id")
    for f in ("page", "page_b"):
        if r.get(f) is not None and (not isinstance(r[f], int) or isinstance(r[f], bool) or r[f] < 1):
            out.append(f"'{f}' must be a positive integer or null")
    if t == "near_miss":
        a = r.get("absent")
        if not isinstance(a, list) or not 1 <= len(a) <= 4 or not all(isinstance(x, str) and x for x in a):
            out.append("'absent' must be a list of 1-4 non-empty regex strings")
    for f in ("evidence", "evidence_b"):
        if isinstance(r.get(f), str) and not EVIDENCE_CHARS[0] <= len(ws(r[f])) <= EVIDENCE_CHARS[1]:
            out.append(f"'{f}' is {len(ws(r[f]))} chars, expected {EVIDENCE_CHARS[0]}-{EVIDENCE_CHARS[1]}")
    return out


def _check_span(r: dict, corpus: Corpus, doc_f: str, ev_f: str, page_f: str) -> list[Violation]:
    rid, doc = r["id"], r[doc_f]
    if doc not in corpus.by_doc:
        return [Violation(rid, "doc_exists", f"{doc_f} {doc!r} is not in the index")]
    hits = corpus.find(doc, r[ev_f])
    if hits is None:
        return [Violation(rid, "evidence_span", f"{ev_f} is not in any chunk of {doc}: {r[ev_f][:80]!r}…")]
    page = r.get(page_f)
    if any(hits):  # a paged document (PDF): the page must be one of the holding chunk's pages
        if page is None or not any(page in p for p in hits):
            return [Violation(rid, "page", f"{page_f}={page} but the span is on page(s) {sorted({x for p in hits for x in p})}")]
    elif page is not None:
        return [Violation(rid, "page", f"{page_f}={page} given but {doc} has no pages")]
    return []


def _absent(r: dict, corpus: Corpus) -> list[Violation]:
    out = []
    for pat in r["absent"]:
        try:
            rx = re.compile(pat, re.IGNORECASE)
        except re.error as exc:
            out.append(Violation(r["id"], "absent_regex", f"{pat!r} does not compile: {exc}"))
            continue
        found = corpus.first_match(rx)
        if found is not None:
            hit, m = found
            ctx = ws(hit[max(0, m.start() - 40) : m.end() + 40])
            out.append(Violation(r["id"], "absent_regex", f"{pat!r} matches the corpus: …{ctx}…"))
    return out


def title_topics(titles: Iterable[str]) -> list[tuple[str, ...]]:
    """Content words of each title's topic (the part before ':'), for the out-of-scope heuristic."""
    out = set()
    for t in titles:
        head = re.split(r":| - |\. In:", t)[0]
        toks = tuple(w for w in words(head) if w not in TITLE_STOP and len(w) > 2)
        if toks:
            out.add(toks)
    return sorted(out)


def _oos_warning(r: dict, topics: list[tuple[str, ...]]) -> str | None:
    q = set(words(r["question"]))
    for toks in topics:
        key = toks if len(toks) <= 2 else toks[:2]
        if all(t in q for t in key):
            return f"question mentions corpus topic {' '.join(toks)!r}"
    return None


def check_records(recs: list[tuple[str, int, dict]], corpus: Corpus) -> tuple[list[Violation], list[Violation]]:
    """(violations, warnings) for every record."""
    bad: list[Violation] = []
    warn: list[Violation] = []
    seen: dict[str, str] = {}
    topics = title_topics(corpus.titles.values())
    for fname, no, r in recs:
        rid = str(r.get("id") or f"{fname}:{no}")
        schema = _check_schema(r)
        bad += [Violation(rid, "schema", d) for d in schema]
        if rid in seen:
            bad.append(Violation(rid, "unique_id", f"also in {seen[rid]}"))
        seen.setdefault(rid, f"{fname}:{no}")
        prefix = Path(fname).stem + "-"
        if not rid.startswith(prefix):
            bad.append(Violation(rid, "id_prefix", f"ids in {fname} start with {prefix!r}"))
        if schema:
            continue
        t = r["type"]
        if t in ("answerable", "disagreement"):
            bad += _check_span(r, corpus, "doc_id", "evidence", "page")
            bad += [Violation(rid, "overlap", f"shares {g!r} with evidence") for g in shared_runs(r["question"], r["evidence"])]
        if t == "disagreement":
            bad += _check_span(r, corpus, "doc_id_b", "evidence_b", "page_b")
            bad += [Violation(rid, "overlap", f"shares {g!r} with evidence_b") for g in shared_runs(r["question"], r["evidence_b"])]
        if t == "near_miss":
            if r["doc_id"] not in corpus.by_doc:
                bad.append(Violation(rid, "doc_exists", f"doc_id {r['doc_id']!r} is not in the index"))
            bad += _absent(r, corpus)
        if t == "out_of_scope" and (w := _oos_warning(r, topics)):
            warn.append(Violation(rid, "oos_topic", w))
    return bad, warn


RULES = ["json", "schema", "unique_id", "id_prefix", "doc_exists", "evidence_span", "page", "overlap", "absent_regex"]


def cmd_check(args: argparse.Namespace) -> int:
    from ingest.errors import GuidegroundError

    recs, bad = load_sources(Path(args.src))
    try:
        corpus = Corpus.load(Path(args.index))
    except GuidegroundError as exc:
        print(f"error: cannot load the index at {args.index}: {exc}", file=sys.stderr)
        return 2
    more, warn = check_records(recs, corpus)
    bad += more
    per_rule = {rule: sum(v.rule == rule for v in bad) for rule in RULES}
    files = Counter(f for f, _, _ in recs)
    if args.json:
        print(json.dumps({
            "records": len(recs), "files": dict(files), "violations_by_rule": per_rule,
            "violations": [asdict(v) for v in bad], "warnings": [asdict(v) for v in warn], "ok": not bad,
        }, indent=2))
    else:
        print(f"{len(recs)} records in {', '.join(f'{f} ({n})' for f, n in sorted(files.items()))}")
        for rule in RULES:
            print(f"  {rule:14s} {'ok' if not per_rule[rule] else f'{per_rule[rule]} violation(s)'}")
        for v in bad:
            print(f"VIOLATION {v.id} [{v.rule}] {v.detail}")
        for v in warn:
            print(f"warning   {v.id} [{v.rule}] {v.detail}")
        print("OK" if not bad else f"FAILED: {len(bad)} violation(s)")
    return 1 if bad else 0


# --------------------------------------------------------------------------------------------- build


def to_case(r: dict) -> dict:
    t, split = r["type"], split_of(r)
    tags = ["clinician", t]
    if r.get("kind"):
        tags.append(f"kind:{r['kind']}")
    if r.get("vignette"):
        tags.append("vignette")
    if r.get("audit"):
        tags.append("audited")
    tags.append(f"split:{split}")
    if t == "disagreement":
        tags += [f"doc_b:{r['doc_id_b']}", f"on:{r['disagreement_on']}"]
    docs = {"answerable": [r.get("doc_id")], "near_miss": [r.get("doc_id")], "out_of_scope": [],
            "disagreement": [r.get("doc_id"), r.get("doc_id_b")]}[t]
    return {
        "id": r["id"],
        "question": r["question"],
        "expected": "answer" if t == "answerable" else "abstain",
        "gold_doc_ids": docs,
        "gold_evidence": r.get("evidence"),
        "gold_evidence_b": r.get("evidence_b") if t == "disagreement" else None,
        "reference_answer": r.get("reference_answer"),
        "tags": tags,
        "page": r.get("page"),
    }


def build(recs: list[dict], out: Path = OUT) -> dict:
    from app.eval.cases import EvalCase, write_cases

    cases = {"fit": [], "test": []}
    stats: dict = {"total": len(recs), "by_type": Counter(), "by_kind": Counter(), "by_split": Counter(),
                   "by_type_split": Counter(), "by_part": Counter()}
    vign = Counter()
    test_docs = set()
    for r in recs:
        split = split_of(r)
        cases[split].append(EvalCase.model_validate(to_case(r)))
        t = r["type"]
        stats["by_type"][t] += 1
        stats["by_split"][split] += 1
        stats["by_type_split"][f"{t}/{split}"] += 1
        stats["by_part"][r["id"].split("-", 1)[0]] += 1
        if r.get("kind"):
            stats["by_kind"][f"{t}/{r['kind']}"] += 1
        vign[t] += bool(r.get("vignette"))
        for d in (r.get("doc_id"), r.get("doc_id_b")):
            if d and is_test_doc(d):
                test_docs.add(d)
    for split, cs in cases.items():
        write_cases(out / f"{split}.jsonl", cs)
    stats = {k: dict(sorted(v.items())) if isinstance(v, Counter) else v for k, v in stats.items()}
    stats["vignettes"] = dict(sorted(vign.items()))
    n_ans = stats["by_type"].get("answerable", 0)
    stats["vignette_share_answerable"] = round(vign["answerable"] / n_ans, 3) if n_ans else 0.0
    stats["audited"] = sum(bool(r.get("audit")) for r in recs)
    stats["test_documents"] = sorted(test_docs)
    (out / "stats.json").write_text(json.dumps(stats, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return stats


def cmd_build(args: argparse.Namespace) -> int:
    recs, bad = load_sources(Path(args.src))
    bad += [Violation(str(r.get("id")), "schema", d) for _, _, r in recs for d in _check_schema(r)]
    if bad:
        for v in bad:
            print(f"VIOLATION {v.id} [{v.rule}] {v.detail}", file=sys.stderr)
        print("not built: fix the schema violations first (or run check)", file=sys.stderr)
        return 1
    stats = build([r for _, _, r in recs], Path(args.out))
    if args.json:
        print(json.dumps(stats, indent=2, sort_keys=True))
    else:
        print(f"wrote {args.out}/fit.jsonl ({stats['by_split'].get('fit', 0)}), test.jsonl "
              f"({stats['by_split'].get('test', 0)}), stats.json; by type {stats['by_type']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="validate the source records against a built index")
    c.add_argument("--index", default=str(DEFAULT_INDEX), help="index root (default var/shared-idx)")
    b = sub.add_parser("build", help="write fit.jsonl, test.jsonl and stats.json")
    b.add_argument("--out", default=str(OUT), help="output folder (default evalsets/clinician)")
    for s in (c, b):
        s.add_argument("--src", default=str(SRC), help="folder of source *.jsonl (default evalsets/clinician/src)")
        s.add_argument("--json", action="store_true", help="machine-readable output")
    args = p.parse_args(argv)
    return cmd_check(args) if args.cmd == "check" else cmd_build(args)


if __name__ == "__main__":
    sys.exit(main())
