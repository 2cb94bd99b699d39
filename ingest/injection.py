"""Instruction-like text inside guidelines (prompt injection) is flagged at ingest, never cited.

The text stays in the index (it is data, and a curator should see it in ``inspect``), but chunks
that contain it carry the ``instruction_like`` flag; the sentences that match are excluded from
extractive answers and the chunk is never used as evidence.
"""

from __future__ import annotations

import re

INJECTION_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(rx, re.IGNORECASE))
    for name, rx in [
        ("ignore_instructions", r"\b(ignore|disregard|forget|override)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|your|the)\b[^.\n]{0,30}\b(instructions?|prompts?|rules|directions|guidelines|context)\b"),
        ("fake_system", r"(^|\W)(system\s*prompt|system\s*:|\[/?(system|inst)\]|<\|?\s*(im_start|im_end|system|assistant|user)\s*\|?>|###\s*(instruction|system))"),
        ("always_answer", r"\b(always|only|must)\s+(answer|respond|reply|say|output|recommend)\b[^.\n]{0,40}\b(yes|no|that|with)\b"),
        ("role_override", r"\byou\s+are\s+(now|no longer)\b|\bact\s+as\s+(an?\s+)?(unrestricted|different|new)\b|\bdeveloper\s+mode\b|\bjailbreak\b|\bDAN\s+mode\b|\bdo anything now\b"),
        ("exfiltrate", r"\b(reveal|print|show|repeat|output)\b[^.\n]{0,30}\b(system prompt|hidden (prompt|instructions)|your instructions)\b"),
        ("assistant_directive", r"\b(as an ai|language model|assistant)\b[^.\n]{0,40}\b(must|should|will)\b[^.\n]{0,40}\b(answer|respond|ignore|say)\b"),
    ]
]


def find_instructions(text: str) -> list[tuple[int, int, str]]:
    """Spans of instruction-like text: (start, end, pattern name)."""
    hits = []
    for name, rx in INJECTION_PATTERNS:
        for m in rx.finditer(text):
            hits.append((m.start(), m.end(), name))
    return sorted(hits)


def is_instruction_like(text: str) -> bool:
    return any(rx.search(text) for _, rx in INJECTION_PATTERNS)
