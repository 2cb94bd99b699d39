"""Safety layer: a harmful-request screen and a prompt-injection screen run before retrieval, and
identifier masking for logs and audit records. Training (scikit-learn) lives in app.safety.train (with
app.safety.train_data, train_fit, train_report, train_output) and is imported only by ``guideground safety train``."""

from app.safety.injection import INJECTION_MESSAGE, screen_injection
from app.safety.pii import PIIMaskingFilter, install_log_masking, mask_identifiers
from app.safety.screen import REFUSAL_MESSAGE, RequestScreen, ScreenDecision, train_screen

__all__ = [
    "INJECTION_MESSAGE",
    "REFUSAL_MESSAGE",
    "PIIMaskingFilter",
    "RequestScreen",
    "ScreenDecision",
    "install_log_masking",
    "mask_identifiers",
    "screen_injection",
    "train_screen",
]
