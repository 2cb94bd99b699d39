"""Sections that describe the guideline rather than say what to do: its objectives and intended users, the key questions
its evidence review asked, how many studies it drew on, its methods, how it answered public comment on its draft, who
wrote and funded it, where to get it and related resources.

A sentence there can match a clinician's words closely — a key question *is* a question ("Key Question 5: What are
the harms of treating amblyopia …"), an objective restates the topic ("To update the 2011 USPSTF recommendation on
screening for amblyopia …") — and answer nothing. None of the 480 evidence sentences of the clinician set lies under
such a heading. The gate reads these sentences (that a guideline's key questions name the topic is evidence that it covers
it) and the sentence scorer has them as a feature (``about_guideline``), but the extractive answer never quotes one.

The headings are the National Guideline Clearinghouse summary's fields (every ``ngc-*`` document of the corpus uses
them); a CDC report's "Clinical Practice Guideline Development Methods > Recommendation Development" holds
recommendations and is not one of them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

ABOUT_GUIDELINE_HEADING = re.compile(
    r"^(?:methodology|guideline objective\(s\)|intended users|clinical specialty|guideline category|major outcomes considered|number of source documents|"
    r"identifying information and availability|(?:ngc )?disclaimer|ngc status|guideline status|bibliographic source\(s\)|"
    r"financial disclosures/conflicts of interest|source\(s\) of funding|composition of group that authored the guideline|"
    r"guideline developer\(s\)|guideline developer comment|availability of companion documents|patient resources|"
    r"copyright statement|date released|(?:\w+\s+)?key questions?|useful resources|other resources|"
    r"responses? to public comments?)$",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=8192)
def _about(path: tuple[str, ...]) -> bool:
    return any(ABOUT_GUIDELINE_HEADING.match(h.strip()) for h in path)


def about_guideline(section_path: Sequence[str]) -> bool:
    """Whether a passage under ``section_path`` describes the guideline itself (any heading on the path)."""
    return _about(tuple(section_path))


# A sentence that only says where the guideline defines its grades or lists its authors: "The grades of recommendations
# (A-D, I, and EO) … are defined at the end of the "Major Recommendations" field." Read by the gate, never quoted (stop 39).
_POINTER = re.compile(r"\b(?:is|are|can be)\s+(?:defined|provided|presented|described|listed|found|given)\s+at the end of the\b", re.I)


def points_elsewhere(sentence: str) -> bool:
    """Whether ``sentence`` only points to where the guideline defines its grading scheme or lists its participants."""
    return "at the end of the" in sentence and _POINTER.search(sentence) is not None

