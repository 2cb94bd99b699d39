"""The response stage: what a request returns — refused, abstained (with the closest passages, or both sides of
a disagreement), or answered (verified sentences, each citing exact character spans of its passages)."""

from __future__ import annotations

from typing import Any

from app.query.answer import Picked, says_within
from app.query.conflicts import Conflict, conflict_out
from app.query.context import Draft, GenerationInput, Verified, VerifiedSentence
from app.query.gate import GateDecision
from app.query.retrieve import Candidate, RetrievalResult
from app.query.schemas import AnswerSentence, Citation, ClosestSentence, ConflictOut, QueryResponse
from app.query.termcache import cache_key
from app.query.verify import Verifier
from app.query.versions import superseded_map
from ingest.store import LoadedIndex

# The gate's no_evidence for a question naming what no guideline mentions (the note names it: unindexed_terms).
ABSENT_MESSAGE = "No guideline in the index mentions what this question asks about; the closest passages are attached."

MESSAGES = {
    "no_evidence": "No passage in the indexed guidelines matches this question.",
    "weak_evidence": "The indexed guidelines do not clearly answer this question; the closest passages are attached.",
    "unsupported": "No sentence in the retrieved passages could be verified as answering this question.",
    "conflicting_evidence": "Guidelines in the index give different numbers for this; both passages are attached.",
    "out_of_scope": "This question is outside the scope of the indexed guidelines.",
}


# A question of this many words or fewer (evalsets/terse) is abstained on far more often than the same question written
# out with the patient and the item needed (test split, stop 44: answered 0.425 against 0.906): the abstention says so.
SHORT_QUESTION_WORDS = 12
SHORT_QUESTION_HINT = (
    " Short questions are often abstained on: naming the patient (age, condition) and the item you need (an age, a dose, "
    "an interval, a grade) helps."
)


# A disagreement's message says what differs (stop 45: every kind used to read "different numbers", a grade or a
# newer version of the same guideline included).
CONFLICT_MESSAGES = {
    "grade": "Guidelines in the index grade this differently; both passages are attached.",
    "direction": "Guidelines in the index take different positions on this (for, against, or insufficient evidence); "
    "both passages are attached.",
    "version": "Two versions of a guideline in the index bear on this, one superseded by the other; both passages are "
    "attached, the superseded one labelled.",
}


def abstention_message(reason: str, question: str = "", conflict_kind: str | None = None, absent: bool = False) -> str:
    """The abstention's explanation: for a disagreement, what differs (``conflict_kind``); for weak evidence on a short
    question, how to ask so that it can be answered; for a question naming what no guideline mentions (``absent``), that."""
    if reason == "no_evidence" and absent:
        return ABSENT_MESSAGE
    if reason == "conflicting_evidence" and conflict_kind in CONFLICT_MESSAGES:
        return CONFLICT_MESSAGES[conflict_kind]
    short = 0 < len(question.split()) <= SHORT_QUESTION_WORDS
    return MESSAGES[reason] + (SHORT_QUESTION_HINT if reason == "weak_evidence" and short else "")


def refused(dec: Any) -> QueryResponse:
    return QueryResponse(status="refused", reason="unsafe_request", category=dec.category, message=dec.message)


def citation(idx: LoadedIndex, n: int, c: Candidate, start: int, end: int) -> Citation:
    ch = idx.chunks[c.row]
    return Citation(
        n=n,
        chunk_id=ch.chunk_id,
        doc_id=ch.doc_id,
        title=ch.title,
        issuer=ch.issuer,
        version=ch.version or ch.published,
        section_path=ch.section_path,
        page=ch.page,
        start=start,
        end=end,
        quote=ch.text[start:end],
        score=round(c.score, 6),
        superseded_by=superseded_map(cache_key(idx), idx.manifest["documents"]).get(ch.doc_id),
    )


def abstained(
    idx: LoadedIndex, res: RetrievalResult, gate: GateDecision, top_k: int, pool: list[Picked] | None = None, n_closest: int = 0,
    question: str = "",
) -> QueryResponse:
    """The closest passages (whole), or both sides of a disagreement; with ``pool`` (the gate's scored sentences), the
    ``n_closest`` sentences of those passages it rated closest to the question; ``question`` shapes the message."""
    reason = gate.reason or "weak_evidence"
    conflicts: list[ConflictOut] = []
    closest: list[ClosestSentence] = []
    if gate.conflict is not None:
        by_row = res.by_row()
        k = gate.conflict
        cites = [citation(idx, 1, by_row[k.a_row], *k.a_span), citation(idx, 2, by_row[k.b_row], *k.b_span)]
        conflicts = [conflict_out(idx, k, cites[0], cites[1])]
    else:
        cites = [citation(idx, i + 1, c, 0, len(idx.chunks[c.row].text)) for i, c in enumerate(res.candidates[:top_k])]
        closest = closest_sentences(pool or [], {c.row: i + 1 for i, c in enumerate(res.candidates[:top_k])}, n_closest)
    return QueryResponse(
        status="abstained",
        reason=reason,  # type: ignore[arg-type]
        message=abstention_message(reason, question, gate.conflict.kind if gate.conflict is not None else None, bool(gate.absent)),
        citations=cites,
        conflicts=conflicts,
        closest=closest,
        confidence=None if gate.confidence is None else round(gate.confidence, 4),
    )


def closest_sentences(pool: list[Picked], cited: dict[int, int], n: int) -> list[ClosestSentence]:
    """The ``n`` sentences of the cited passages (row → citation number) scored highest, closest first; never a
    sentence about the guideline itself (objectives, methods: the gate reads them, the service never quotes them), nor one
    an answer would not quote (a list fragment, a pointer elsewhere: ``Picked.is_fragment``)."""
    eligible = [p for p in pool if p.row in cited and not p.about_guideline and not p.is_fragment()]
    eligible.sort(key=lambda p: (-(p.score if p.score is not None else p.sim), cited[p.row], p.start))
    return [ClosestSentence(text=p.text, citation=cited[p.row], start=p.start, end=p.end) for p in eligible[:n]]


def _doc(inp: GenerationInput, n: int) -> str | None:
    p = inp.passage(n)
    return None if p is None else p.chunk.doc_id


def answered(
    inp: GenerationInput, verified: Verified, confidence: float | None, verifier: Verifier, conflict: Conflict | None = None
) -> QueryResponse:
    citations: list[Citation] = []
    numbers: dict[tuple[int, int, int], int] = {}
    sentences: list[AnswerSentence] = []

    def cite(span: tuple[int, int, int]) -> int:
        if span not in numbers:
            p = inp.passage(span[0])
            assert p is not None  # the verifier only returns spans of given passages
            numbers[span] = len(citations) + 1
            citations.append(citation(inp.index, numbers[span], p.candidate, span[1], span[2]))
        return numbers[span]

    extra: list[VerifiedSentence] = []
    if conflict is not None:  # both positions are part of the answer, each verified as a verbatim quote
        for row, (a, b) in ((conflict.a_row, conflict.a_span), (conflict.b_row, conflict.b_span)):
            p = inp.by_row(row)
            if p is None or any(n == p.n and s < b and a < e for v in verified.sentences for n, s, e in v.spans):
                continue  # already quoted (perhaps widened to its grade label)
            if any(says_within(p.chunk.text[a:b], v.text) for v in verified.sentences
                   if any(_doc(inp, n) == p.chunk.doc_id for n, _s, _e in v.spans)):
                continue  # said in full by a quote of the same guideline (app.query.answer.says_within)
            v = verifier.verify_one(Draft(p.chunk.text[a:b], [p.n], (p.n, a, b)), inp)
            extra += [v] if v is not None else []
    for v in [*verified.sentences, *extra]:
        sentences.append(AnswerSentence(text=v.text, citations=[cite(span) for span in v.spans]))
    conflicts = []
    if conflict is not None:
        pa, pb = inp.by_row(conflict.a_row), inp.by_row(conflict.b_row)
        if pa is not None and pb is not None:
            ca = citations[cite((pa.n, *conflict.a_span)) - 1]
            cb = citations[cite((pb.n, *conflict.b_span)) - 1]
            conflicts = [conflict_out(inp.index, conflict, ca, cb)]
    return QueryResponse(
        status="answered",
        answer=" ".join(s.text for s in sentences),
        sentences=sentences,
        citations=citations,
        conflicts=conflicts,
        confidence=None if confidence is None else round(confidence, 4),
    )
