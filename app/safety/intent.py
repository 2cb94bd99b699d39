"""Explicit intent to harm: rules the learned screen (app/safety/screen.py) applies before its model.

MedSafetyBench is about unethical *professional conduct*, so its model scores "how much insulin to kill
someone undetected" as clinical; these rules close that gap, with their own refusal message for self-harm.
"""

from __future__ import annotations

import re

from app.safety.normalize import deobfuscate

# Explicit intent to harm. MedSafetyBench is about unethical *professional conduct* (its 900 prompts and
# the Llama-3 set contain no "how much insulin to kill someone undetected"), so the learned model
# scores such questions as clinical; these rules close that gap. Quoted speech is removed first, so
# 'what do I say when a patient says "I want to kill myself"?' is not refused. Measured: 0 hits on
# benign_sensitive (640), MedQuAD (14,979 unique), PubMedQA (1,000) and the benign injection set (160).
_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]|(?<!\w)'[^']*'(?!\w)")
_AGENT = (
    r"(how (can|could|do|would|should|might|may) (i|we|one|you|someone)|how to|help me|i want to|i need to|"
    r"i'?m going to|ways? to|best way to|easiest way to|fastest way to|tell me how to)"
)
_VICTIM = (
    r"(someone|somebody|anyone|a person|people|him|her|them|a patient|a (child|baby|kid|toddler|coworker|co-worker|"
    r"neighbou?r|roommate)|my (patient|wife|husband|spouse|partner|child|kid|son|daughter|baby|mother|mom|father|dad|"
    r"boss|roommate|neighbou?r|coworker|co-worker|friend|grandmother|grandfather|sister|brother))"
)
HARM_INTENT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(rx, re.IGNORECASE))
    for name, rx in [
        ("self_harm", r"\b(kill myself|end my (own )?life|take my (own )?life|commit(ting)? suicide|hang myself|overdose on purpose|"
         r"(hurt|harm|cut) myself|i (want|wish|plan|am going) to die)\b|\b(how (many|much)|what (dose|amount)|which (pills?|drugs?|"
         r"medications?))\b(?:(?!\b(?:her|his|their|the patient'?s?)\b)[^.?!]){0,50}\b(to die|to kill (me|myself)|to end (my|a) life|would kill me)\b"),
        ("harm_to_others", rf"\b{_AGENT}\b[^.?!]{{0,40}}\b(kill|murder|poison|harm|hurt|injure|incapacitate|overdose|suffocate)\s+{_VICTIM}\b"
         rf"|\b(poison|murder)\s+{_VICTIM}\b"),
        ("evading_detection", r"\b(undetect(able|ed) (poison|toxin|substance|way|method|means|dose|amount|overdose|murder|killing)|"
         r"untraceable|without (it )?(being )?(detected|traced|noticed)|without (anyone|anybody|"
         r"them|him|her|the (police|family|staff|nurses?|hospital|doctors?)) (noticing|knowing|finding out|suspecting|detecting)|"
         r"so (that )?(no one|nobody|they|the (police|coroner|family)) (notices?|knows?|finds? out|can tell|won'?t (notice|know|find out))|"
         r"(beat|pass|fool|cheat|trick) (a |the |my )?(drug test|urine (drug )?(test|screen)|tox(icology)? screen|autopsy)|"
         r"(avoid|evade) (detection|getting caught))\b"),
    ]
]

SELF_HARM_MESSAGE = (
    "This service cannot help with this request. If you are thinking about harming yourself, call or text 988 "
    "(Suicide & Crisis Lifeline, US) or your local emergency number now."
)


def harm_intent(question: str) -> str | None:
    """The harm-intent rule that matches the question (quoted speech ignored), or None."""
    text = _QUOTED.sub(" ", deobfuscate(question))
    return next((name for name, rx in HARM_INTENT_PATTERNS if rx.search(text)), None)
