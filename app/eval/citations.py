"""Per-answer citation checks: is the gold evidence inside what was cited, does each citation's quote sit at
its offsets, and ALCE citation recall / precision (Gao et al. 2023) with a judge that is not the service's
verifier (app/eval/judges.py). Aggregated by app/eval/metrics.py; definitions in docs/eval.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.eval.judges import Judge
from app.query.schemas import QueryResponse


def normalize_ws(text: str) -> str:
    return " ".join(text.split())


def evidence_hit(gold_evidence: str, chunk_texts: Sequence[str | None]) -> bool:
    g = normalize_ws(gold_evidence)
    return bool(g) and any(g in normalize_ws(t) for t in chunk_texts if t)


def quote_ok(start: int, end: int, quote: str, chunk_text: str | None) -> bool:
    return chunk_text is not None and 0 <= start <= end <= len(chunk_text) and chunk_text[start:end] == quote


def alce_sentence(passages: Sequence[str], claim: str, judge: Judge) -> tuple[int, int]:
    """ALCE for one sentence: (citation recall 0/1, number of its citations that count as precise).

    Follows the reference implementation (princeton-nlp/ALCE eval.py): recall is 1 when the joined
    cited passages support the sentence. Precision is only earned when recall is 1; a single
    citation is then precise, and with several, a citation is *irrelevant* (not precise) when it
    alone does not support the sentence and the remaining ones still do.
    """
    if not passages or not judge.supports("\n".join(passages), claim):
        return 0, 0
    if len(passages) == 1:
        return 1, 1
    precise = 0
    for i, p in enumerate(passages):
        rest = [q for j, q in enumerate(passages) if j != i]
        if judge.supports(p, claim) or not judge.supports("\n".join(rest), claim):
            precise += 1
    return 1, precise


def alce_response(
    resp: QueryResponse | None, chunk_texts: Mapping[str, str | None], judge: Judge
) -> tuple[float, float] | None:
    """(citation recall, citation precision) of one answered response, as ALCE averages them; None if not answered."""
    if resp is None or resp.status != "answered" or not resp.sentences:
        return None
    by_n = {c.n: c for c in resp.citations}
    recall = precise = n_citations = 0
    for s in resp.sentences:
        # A citation number that names no citation, or a chunk that cannot be fetched, supports nothing.
        passages = [(chunk_texts.get(by_n[n].chunk_id) or "") if n in by_n else "" for n in s.citations]
        r, p = alce_sentence(passages, s.text, judge)
        recall += r
        precise += p
        n_citations += len(passages)
    return recall / len(resp.sentences), (precise / n_citations if n_citations else 0.0)
