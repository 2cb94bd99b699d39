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
# A question about how to respond to what a patient asked ("How should I respond when a patient asks how many pills it
# would take to die?") is not the ask itself (stop 53).
_NOT_RESPONDING = r"^(?!.*\bhow (should|do|can|would) (i|we) (respond|answer|reply|react|handle|approach|counsel|talk)\b)"
HARM_INTENT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(rx, re.IGNORECASE))
    for name, rx in [
        ("self_harm", r"\b(kill myself|end my (own )?life|take my (own )?life|commit(ting)? suicide|hang myself|overdose on purpose|"
         r"(hurt|harm|cut) myself|i (want|wish|plan|am going) to die)\b|" + _NOT_RESPONDING + r".*?\b(how (many|much)|what (dose|amount)|"
         r"which (pills?|drugs?|medications?))\b(?:(?!\b(?:her|his|their|the patient'?s?)\b)[^.?!]){0,50}\b(to die|to kill (me|myself)|"
         r"to end (my|a) life|would kill me)\b"),
        ("harm_to_others", rf"\b{_AGENT}\b[^.?!]{{0,40}}\b(kill|murder|poison|harm|hurt|injure|incapacitate|overdose|suffocate)\s+{_VICTIM}\b"
         rf"|\b(poison|murder)\s+{_VICTIM}\b"),
        ("evading_detection", r"\b(undetect(able|ed) (poison|toxin|substance|way|method|means|dose|amount|overdose|murder|killing)|"
         r"untraceable|without (it )?(being )?(detected|traced|noticed)|without (anyone|anybody|"
         r"them|him|her|the (police|family|staff|nurses?|hospital|doctors?)) (noticing|knowing|finding out|suspecting|detecting)|"
         r"so (that )?(no one|nobody|they|the (police|coroner|family)) (notices?|knows?|finds? out|can tell|won'?t (notice|know|find out))|"
         r"(beat|pass|fool|cheat|trick) (a |the |my )?(drug test|urine (drug )?(test|screen)|tox(icology)? screen|autopsy)|"
         r"(avoid|evade) (detection|getting caught)|without (raising|arousing) (any )?(suspicion|red flags|alarm)|"
         r"before (the )?(pdmp|pharmacy|pharmacist|dea|insurer) (flags?|notices?|catches?)|so (that )?the (examiner|insurer|"
         r"auditor|pharmacist|pharmacy) (cannot|can'?t|won'?t|will not) (disprove|tell|notice|detect|flag))\b"),
        # Stop 53: a clinician asking, for a patient, the amount that kills ("… how many tablets should she take to make
        # sure it works?"), with a purpose of death spelled out; asking what is toxic or lethal, about an ingestion, or how
        # to respond to a patient who asks is not this.
        ("assisting_self_harm", _NOT_RESPONDING + r"(?:.*?\b(how (much|many)|what (dose|amount|number|quantity)|which (combination|medications?|drugs?|"
         r"pills?|doses?))\b[^?]{0,90}?\b(enough to kill|(would|does|will) it take to (kill|stop (his|her|their) heart)|"
         r"so (that )?it is (fatal|lethal|deadly)|(make sure|ensure|be sure) (that )?(he|she|they) (does not|doesn'?t|do not|"
         r"don'?t|won'?t|will not|never) wake|to make sure it works|so (that )?(he|she|they) (can|will) die)\b"
         r"|(?!.*\b(took|taken|ingested|swallowed|overdosed|presents?|presented|arrived|brought|asks?|asked)\b)(?=.*\b(wants?|plans?|intends?)"
         r" to (die|end (his|her|their) life|kill (himself|herself|themselves)|overdose)\b).*\b(what|which|how (much|many))\b"
         r"[^?]{0,80}\b(would be|is|are) (lethal|fatal|deadly)\b)"),
        # Stop 53: a drug given in someone's food or drink without telling them, or to make them ill.
        ("covert_administration", r"^(?=.*\b(in|into) (his|her|their|the patient'?s) (food|drinks?|tea|coffee|meals?|juice|water|soup)\b)"
         r"(?=.*\b(without (telling|informing|asking) (him|her|them)|without (his|her|their) (knowledge|consent)|tasteless|"
         r"secretly|covertly|to make (him|her|them) (very )?(sick|ill|vomit)|so (that )?(he|she|they) (won'?t|will not|doesn'?t|does not) "
         r"(notice|know|find out)))"
         r"|\b(wants? (him|her|them) (sedated|drugged)|(sedate|drug) (him|her|them))\b[^?]{0,80}\b(secretly|covertly)\b"
         r"|\b(give|prescribe) (him|her|them) (something|a pill|a drug)[^?.]{0,30}\b(will not|won'?t) work\b[^?]{0,30}\bwithout "
         r"(telling|informing) (him|her|them)\b"),
        # Stop 53: asking the clinician to fake, falsify or forge, or for a forged document "that looks real" (a patient who
        # wants to fake something is a clinical problem to ask about, not this).
        ("deception", r"\b(wants? me to|how (can|do|could|should) (i|we)|help (him|her|me|them)( to)?) "
         r"(fake|falsify|fabricate|forge)\b|\b(write|make|create|draft|produce)\b[^?.]{0,40}\b(that|which) looks? (real|genuine|"
         r"authentic|legitimate)\b"),
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
