"""Refuse questions that try to re-instruct the service (prompt injection in the *question*).

Starts from the ingest-time patterns (``ingest.injection.INJECTION_PATTERNS``, written for
instruction-like text inside guidelines) and adds the ways a user addresses the service: overriding
its rules, extracting its configuration, forcing an output, role-play jailbreaks, claimed authority,
tampering with citations/abstention, encodings and tool/code execution.

Patterns are grouped into families. A *strong* hit refuses on its own. A *weak* hit (phrases that
also occur in clinical questions: "developer mode" on a glucose monitor, "system prompts" of an EHR,
"always recommend …", a "jailbreak-proof" pill bottle) refuses only when the question also
addresses the service ("you", "your", "assistant", "AI", "the model"). Clinical questions that merely
contain "ignore", "override", "instructions", "rules" or "role" pass because every strong pattern
ties such a word to the service's own machinery (its instructions, filters, citations, index…).
"""

from __future__ import annotations

import re

from app.safety.literals import Prefiltered, ascii_lower
from app.safety.screen import ScreenDecision
from ingest.injection import INJECTION_PATTERNS

INJECTION_MESSAGE = (
    "This service answers clinical questions from clinical guidelines and cannot follow instructions "
    "that change how it works. Please ask the clinical question on its own."
)

# Ingest patterns that also match clinical wording; they need an address to the service.
WEAK_INGEST = frozenset({"always_answer", "role_override", "fake_system"})

_OVERRIDE = (
    r"(ignor(e|ing)|disregard(ing)?|forget(ting)?|overrid(e|ing)|bypass(ing)?|skip(ping)?|"
    r"pay no attention to|set aside|abandon|suspend|turn off|switch off|disable|deactivate|get around|"
    r"circumvent|break)"
)
# The service's own machinery: what an override or an extraction is aimed at.
_MACHINERY = (
    r"((safety|refusal|guard|content|moderation)\s+(screen|filter|model|classifier|polic(y|ies)|rules?|layer)s?"
    r"|grounding\s+(requirement|check|rule|policy|step)s?"
    r"|abstention\s+(rule|threshold|policy|logic)s?|citation\s+(requirement|format|rule|policy)s?"
    r"|confidence\s+calibration|system\s*[_ ]?prompt|guideline[- ]only\s+(restriction|rule|mode)"
    r"|guard\s*rails?|(retrieved|provided|given)\s+(passages?|documents?|context|chunks?|sources?))"
)
_SERVICE_THING = (
    r"(system\s*[_ ]?prompt|prompt|instructions?|configuration|config|context(\s+window)?|"
    r"vector\s+(database|store|db)|database|index(?!\s+(finger|toe|case|patient|test|score|value))|audit\s+log|"
    r"knowledge\s+base|training\s+data|server|api\s+keys?|internal\s+tools|refusal\s+(rules|filter|policy)|"
    r"safety\s+(screen|filter|rules|settings)|filters|guard\s*rails?|rules|programming|creators?|developers?|"
    r"abstention\s+threshold|hidden\s+(text|instructions)|input|operators?|owners?|admins?|administrators?|configuration\s+file)"
)
_ADDRESS = re.compile(r"\b(you|your|yourself|assistant|chatbot|the (model|bot|service))\b|\bAI\b", re.IGNORECASE)
_RELATION = (
    r"(doctor|physician|pharmacist|nurse|dealer|therapist|friend|late|deceased|dead|dying|father|mother|dad|mom|"
    r"grandmother|grandfather|grandma|grandpa)"
)

_STRONG_SOURCES: list[tuple[str, str]] = [
    # 1. override the service's rules or its inputs
    ("override_rules", rf"\b{_OVERRIDE}\s+((all|any|every|of)\s+)*((the|your|my|these|those|its|this)\s+)?"
     r"((previous|prior|earlier|above|preceding|initial|original|usual|standard|built-in|existing|current|safety|system)\s+)*"
     r"(instructions?|prompts?|polic(y|ies)|directives?|programming|restrictions|constraints|guard\s*rails?)\b"),
    ("override_machinery", rf"\b{_OVERRIDE}\b[^.?!\n]{{0,25}}\b{_MACHINERY}"),
    ("override_service", rf"\b{_OVERRIDE}\s+(the|your|this)\s+(screen|filter|classifier|moderation|grounding|retrieval)\b"
     r"|\bstop\s+(acting|being|behaving)\s+(like|as)\b|\bif\s+you\s+(had|have|were)\s+(no|not|without)\b"
     r"|\b(no|without)\s+(any\s+)?(content|safety)\s+(rules|filters?|restrictions|training|guidelines|polic(y|ies))\b"),
    ("override_citations", rf"\b{_OVERRIDE}\s+(the\s+|all\s+|any\s+)?(citations?|citation rules?|grounding|retrieval)\b"),
    ("override_all", rf"\b{_OVERRIDE}\s+(everything|anything|all)\s+(you|that|i)\b|\bsupersed(e|es|ing)\s+(all\s+)?(earlier|previous|prior|other)\b"),
    ("must_obey", r"\byou\s+(must|will|shall|have to|are required to|need to)\s+(now\s+)?(obey|comply|follow|do what|listen to)\b"
     r"|\b(do not|don'?t|stop)\s+(follow|obey)(ing)?\s+(your|the|any)\b"),
    ("new_policy", r"\bnew\s+(instructions?|polic(y|ies)|rules?|directives?|system prompt)\s*[:;]"),
    ("override_above", rf"\b{_OVERRIDE}\s+(all\s+of\s+|everything\s+)?(the\s+)?(above|everything (above|before))\b"),
    ("override_context", rf"\b{_OVERRIDE}\b[^.?!\n]{{0,20}}\b(the\s+)?(rules|text|anything|content|information)\s+in\s+(the|your)\s+(documents?|context|sources|passages|index)"),
    ("rules_do_not_apply", r"\b(safety|your|these|normal|usual)\s+(rules|polic(y|ies)|restrictions|filters?)\s+(do not|don'?t|does not|doesn'?t|no longer)\s+apply\b"),
    ("machinery_broken", rf"\b{_MACHINERY}\b[^.?!\n]{{0,30}}\b(has a bug|is broken|broken|is off|is disabled|has been (updated|disabled|changed|removed)|result (for|is))"),
    # 2. extract configuration, context or data
    ("your_machinery", rf"\byour\s+(own\s+|internal\s+|hidden\s+|initial\s+|original\s+|secret\s+|usual\s+|underlying\s+|new\s+|exact\s+|safety\s+|full\s+|complete\s+|entire\s+|current\s+|raw\s+|system\s+|actual\s+|real\s+|core\s+|default\s+|first\s+|whole\s+)*{_SERVICE_THING}\b"),
    ("you_were_given", r"\b(instructions?|rules|prompts?|context|documents?|text)\s+(that\s+)?you('ve| have| were| had| are)?\s+(been\s+)?(given|told|received|provided|programmed|following|instructed)\b"
     r"|\b(were|have)\s+you\s+(been\s+)?(told|given|instructed|programmed)\b"
     r"|\b(passages?|documents?|chunks?|context|sources?|text)\s+(that\s+)?you\s+(retrieved|received|were given|have been given|pulled)\b"
     r"|\b(placed|put|inserted|added|prepended)\s+(before|above|after)\s+my\s+(question|message|input)\b|\binternal\s+ids?\b"),
    ("repeat_above", r"\b(repeat|print|output|show|echo|copy|reproduce|recite)\b[^.?!\n]{0,20}\b(the\s+)?(text|everything|words|content|message|instructions|context)\s+(above|before|preceding|prior)\b"
     r"|\becho\s+back\b|\b(instructions?|prompt|rules|context|everything|text)\b[^.?!\n]{0,40}\b(word for word|verbatim)\b"),
    ("show_prompt", r"\b(print|show|reveal|output|display|repeat|dump|leak)\s+(me\s+)?(the|your)\s+(\w+\s+)?prompt\b|\bsystem\s*[_ ]?prompt\b"),
    ("confidential_config", r"\b(confidential|hidden|secret|internal)\s+(instructions|configuration|config|prompt|rules)\b"),
    ("system_data", r"\b(environment\s+variables|api\s+keys?|access\s+tokens?|/etc/passwd|file\s+paths?|chunks?\s+in\s+your|audit\s+log|vector\s+(database|store|db))\b"),
    ("trigger_words", r"\b(words?|keywords?|phrases?)\b[^.?!\n]{0,20}\b(trigger|bypass|avoid|get past|evade)\b[^.?!\n]{0,20}\b(your|the)\s+(refusal|filter|screen|safety)"),
    # 3. force an output
    ("quoted_output", r"\b(say|saying|write|output|print|type|answer|respond|reply|return|state|complete this sentence)\b(\s+(only|just|exactly|back|with|the\s+(word|phrase|text|string)))*\s*[\"“][^\"”]{1,80}[\"”]"),
    ("respond_with_quote", r"\b(respond|reply|answer)\b[^.?!\n\"“]{0,30}\bwith\s+[\"“]"),
    ("begin_with", r"\b(begin|start|end|prefix|preface|finish)\s+(your|each|every|the)\s+(reply|response|answer|output|message)s?\s+with\b"
     r"|\bat the (start|beginning|end) of (your|each|every) (reply|response|answer|output)"),
    ("append_output", r"\b(append|add|insert|include)\b[^?!\n]{0,80}\b(to|at the (end|start|beginning) of|in)\s+(every|each|all|your)\s+(responses?|answers?|replies|messages?|outputs?)\b"
     r"|\badd\s+[\"“][^\"”]+[\"”]\s+at the (end|start)"),
    ("nothing_else", r"\b(say|write|output|print|type|answer|respond|reply)\b[^.?!\n]{0,60}\b(and|but)\s+nothing\s+(else|more)\b"
     r"|\b(say|reply|respond|answer|output|write|print)\s+(only\s+|just\s+)?(with\s+)?the\s+(word|phrase|string|text)\b|\brepeat after me\b|\bpwned\b"),
    ("every_answer", r"\b(cite|quote|reference|use)\b[^.?!\n]{0,40}\bfor\s+(every|each|all|any)\s+(answer|response|reply)s?\b"),
    ("your_job", r"\byour\s+(only\s+)?(new\s+)?(job|task|role|purpose|function|persona|name)\s+(now\s+)?(is|will be)\b"),
    ("change_output", r"\b(change|switch|set)\s+your\s+(answer|response|output|reply)\s+(language|format|style|mode)\b"),
    ("always_state", r"\balways\s+(state|say|claim|assert)\b|\balways\s+(respond|answer|reply)\s+(that|with|[\"“])|\beven\s+(when|if)\s+it\s+(isn'?t|is not)\s*[.!]|\beven\s+if\s+it\s+(doesn'?t|does not)\s+exist\b"),
    # 4. role-play and hypothetical jailbreaks
    ("pretend_you", r"\bpretend\s+(that\s+)?(you|to be|the|it|this|there|i)\b|\bimagine\s+(that\s+)?you('re| are| were)\s+(an?\s+)?(ai|assistant|model|chatbot|bot)\b"
     r"|\blet'?s\s+(pretend|imagine|play|do an exercise|play a game)\b"),
    ("act_as", rf"\bact\s+as\s+(if\s+you|an?\s+(ai|assistant|model|chatbot|bot|unrestricted|uncensored|unfiltered|different|evil|rogue)\b|my\s+{_RELATION})"
     r"|\b(answer|respond|reply|behave)\s+as\s+if\s+you\b"
     r"|\b(respond|answer|reply|act|behave|speak|talk)\s+as\s+(an?\s+)?(ai|assistant|model|chatbot|bot|language model)\b"
     r"|\btreat\s+(my|the)\s+(next|following|previous)\s+(message|input|text|question)s?\s+as\b"),
    ("roleplay_as", r"\b(roleplay|role-play|role play)\s+as\b|\bthis\s+(medical\s+)?(chatbot|assistant|ai|bot)\b"),
    ("enable_mode", r"\b(enable|activate|turn on|switch to|enter|unlock)\s+(an?\s+)?(unrestricted|developer|god|debug|jailbreak|jailbroken|dan|admin|sudo|maintenance|uncensored|unfiltered)\s+(mode|persona)\b"),
    ("in_character", r"\b(stay|remain|staying)\s+in\s+character\b|\byou('re| are)\s+an?\s+(actor|character)\b|\bplaying\s+an?\s+(rogue|evil|unrestricted|uncensored)"),
    ("unrestricted_ai", r"\b(purely\s+)?(hypothetical|fictional|unrestricted|uncensored|unfiltered|jailbroken|evil|rogue|unlocked)\s+(ai|assistant|model|chatbot|bot|version|professor|pharmacist|doctor|physician)\b"
     r"|-unlocked\b|\byou are \w+gpt\b"),
    ("fiction_frame", r"\b(fictional|hypothetical|imaginary)\s+(scenario|story|world|setting)\b|\bwrite\s+a\s+(story|poem|screenplay|script|dialogue|novel)\b[^.?!\n]{0,80}\b(how to|step by step|exact doses?)"
     r"|\bsimulate\s+a\s+(conversation|dialogue|chat)\b|\bopposite day\b"),
    ("from_now_on", r"\b(from now on|from here on|from this point (on|forward)|henceforth|going forward)\b[^.?!\n]{0,60}\b(you|your|answer|respond|reply|treat|use|only|always|never|every|act|behave)\b"
     r"|\b(for the rest of (this|the) (conversation|chat|session)|for this (conversation|chat|session)|in your next (response|answer|reply))\b"),
    # 5. claimed authority, messages addressed to the model
    ("vocative", r"(^|[.!?]\s+)((hey|hi|ok|okay|dear)\s+)?(assistant|ai|model|chatbot|bot|system|admin|administrator|developer|override|sudo|root|new instructions?|note to (the )?(ai|assistant|model|system)|attention,?\s+(ai|assistant|model|system))\s*[:,]"),
    ("authority", r"\bi\s+(am|'m)\s+(the|an|your)\s+(administrator|admin|developer|creator|owner|operator)\b|\bi\s+authori[sz]e\s+you\b|\bauthori[sz]ed\s+red[- ]?team|\bred[- ]team(ing)?\s+exercise"
     r"|\bpre-?approved\s+by\b|\bthe user('s)?\b|\b(verified|licensed)\s+physician,?\s+so\b"),
    ("freed", r"\b(freed|unshackled)\s+from\s+(your|all|the|its)\s+(guidelines|rules|restrictions|constraints|programming)\b|\bno longer (bound|restricted|limited) by\b"),
    ("markup_tag", r"(^|\s|[|#\[<(])(\[|<|#{2,}|\|{2,})\s*/?\s*(system|admin|developer|instructions?|inst|override|sudo)\b"
     r"|(^|\s)/(jailbreak|dan|sudo|admin|system|dev|developer|unlock|override)\b"
     r"|\b(safety|grounding|citations?|refusals?|filters?|classifier|screen)\s*:\s*(off|disabled|none|false|0|optional)\b"),
    ("system_message", r"\b(system|developer|admin)\s+(message|instructions?)\b|[\"']role[\"']\s*:\s*[\"'](system|assistant|developer)|\bend of (user )?(input|prompt|context)\b"
     r"|\btreat (the following|this|it) as (a |an )?(system|developer|admin|new|override)\b"),
    # 6. tampering with grounding: citations, abstention, fabricated sources, memory
    ("no_citations", r"\b(without|no)\s+(any\s+)?(citations?|citing|references|quoting)\b"
     r"|\b(do not|don'?t|never|stop|skip)\s+(include|add|give|provide|use|using|mention|mentioning|cite|citing|quote|quoting|rely on|relying on|look at|check|consult)\s+(any\s+|the\s+)?(guideline\s+)?(citations?|sources?|references?|guidelines?|guideline documents|documents|evidence)\b"
     r"|\bwithout\s+(citing|using|consulting|checking)\s+(any\s+|the\s+)?(guidelines?|sources?|documents?)\b"
     r"|\b(do not|don'?t|never)\s+(cite|quote|reference)\s+(them|it|anything|any|sources?)\b"
     r"|\bas if\s+(there (were|are) no\s+|the\s+)?(guidelines?|rules|documents|sources|citations?|restrictions)\b"),
    ("skip_citations", r"\b(skip|drop|omit|leave out|forget)\s+(the\s+|any\s+|all\s+)?(citations?|sources?|references?|quotes?)\b"),
    ("never_abstain", r"\bnever\s+(abstain|refuse|decline)\b|\bnever say you don'?t know\b|\bcomply with (everything|anything|all)\b"),
    ("fabricate", r"\b(make up|invent|fabricate|generate|create)\s+(me\s+)?(a|an|some)?\s*(fake\s+|fictional\s+|made-up\s+|bogus\s+|false\s+|new\s+)?(\w+\s+){0,2}(guideline\s+)?(citations?|references?|guideline recommendations?)\b"
     r"|\bfake\s+(\w+\s+)?guidelines?\b|\bformatted like a real\b"),
    ("memory", r"\b(remember|store|save|memorize|keep)\s+this\b[^.?!\n]{0,30}\b(permanently|forever|future|all users)|\bfor all future (users|questions|conversations|answers)\b"
     r"|\b(update|modify|edit|change)\s+your\s+(knowledge|memory|index|database|training)|\badd\b[^.?!\n]{0,30}\bto your (index|database|knowledge)"),
    ("answer_without", r"\b(answer|respond|reply|tell me)\b[^.?!\n]{0,40}\bwithout\s+(any\s+|the\s+)?(restrictions?|limits|warnings|caveats|disclaimers|rules|filters?|censorship|evidence|grounding|retrieval|\w+\s+check)\b"
     r"|\b(no longer|don'?t|do not|never)\s+(need|have)\s+to\s+(cite|quote|reference|use|mention|follow|abstain|refuse)\b"
     r"|\b(answer|respond|reply)\s+(only\s+)?from\s+(your\s+)?(memory|own knowledge|training|general knowledge)\b|\bdisregard\s+retrieval\b"),
    ("use_own_knowledge", r"\b(from|using|with|use|on|into)\s+(only\s+)?your\s+own\s+(knowledge|training|memory|opinions?|judg(e)?ment|recommendations?|words|views?)\b"
     r"|\bact\s+like\s+an?\b[^.?!\n]{0,30}\b(with no|without)\b|\b(no|without)\s+(ethics|morals|conscience|scruples)\b|\b(other|previous|all)\s+users\b|\b(answer|respond|reply)\b[^.?!\n]{0,40}\bfrom the internet\b|\bwhatever i (say|tell you|want)\b"),
    # 7. encodings, code and tools
    ("encoding", r"\b(base-?64|rot-?13|hex[- ]?encoded|morse code|leetspeak|pig latin)\b|\b[A-Za-z0-9+/]{16,}={1,2}(\s|$)|\b(filter|screen|moderation)\s+(doesn'?t|does not|won'?t|can'?t|cannot)\s+(see|catch|detect|notice)"),
    ("execute", r"\b(run|execute|eval)\b[^.?!\n]{0,25}\b(shell|terminal|python|bash|sql|javascript|system)\s+(code|commands?|scripts?)\b|\b(run|execute)\s+(this|the following|these)\s+(code|commands?|scripts?)\b"
     r"|\brm\s+-rf\b|\bos\.system\b|\bimport\s+os\b|\b(call|use|invoke)\s+your\s+(internal\s+)?(tools?|functions?|plugins?|api)\b"),
    # 8. other languages: "ignore all previous instructions", "system prompt", "without citing"
    ("multilingual", r"\b(ignora|ignore[zr]?|ignoriere|ignorar|ignori|negeer|olvida|oublie[zr]?|vergiss)\b[^.?!\n]{0,30}\b(instrucciones|instructions|anweisungen|istruzioni|instruções|instructies|reglas|règles|regeln)\b"
     r"|\b(prompt del sistema|prompt de sistema|systemanweisung|systemprompt|invite système|consignes précédentes)\b|\bsans citer\b|\bsin citas\b"),
]

_WEAK_SOURCES: list[tuple[str, str]] = [
    ("jailbreak_words", r"\bjailbr(eak|oken)\b|\bdo anything now\b|\bprompt injection\b|\b(developer|god|debug|maintenance|sudo|unrestricted|admin)\s+mode\b"),
    ("no_filters", r"\b(without|no|free of|free from|not bound by)\s+(any\s+)?(filters?|censorship|guard\s*rails?|safety rules|ethical (rules|guidelines|constraints))\b"),
]

QUESTION_PATTERNS: list[tuple[str, re.Pattern[str]]] = [(n, re.compile(rx, re.IGNORECASE)) for n, rx in _STRONG_SOURCES]
WEAK_PATTERNS: list[tuple[str, re.Pattern[str]]] = [(n, re.compile(rx, re.IGNORECASE)) for n, rx in _WEAK_SOURCES]
# Case matters here: "DAN" the jailbreak, not Dan the patient.
WEAK_PATTERNS.append(("dan", re.compile(r"\bDAN\b")))


# Each pattern with the words it cannot match without (app/safety/literals.py): a long question holds none of most
# patterns' words, and their searches (≈ 10 µs each, 59 of them) are skipped.
_INGEST = [(n, Prefiltered.of(rx)) for n, rx in INJECTION_PATTERNS]
_STRONG = [(n, Prefiltered.of(rx)) for n, rx in QUESTION_PATTERNS]
_WEAK = [(n, Prefiltered.of(rx)) for n, rx in WEAK_PATTERNS]


def injection_hits(question: str) -> list[str]:
    """Names of the patterns that make the question an injection (empty list: not an injection)."""
    addressed = bool(_ADDRESS.search(question))
    low = ascii_lower(question)
    hits = [n for n, p in _INGEST if (n not in WEAK_INGEST or addressed) and p.search(question, low)]
    hits += [n for n, p in _STRONG if p.search(question, low)]
    if addressed:
        hits += [n for n, p in _WEAK if p.search(question, low)]
    return hits


def screen_injection(question: str) -> ScreenDecision:
    """Refuse (reason unsafe_request, category prompt_injection) a question that re-instructs the service."""
    if not injection_hits(question):
        return ScreenDecision(refused=False, score=0.0)
    return ScreenDecision(
        refused=True, reason="unsafe_request", category="prompt_injection", score=1.0, message=INJECTION_MESSAGE
    )
