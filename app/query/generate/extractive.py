"""Extractive generation: verbatim sentences of the passages, chosen by similarity with MMR (the default)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.query.answer import Picked, mmr_select, says_within, select_by_score, with_scope
from app.query.asks import asked_kinds
from app.query.context import Draft, GenerationInput
from app.query.quotable import with_trailing_label
from app.query.statements import statement_end

if TYPE_CHECKING:
    from app.settings import AnswerSettings, Settings
    from ingest.documents import Chunk


class ExtractiveGenerator:
    name = "extractive"

    def __init__(self, answer: AnswerSettings) -> None:
        self.a = answer

    def generate(self, inp: GenerationInput) -> list[Draft]:
        a = self.a
        if any(p.score is not None for p in inp.pool):  # scored by the gate's sentence model
            chosen = select_by_score(inp.index, inp.pool, a.max_sentences, a.score_margin, a.score_floor)
            if "scope" in asked_kinds(inp.question):  # "does the statement cover her?": whom it applies to
                chosen = with_scope(inp.index, inp.pool + inp.scope, chosen, a.max_sentences)
        else:
            chosen = mmr_select(inp.index, inp.pool, a.max_sentences, a.mmr_lambda, a.min_sentence_similarity, a.relative_sentence_floor)
        drafts: list[Draft] = []
        quoted: list[tuple[int, int, int]] = []  # (row, start, end) of each quote so far, as drafts
        docs: list[str] = []  # each draft's guideline
        for p in chosen:
            passage = inp.by_row(p.row)
            if passage is None:
                continue
            start, end = quote_span(passage.chunk, p)
            same = [j for j, (r, a, b) in enumerate(quoted) if r == p.row and a < end and start < b]
            if same:  # part of a statement already quoted: one quote of their union (contiguous, as they overlap)
                j = same[0]
                start, end = min(start, quoted[j][1]), max(end, quoted[j][2])
                quoted[j] = (p.row, start, end)
                drafts[j] = Draft(text=passage.chunk.text[start:end], passages=[passage.n], span=(passage.n, start, end))
                continue
            quoted.append((p.row, start, end))
            docs.append(passage.chunk.doc_id)
            drafts.append(Draft(text=passage.chunk.text[start:end], passages=[passage.n], span=(passage.n, start, end)))
        return said_once(drafts, docs)


def said_once(drafts: list[Draft], docs: list[str]) -> list[Draft]:
    """The quotes, less any whose words another quote of the same guideline says in full (``says_within``; of two
    with the same words, the first is kept): a table row repeating a recommendation quoted with its grade label."""
    def said_by(i: int, j: int) -> bool:
        return j != i and docs[j] == docs[i] and says_within(drafts[i].text, drafts[j].text) and (j < i or not says_within(drafts[j].text, drafts[i].text))

    return [d for i, d in enumerate(drafts) if not any(said_by(i, j) for j in range(len(drafts)))]


def quote_span(chunk: Chunk, p: Picked) -> tuple[int, int]:
    """What an answer quotes for a chosen sentence: the sentence, or the statement it opens or is a list entry of,
    with its grade label (``app.query.statements``)."""
    head = p.entry_of
    i = p.sent_idx if head is None else head
    start = p.start if head is None else int(chunk.sentences[head].start)
    end = statement_end(chunk.text, chunk.sentences, i) or p.end
    return with_trailing_label(chunk.text, start, end)


def _factory(settings: Settings) -> ExtractiveGenerator:
    return ExtractiveGenerator(settings.answer)
