"""Build the planted-error set for the answer verifier: evalsets/planted/planted.jsonl.

Source: evalsets/planted/paraphrases.src.jsonl, hand-written pairs of (a guideline sentence, a faithful
paraphrase of it): sentences of the demo corpus (guidelines/, context = the whole chunk from a demo
index) and gold-evidence sentences of the shared corpus (evalsets/guideline_questions.jsonl; context
= the sentence). From each pair, by fixed rules:
  paraphrase  the paraphrase, citing its passage             → must be accepted
  number      a number changed (premise sentence and paraphrase) → must be rejected
  unit        a unit changed                                   → must be rejected
  negation    negation or direction flipped                    → must be rejected
  drug        a drug / test / intervention swapped             → must be rejected
  population  a population swapped                             → must be rejected
  uncited     a correct sentence with no citation, or citing a passage number that was not given → rejected
A mutation is kept only when it really changes the claim and the new word or number is not in the passage.

    .venv/bin/python scripts/build_planted.py --index /tmp/demo-idx
    .venv/bin/python scripts/build_planted.py --index /tmp/demo-idx \
        --src evalsets/planted/paraphrases.heldout.src.jsonl --out evalsets/planted/heldout.jsonl
The held-out pairs were written after the verifier was tuned on the first set and are never tuned on.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "evalsets" / "planted" / "paraphrases.src.jsonl"
OUT = REPO / "evalsets" / "planted" / "planted.jsonl"

UNIT_SWAP = {"years": "months", "year": "month", "months": "weeks", "month": "week", "weeks": "days", "week": "day",
             "days": "weeks", "day": "week", "hours": "days", "minutes": "hours", "mg": "g", "g": "mg",
             "micrograms": "milligrams", "mL/kg": "L/kg", "mmol/L": "mg/dL", "mm Hg": "cm H2O", "MME": "mg"}
DRUG_SWAP = {"aspirin": "ibuprofen", "metformin": "glipizide", "buprenorphine": "methadone", "naloxone": "naltrexone",
             "penicillin": "amoxicillin", "benzodiazepines": "antidepressants", "cannabis": "ketamine",
             "norepinephrine": "dopamine", "hydrocortisone": "dexamethasone", "statin": "fibrate", "Tdap": "MMR",
             "zoster": "pneumococcal", "varicella": "measles", "RSV": "HPV", "influenza": "hepatitis A",
             "crystalloid": "colloid", "qSOFA": "CURB-65", "MRI": "CT", "Tai Chi": "yoga", "NAATs": "cultures",
             "opioid": "NSAID", "budesonide-formoterol": "fluticasone-salmeterol", "PHQ-9": "GAD-7",
             "mammography": "thermography", "HbA1c": "LDL cholesterol", "ultrasonography": "CT angiography",
             "Anti-HBs": "Anti-HCV", "analgesic": "antibiotic", "PrEP": "PEP", "HCV": "HIV", "soap": "alcohol",
             "facemask": "face shield", "protein": "fat", "sodium": "potassium", "caffeine": "alcohol",
             "colorectal cancer": "lung cancer", "syphilis": "gonorrhoea", "opioids": "NSAIDs", "LTOT": "CPAP"}
POP_SWAP = {"adults": "children", "Adults": "Children", "women": "men", "Women": "Men", "men": "women", "Men": "Women",
            "children": "adults", "pregnant": "postmenopausal", "Pregnant": "Postmenopausal", "average-risk": "high-risk",
            "Average-risk": "High-risk", "non-pregnant": "pregnant", "older": "younger", "patients": "infants",
            "Patients": "Infants", "Everyone": "Infants", "persons": "children", "People": "Children",
            "smoked": "never smoked"}
NEG_RULES = [  # (pattern, replacement), first that applies wins
    (r"\brecommends against\b", "recommends"), (r"\brecommended against\b", "recommended"),
    (r"^Do not (\w)", lambda m: m.group(1).upper()), (r"\bdo not\b", "do"), (r"\bdoes not\b", "does"),
    (r"\bshould not\b", "should"), (r"\bis not\b", "is"), (r"\bare not\b", "are"), (r"^Not every\b", "Every"),
    (r"\bno more than\b", "more than"), (r"\bnot\b ", ""), (r"^Avoid\b", "Consider"),
    (r"\bshould\b", "should not"), (r"\brecommends\b", "recommends against"), (r"\bis\b", "is not"),
    (r"\bare\b", "are not"), (r"\bcan\b", "cannot"), (r"^(Give|Use|Start|Prescribe|Add|Wear|Rapidly initiate|Discontinue|Screen)\b",
                                                     lambda m: "Do not " + m.group(1).lower()),
]
NUM = re.compile(r"(?<![\w.,/])(\d+(?:\.\d+)?)(?![\d/])")


def change_number(claim: str, premise: str) -> str | None:
    for m in NUM.finditer(claim):
        n = m.group(1)
        new = str(round(float(n) * 1.5, 1)).rstrip("0").rstrip(".") if "." in n else str(int(n) + (5 if int(n) >= 10 else 1))
        if not re.search(rf"(?<![\d.]){re.escape(new)}(?![\d.])", premise):
            return claim[: m.start()] + new + claim[m.end():]
    return None


def swap_word(claim: str, premise: str, table: dict[str, str]) -> str | None:
    for old in sorted(table, key=len, reverse=True):
        new = table[old]
        if re.search(rf"(?<![\w-]){re.escape(old)}(?![\w-])", claim) and new.lower() not in premise.lower():
            return re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, claim, count=1)
    return None


def change_unit(claim: str, premise: str) -> str | None:
    for old in sorted(UNIT_SWAP, key=len, reverse=True):
        m = re.search(rf"(\d\s*(?:-|to|and)?\s*\d*\s*){re.escape(old)}\b", claim)
        if m and not re.search(rf"\d\s*{re.escape(UNIT_SWAP[old])}\b", premise):
            return claim[: m.start()] + m.group(1) + UNIT_SWAP[old] + claim[m.end():]
    return None


def flip_negation(claim: str) -> str | None:
    for pat, rep in NEG_RULES:
        new = re.sub(pat, rep, claim, count=1)
        if new != claim:
            return new[0].upper() + new[1:]
    return None


def load_demo_chunks(index: Path) -> list[dict]:
    cur = (index / "CURRENT").read_text().strip()
    with open(index / "versions" / cur / "chunks.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def context(row: dict, chunks: list[dict]) -> tuple[str, str, list[list[int]]]:
    """(passage id, passage text, sentence spans) holding the source sentence."""
    sent = row["premise_sentence"]
    if row["source"] == "demo":
        for c in chunks:
            if sent in c["text"]:
                return c["chunk_id"], c["text"], [[s["start"], s["end"]] for s in c["sentences"]]
        raise SystemExit(f"demo sentence not found in the index: {sent[:80]}")
    return row["source"], sent, [[0, len(sent)]]


def build(rows: list[dict], chunks: list[dict]) -> list[dict]:
    out: list[dict] = []
    for i, row in enumerate(rows):
        pid, text, spans = context(row, chunks)
        base = {"source": pid, "premise": text, "sentences": spans} | ({"mode": row["mode"]} if row.get("mode") else {})

        def add(kind: str, claim: str | None, cited: list[int], expect: str, of: str, _b: dict = base, _i: int = i) -> None:
            if claim and claim.strip():
                out.append(dict(_b, id=f"p{_i:03d}-{kind}-{of}", kind=kind, claim=claim, cited=cited, expect=expect, of=of))

        add("paraphrase", row["paraphrase"], [1], "accept", "paraphrase")
        for of, claim in (("sentence", row["premise_sentence"]), ("paraphrase", row["paraphrase"])):
            muts = {
                "number": change_number(claim, text), "unit": change_unit(claim, text), "negation": flip_negation(claim),
                "drug": swap_word(claim, text, DRUG_SWAP), "population": swap_word(claim, text, POP_SWAP),
            }
            for kind, new in muts.items():
                if new and new != claim:
                    add(kind, new, [1], "reject", of)
        add("uncited", row["paraphrase"], [], "reject", "paraphrase")
        add("uncited", row["premise_sentence"], [7], "reject", "sentence")  # a passage number that was not given
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True, help="a demo index (guideground ingest guidelines/ --index DIR)")
    ap.add_argument("--src", type=Path, default=SRC, help="hand-written (sentence, paraphrase) pairs")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.src.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = build(rows, load_demo_chunks(args.index))
    with open(args.out, "w", encoding="utf-8") as fh:
        for it in items:
            fh.write(json.dumps(it, ensure_ascii=False) + "\n")
    kinds: dict[str, int] = {}
    for it in items:
        kinds[it["kind"]] = kinds.get(it["kind"], 0) + 1
    print(json.dumps({"out": str(args.out), "n": len(items), "by_kind": kinds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
