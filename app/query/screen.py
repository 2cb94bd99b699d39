"""The screen stage: refuse re-instructing (injection) and harmful requests before retrieval."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.safety.injection import screen_injection
from app.safety.screen import ScreenDecision
from app.settings import SafetySettings


class Screen:
    def __init__(self, settings: SafetySettings, harm_screen: Any = None) -> None:
        self.settings = settings
        self.harm_screen = harm_screen

    @property
    def version(self) -> str | None:
        """The harmful-request screen's artefact version, or None when it does not run."""
        if not self.settings.enabled or self.harm_screen is None:
            return None
        return str(self.harm_screen.version)

    def check(self, question: str, qvec: np.ndarray) -> ScreenDecision | None:
        """The refusal decision, or None when the request may go on."""
        if not self.settings.enabled:
            return None
        if self.settings.injection_screen:
            dec = screen_injection(question)
            if dec.refused:
                return dec
        if self.harm_screen is not None:
            dec = self.harm_screen.decide(question, qvec)
            if dec.refused:
                return dec
        return None
