"""The grounding check that generated sentences must pass, and its measured bars on the planted-error sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.query.support import GroundingChecker, split_sentences
from app.query.support.numbers import numbers_supported, quantities

REPO = Path(__file__).resolve().parents[1]
PLANTED = REPO / "evalsets" / "planted"
CRC = "Adults aged 45 to 75 years at average risk should be screened for colorectal cancer."


@pytest.fixture(scope="module")
def checker() -> GroundingChecker:
    return GroundingChecker()


def test_quantities_keep_units_and_ranges():
    assert quantities("aged 45 to 75 years") == {("45", "year"), ("75", "year")}
    assert quantities("81 mg/d, 1,500 mg per day, 10%") >= {("81", "mg/day"), ("1500", "mg"), ("10", "%")}
    assert ("2", "time") in quantities("twice a year") and ("B", "grade") in quantities("Grade B")


@pytest.mark.parametrize(
    "claim,ok",
    [
        ("Screen from 45 years.", True),
        ("Screen from 50 years.", False),  # a number the passage does not give
        ("Screen from 45 months.", False),  # the number with another unit
        ("Screen from age 45.", True),  # a bare number the passage gives
    ],
)
def test_numbers_need_their_units(claim, ok):
    assert numbers_supported(CRC, claim) is ok


@pytest.mark.parametrize(
    "premise,claim,ok",
    [
        (CRC, "Adults aged 45 to 75 years at average risk should be screened for colorectal cancer.", True),
        (CRC, "Average-risk adults aged 45 to 75 years should have colorectal cancer screening.", True),
        (CRC, "Adults aged 45 to 75 years should not be screened for colorectal cancer.", False),
        (CRC, "Children aged 45 to 75 years should be screened for colorectal cancer.", False),
        (CRC, "Adults aged 45 to 75 years should be screened for lung cancer.", False),
        (CRC, "At what age should adults be screened for colorectal cancer?", False),
        ("For patients with low back pain, the Work Group recommends against benzodiazepines.",
         "Benzodiazepines are not recommended for low back pain.", True),
        ("For patients with low back pain, the Work Group recommends against benzodiazepines.",
         "The Work Group recommends benzodiazepines for low back pain.", False),
        ("Do not start metformin when the eGFR is between 30 and 45, and stop metformin when the eGFR falls below 30.",
         "Metformin should be stopped when the eGFR falls below 30.", True),
        ("Do not start metformin when the eGFR is between 30 and 45, and stop metformin when the eGFR falls below 30.",
         "Metformin should not be stopped when the eGFR falls below 30.", False),
        ("Give aspirin 81 mg daily.", "Give ibuprofen 81 mg daily.", False),
        (CRC, "", False),
        # "vaccinated against" is not a direction; "vaccinated" / "vaccination" are one word
        ("All adults aged 19 to 59 years should be vaccinated against hepatitis B.",
         "Adults aged 19 to 59 years should all receive hepatitis B vaccination.", True),
        ("All adults aged 19 to 59 years should be vaccinated against hepatitis B.",
         "Adults aged 19 to 59 years should not receive hepatitis B vaccination.", False),
        ("Give a tetanus vaccine if 10 years or more have passed since the last dose.",
         "A tetanus vaccine is due when at least 10 years have passed since the last dose.", True),
        ("Give a tetanus vaccine if 10 years or more have passed since the last dose.",
         "A tetanus vaccine is due when fewer than 10 years have passed since the last dose.", False),
        # a label number is not a quantity that "twice" can stand in for
        ("Recommendation 1: Measure HbA1c twice a year.", "Recommendation 2: Measure HbA1c twice a year.", False),
        # a "not" taken out where the premise also says the same words without it
        ("Measure HbA1c twice a year in adults who are meeting their glycemic goal, and every 3 months in adults who are not meeting their goal.",
         "Measure HbA1c every 3 months in adults who are meeting their goal.", False),
        # a "not" put on a verb the premise never negates, though the premise negates something else
        ("Obtain blood cultures before the first dose of antibiotics whenever this does not delay treatment.",
         "Blood cultures should not be taken before the first dose of antibiotics.", False),
        ("The recommendations do not apply to patients receiving palliative care.",
         "The recommendations do not cover palliative care.", True),
    ],
)
def test_supports(checker, premise, claim, ok):
    assert checker.supports(premise, claim) is ok


def test_supporting_spans_point_at_the_sentences(checker):
    text = "Screening is free. " + CRC + " Colonoscopy is one option."
    spans = checker.supporting_spans(text, split_sentences(text), "Adults at average risk aged 45 to 75 years should be screened.")
    assert spans is not None and [text[a:b] for a, b in spans] == [CRC]


def _rates(path: Path, checker: GroundingChecker) -> tuple[float, float, int, int]:
    """(catch rate on planted errors, rejection rate on paraphrases) through the checker; uncited items are the Verifier's."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    errors = [it for it in items if it["expect"] == "reject" and it["cited"] == [1]]
    paras = [it for it in items if it["expect"] == "accept"]

    def ok(it: dict) -> bool:
        return checker.supporting_spans(it["premise"], [tuple(s) for s in it["sentences"]], it["claim"]) is not None

    caught = sum(not ok(it) for it in errors)
    rejected = sum(not ok(it) for it in paras)
    return caught / len(errors), rejected / len(paras), len(errors), len(paras)


def test_planted_set_bars(checker):
    """The development set (evalsets/planted/planted.jsonl): catch ≥ 0.99 of planted errors, reject ≤ 0.05 of paraphrases."""
    catch, reject, n_err, n_para = _rates(PLANTED / "planted.jsonl", checker)
    assert n_err >= 300 and n_para >= 50
    assert catch >= 0.99, catch
    assert reject <= 0.05, reject


def test_heldout_set_is_measured(checker):
    """Written after tuning; reported in docs/benchmarks.md. Looser bars: it is small and was not tuned on."""
    catch, reject, _, _ = _rates(PLANTED / "heldout.jsonl", checker)
    assert catch >= 0.95, catch
    assert reject <= 0.15, reject


@pytest.mark.parametrize("name,n_pairs,max_reject", [("heldout2", 48, 0.70), ("heldout3", 48, 0.30), ("heldout4", 60, 0.50)])
def test_llm_style_paraphrase_sets_catch_planted_errors(checker, name, n_pairs, max_reject):
    """LLM-style paraphrase sets written by helpers who never saw these rules. The catch rate must hold; the
    false-rejection rate on free paraphrases is high (docs/benchmarks.md: 0.43 on heldout4, the set never looked
    at) and is only bounded here, just above today's figure, so that a change making it worse is noticed."""
    catch, reject, n_err, n_para = _rates(PLANTED / f"{name}.jsonl", checker)
    assert n_err >= 250 and n_para == n_pairs
    assert catch >= 0.98, catch
    assert reject <= max_reject, reject


@pytest.mark.parametrize(
    "premise,claim,ok",
    [
        # bounds said another way
        ("Aim for a reduction of at least 50% in the score.", "Aim to lower the score by 50% or more.", True),
        ("The total number of inhalations in one day should not exceed 12.", "No more than 12 inhalations should be taken in one day.", True),
        ("The total number of inhalations in one day should not exceed 12.", "More than 12 inhalations should be taken in one day.", False),
        # "recommends not" is "recommends against"; "whether or not" negates nothing
        ("The Work Group recommends not adjusting treatment strategy based on mechanism of injury.",
         "The Work Group recommends against changing the treatment strategy based on the mechanism of injury.", True),
        ("Give 2 doses whether or not they have had shingles.", "Give 2 doses whether they have had shingles or not.", True),
        ("Give 2 doses whether or not they have had shingles.", "Give 2 doses whether or they have had shingles.", False),
        # privative phrasing
        ("The USPSTF recommends against screening for COPD in asymptomatic adults.", "According to the USPSTF, adults without symptoms should not be screened for COPD.", True),
        # degree and frequency words name nothing, unless the premise says another word of the same scale
        ("Base the diagnosis on the average of at least 2 readings.", "Base the diagnosis on the mean of 2 or more readings.", True),
        ("Take 81 mg of aspirin per day.", "Take 81 mg of aspirin daily.", True),
        ("Take 81 mg of aspirin weekly.", "Take 81 mg of aspirin daily.", False),
        ("Take 81 mg of aspirin per day.", "Take 81 mg of ibuprofen daily.", False),
    ],
)
def test_paraphrase_rules(checker, premise, claim, ok):
    assert checker.supports(premise, claim) is ok
