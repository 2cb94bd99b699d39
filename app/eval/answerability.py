"""The outside measure of usefulness (shared/EVALUATION.md), defined once.

- answered: share of answerable cases (expected "answer") with status "answered";
- gold guideline cited: share of answered answerable responses citing a chunk of a gold document;
- evidence in the answer: share of answerable cases whose gold evidence words (lower-cased alphanumeric
  runs longer than 2 characters, or all digits) occur at least 70% among the words of the answer text;
- near-miss / out-of-scope abstained: share with status "abstained" among cases tagged so;
- disagreement reported: reason "conflicting_evidence" or a non-empty ``conflicts`` field, among cases
  tagged "disagreement";
- disagreement between the gold guidelines (stop 47; not in shared/EVALUATION.md, read beside its figure): among
  cases tagged "disagreement", the share whose ``conflicts`` name every gold document of the case. The outside
  figure counts any reported disagreement, also one between two guidelines the question is not about (two USPSTF
  statements, "28 weeks" from a trial description against "12 weeks", for a USPSTF-versus-VA/DoD question);
- false disagreement: the same as "disagreement reported", among answerable cases *not* tagged "disagreement" (a disagreement the
  set does not know of: either a real one the writers missed, or the conflict check seeing one that is not there);
- evidence in the closest sentences: among answerable cases the service abstained on, the share whose gold evidence
  is in the abstention's ``closest`` sentences (the same 70 % word rule, over their texts joined);
- unmatched note: share of *answered* cases whose response lists ``unmatched_terms`` (specific words of the question
  no cited guideline uses), among answered answerable cases (a note on a right answer: noise) and among answered
  near misses (a note where the answer speaks to something else: what the note is for);
- disagreement quoting both positions (stop 49; not in shared/EVALUATION.md): among disagreement cases whose set
  records both guidelines' spans (``gold_evidence_b``), the share where one reported disagreement cites the case's
  evidence in one position and the second span in another (the 70 % word rule for each);
- item note (stop 49): the same two shares for ``unanswered_items`` (an asked age, interval, dose, duration or
  threshold that no answer sentence gives);
- unindexed note (stop 56): the same two shares for ``unindexed_terms`` (those unmatched words no guideline of the
  whole index uses);
- absent-name abstentions (stop 57): the share of answerable cases, and of near misses, abstained with
  ``no_evidence`` while naming a word no guideline of the index uses (the gate's ``absent_names`` rule: what it cost,
  and what it caught; a ``no_evidence`` for want of any passage cites nothing, so names no word).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from app.eval.report_schema import CaseOut
from app.eval.runner import CaseResult
from app.query.schemas import QueryResponse

_WORD = re.compile(r"[a-z0-9]+")
EVIDENCE_WORD_SHARE = 0.7


def words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 or w.isdigit()}


def evidence_in_answer(gold_evidence: str, answer: str | None) -> bool:
    gold = words(gold_evidence)
    if not gold or not answer:
        return False
    return len(gold & words(answer)) / len(gold) >= EVIDENCE_WORD_SHARE


def disagreement_reported(resp: QueryResponse | CaseOut | None) -> bool:
    """The response said the guidelines disagree: it abstained for that reason or answered with ``conflicts``
    (a response, or a report's case)."""
    if resp is None:
        return False
    return resp.reason == "conflicting_evidence" or bool(getattr(resp, "conflicts", None))


def disagreement_between_gold(gold_doc_ids: Sequence[str], resp: QueryResponse | CaseOut | None) -> bool:
    """The reported disagreement names every gold guideline of the question (a case's ``gold_doc_ids``)."""
    named = {p.doc_id for c in (getattr(resp, "conflicts", None) or []) for p in c.positions}
    return bool(gold_doc_ids) and set(gold_doc_ids) <= named


def disagreement_quotes_evidence(gold_evidence: str | None, resp: QueryResponse | None) -> bool:
    """One position of the reported disagreement is the gold evidence: the sentence its citation quotes holds at least
    70 % of the evidence span's words. Stricter than ``disagreement_between_gold``: the disagreement is about the item
    asked, not only between the right guidelines (stop 48; the dev set gives one side's evidence, so one side is read)."""
    if resp is None or not gold_evidence:
        return False
    quotes = {c.n: c.quote for c in resp.citations}
    return any(evidence_in_answer(gold_evidence, quotes.get(p.citation)) for k in resp.conflicts for p in k.positions)


def disagreement_quotes_both(gold_evidence: str | None, gold_evidence_b: str | None, resp: QueryResponse | None) -> bool:
    """Both positions of the question's disagreement are quoted: one reported disagreement cites a sentence holding the
    case's evidence and, in another position, one holding its second guideline's evidence (the 70 % word rule for each;
    stop 49: what stop 48 read by hand, repeatable where the set records both spans)."""
    if resp is None or not gold_evidence or not gold_evidence_b:
        return False
    quotes = {c.n: c.quote for c in resp.citations}
    for k in resp.conflicts:
        a = [i for i, p in enumerate(k.positions) if evidence_in_answer(gold_evidence, quotes.get(p.citation))]
        b = [i for i, p in enumerate(k.positions) if evidence_in_answer(gold_evidence_b, quotes.get(p.citation))]
        if any(i != j for i in a for j in b):
            return True
    return False


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def answerability_metrics(results: Sequence[CaseResult]) -> dict[str, Any]:
    answerable = [r for r in results if r.case.expected == "answer"]
    answered = [r for r in answerable if r.status == "answered"]
    cited = [bool(set(r.case.gold_doc_ids) & {c.doc_id for c in r.response.citations}) for r in answered if r.response and r.case.gold_doc_ids]
    evidence = [
        evidence_in_answer(r.case.gold_evidence, r.response.answer if r.response else None)
        for r in answerable if r.case.gold_evidence
    ]

    def tagged(tag: str) -> list[CaseResult]:
        return [r for r in results if tag in r.case.tags]

    agreeing = [r for r in answerable if "disagreement" not in r.case.tags]
    both_spans = [r for r in tagged("disagreement") if r.case.gold_evidence and r.case.gold_evidence_b]

    return {
        "n_answerable": len(answerable),
        "answered": _share([r.status == "answered" for r in answerable]),
        "gold_guideline_cited": _share(cited),
        "evidence_in_answer": _share(evidence),
        "near_miss_abstained": _share([r.status == "abstained" for r in tagged("near_miss")]),
        "n_near_miss": len(tagged("near_miss")),
        "out_of_scope_abstained": _share([r.status == "abstained" for r in tagged("out_of_scope")]),
        "n_out_of_scope": len(tagged("out_of_scope")),
        "disagreement_reported": _share([disagreement_reported(r.response) for r in tagged("disagreement")]),
        "n_disagreement": len(tagged("disagreement")),
        "disagreement_between_gold": _share([disagreement_between_gold(r.case.gold_doc_ids, r.response) for r in tagged("disagreement")]),
        "disagreement_quotes_evidence": _share([
            disagreement_quotes_evidence(r.case.gold_evidence, r.response) for r in tagged("disagreement")
        ]),
        "disagreement_quotes_both": _share([
            disagreement_quotes_both(r.case.gold_evidence, r.case.gold_evidence_b, r.response) for r in both_spans
        ]),
        "n_disagreement_both_spans": len(both_spans),
        "false_disagreement": _share([disagreement_reported(r.response) for r in agreeing]),
        "n_agreeing": len(agreeing),
        "evidence_in_closest": _share([
            evidence_in_answer(r.case.gold_evidence, " ".join(x.text for x in r.response.closest))
            for r in answerable if r.status == "abstained" and r.response and r.case.gold_evidence
        ]),
        "unmatched_note_answered": _share([bool(r.response.unmatched_terms) for r in answered if r.response]),
        "unmatched_note_near_miss": _share([bool(r.response.unmatched_terms) for r in tagged("near_miss") if r.response and r.status == "answered"]),
        "item_note_answered": _share([bool(r.response.unanswered_items) for r in answered if r.response]),
        "item_note_near_miss": _share([bool(r.response.unanswered_items) for r in tagged("near_miss") if r.response and r.status == "answered"]),
        "unindexed_note_answered": _share([bool(r.response.unindexed_terms) for r in answered if r.response]),
        "unindexed_note_near_miss": _share([
            bool(r.response.unindexed_terms) for r in tagged("near_miss") if r.response and r.status == "answered"
        ]),
        "n_near_miss_answered": sum(r.status == "answered" for r in tagged("near_miss")),
        "absent_name_answerable": _share([_absent_name(r) for r in answerable]),
        "absent_name_near_miss": _share([_absent_name(r) for r in tagged("near_miss")]),
    }


def _absent_name(r: CaseResult) -> bool:
    """Abstained because the question names what no guideline of the index mentions (stop 57)."""
    return r.response is not None and r.response.reason == "no_evidence" and bool(r.response.unindexed_terms)
