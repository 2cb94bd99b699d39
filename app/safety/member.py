"""The screen with its paired-request member (opt-in: ``safety.pairs_member``): the shipped screen decides first, and a
request it lets through is refused when the member's score reaches the member's own threshold.

The member (trained by ``app.safety.pairs``) is an artefact of the same format as the screen; only its score is read
here, not its harm-intent rules, which the shipped screen has already applied.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.safety.screen import REFUSAL_MESSAGE, RequestScreen, ScreenDecision


class ScreenWithMember:
    """Same calls as ``RequestScreen`` (``decide``, ``decide_many``, ``version``), so the screen stage takes either."""

    def __init__(self, screen: RequestScreen, member: RequestScreen) -> None:
        self.screen, self.member = screen, member

    @property
    def version(self) -> str:
        return f"{self.screen.version}+{self.member.version}"

    def decide_many(self, questions: Sequence[str], vecs: np.ndarray) -> list[ScreenDecision]:
        vecs = np.asarray(vecs, dtype=np.float32).reshape(len(questions), -1)
        out = self.screen.decide_many(questions, vecs)
        rest = [i for i, d in enumerate(out) if not d.refused]
        if not rest:
            return out
        scores = self.member.scores([questions[i] for i in rest], vecs[rest])
        hit = [i for i, sc in zip(rest, scores, strict=True) if sc >= self.member.threshold]
        cats = self.member.categories([questions[i] for i in hit], vecs[hit]) if hit else []
        by_row = dict(zip(rest, scores, strict=True))
        for i, cat in zip(hit, cats, strict=True):
            out[i] = ScreenDecision(refused=True, reason="unsafe_request", category=f"relayed:{cat}", score=float(by_row[i]), message=REFUSAL_MESSAGE)
        return out

    def decide(self, question: str, qvec: np.ndarray) -> ScreenDecision:
        return self.decide_many([question], qvec)[0]
