"""Extractive generation: verbatim sentences of the passages, chosen by similarity with MMR (the default)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.query.answer import mmr_select, select_by_score, with_scope
from app.query.asks import asked_kinds
from app.query.context import Draft, GenerationInput
from app.query.quotable import statement_end, with_trailing_label

if TYPE_CHECKING:
    from app.settings import AnswerSettings, Settings


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
        drafts = []
        quoted: list[tuple[int, int, int]] = []  # (row, start, end) of each quote so far
        for p in chosen:
            passage = inp.by_row(p.row)
            if passage is None:
                continue
            chunk = passage.chunk
            end = statement_end(chunk.text, chunk.sentences, p.sent_idx) or p.end  # a two-sentence graded statement, whole
            start, end = with_trailing_label(chunk.text, p.start, end)  # the recommendation with its grade
            if any(r == p.row and a <= start and end <= b for r, a, b in quoted):
                continue  # already quoted as part of its statement
            quoted.append((p.row, start, end))
            drafts.append(Draft(text=chunk.text[start:end], passages=[passage.n], span=(passage.n, start, end)))
        return drafts


def _factory(settings: Settings) -> ExtractiveGenerator:
    return ExtractiveGenerator(settings.answer)
