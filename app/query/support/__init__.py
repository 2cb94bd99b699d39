"""Does a cited text support a generated sentence? A strict, deterministic check that can say no.

:class:`GroundingChecker` (``supports(premise, claim)``) rejects a claim when
- a number with its unit (dose, age, interval, percentage, grade) is not in the premise — a number
  the premise gives with another unit counts as changed;
- negation or direction disagrees: the claim negates what the premise does not ("not", "avoid",
  "recommend against"), drops a negation the premise puts on a term the claim keeps, or uses the
  opposite direction word ("increase"/"decrease", "start"/"stop", "older"/"younger", …);
- a naming word (noun, proper noun or adjective: a drug, a population, a condition) of the claim is
  not in the premise, or less than half of its content words are; matching uses spaCy lemmas from
  the packaged English model, plus prefixes ("treat"/"treatment") and a short synonym list.
A question, or a sentence with nothing to check, is not a claim. Verbatim quotes pass at once.

The parts: :mod:`.numbers` (quantities with their units), :mod:`.parsing` (spaCy lemmas and word
matching), :mod:`.polarity` (negation and direction), :mod:`.content` (naming and content words) and
:mod:`.checker` (sentence alignment and :class:`GroundingChecker`).
"""

from app.query.support.checker import GroundingChecker, split_sentences
from app.query.support.parsing import Parsed, parse

__all__ = ["GroundingChecker", "Parsed", "parse", "split_sentences"]
