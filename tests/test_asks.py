"""What a question asks for, and whether a sentence holds that kind of item."""

from __future__ import annotations

import pytest

from app.query.asks import (
    ACTION_MENTION,
    UNIT_WITH_NUMBER,
    ask_part,
    asked_actions,
    asked_kinds,
    asked_units,
    item_match,
    sentence_items,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("At what age should colorectal cancer screening start?", "age"),
        ("My patient is a 62-year-old former smoker. How often should she have low-dose CT?", "interval"),
        ("What aspirin dose should a pregnant woman at high risk of preeclampsia take?", "dose"),
        ("What grade did the USPSTF give to AAA screening in men who never smoked?", "grade"),
        ("Which adults should be screened for hepatitis C?", "population"),
        ("Does the USPSTF recommend screening for oral cancer in adults?", "yes_no"),
        ("How long should an opioid prescription for acute pain last?", "duration"),
        # a concentration is a threshold, not a dose; so is a named scale's score or a "value", words apart from "what"
        ("Which non-HDL cholesterol value in mg/dL defines borderline-high in adolescents?", "threshold"),
        ("What Edinburgh Postnatal Depression Scale score should prompt further evaluation?", "threshold"),
    ],
)
def test_asked_kind(question, kind):
    assert kind in asked_kinds(question)


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        # a time point in weeks or days is answered by a duration ("after 12 weeks of gestation")
        ("A 30-year-old on aspirin 81 mg is now 35 weeks. At what gestational week should aspirin be stopped?", {"duration"}),
        ("From what gestational age does the task force recommend screening?", {"duration"}),
        ("Above which pack-year count does the USPSTF suggest offering spirometry?", {"threshold", "number"}),
        # a value of something the question names: any number answers it, not a named kind
        ("At what LDL does VA/DoD recommend adding a PCSK9 inhibitor?", {"number"}),
        ("To what hemoglobin should I transfuse preoperatively?", {"number"}),
        ("What is the maximum total daily acetaminophen intake the guideline allows?", {"number"}),
        ("What waist circumference cut-offs does the guideline use to define increased risk?", {"threshold"}),  # plural
        ("How many million units of benzathine penicillin G should I give?", {"dose", "number"}),
        ("At what age should screening stop?", {"age"}),  # not a number of "age"
        # how soon, how recent, how far back: a time, which a duration answers ("within 60 minutes", "in the past 60 days")
        ("A 19-year-old with HbSS arrives at triage in crisis. How quickly after triage should analgesia be started?", {"duration"}),
        ("Within what window after transfusion should a delayed hemolytic reaction be suspected?", {"duration"}),
        ("How far back should sex partners be traced for evaluation?", {"duration"}),
        ("How recent must weight-bearing radiographs be before the referral?", {"duration"}),
        # a value under another name: a ratio after a hyphenated word, a concentration, a size, how common
        ("What post-bronchodilator FEV1/FVC ratio confirms airflow obstruction?", {"number"}),
        ("What concentration of fluoride varnish does the USPSTF recommend?", {"number"}),
        ("How common is dementia among Americans in their 80s?", {"number"}),
        ("In which situations should a clinician consider naloxone?", set()),
        ("What does the USPSTF say about screening for glaucoma?", set()),
    ],
)
def test_asked_kinds_exactly(question, kinds):
    assert asked_kinds(question) == kinds


@pytest.mark.parametrize(
    ("question", "ask"),
    [
        # "U.S." and "St." end no sentence: the asking part keeps "for how many days" and the whole name
        ("Woman getting her first DMPA injection on cycle day 12 — for how many days does the U.S. SPR say she needs "
         "condoms as backup?", "Woman getting her first DMPA injection on cycle day 12 — for how many days does the U.S. SPR say she "
         "needs condoms as backup?"),
        ("What daily dose of St. John's wort does the VA/DoD guideline suggest?", "What daily dose of St. John's wort does the VA/DoD "
         "guideline suggest?"),
        ("A man has chronic hepatitis B. What dose of tenofovir?", "What dose of tenofovir?"),  # "B." does end one
    ],
)
def test_ask_part_does_not_split_after_an_abbreviation(question, ask):
    assert ask_part(question) == ask
    assert ask in question


def test_low_dose_ct_is_not_a_dose_question_and_vignette_reads_its_last_sentence():
    q = "A 58-year-old has a 30 pack-year history. She asks about low-dose CT. How often should she be screened?"
    assert asked_kinds(q) == {"interval"}


def test_item_match_needs_the_asked_kind():
    dose = "The USPSTF recommends low-dose aspirin (81 mg/d) after 12 weeks of gestation in women at high risk."
    ages = "Screen adults aged 50 to 75 years for colorectal cancer."
    assert "dose" in sentence_items(dose) and "age" in sentence_items(ages)
    assert item_match(frozenset({"dose"}), sentence_items(dose)) == 1.0
    assert item_match(frozenset({"interval"}), sentence_items(ages)) == 0.0  # a nearby number is not the asked item
    assert item_match(frozenset(), sentence_items(ages)) == 1.0  # an open question asks for no kind


@pytest.mark.parametrize(
    ("question", "units"),
    [
        ("A veteran starts lithium. What target serum level in mEq/L does the guideline recommend?", {"meq"}),
        ("Above which CA-125 value in U/mL does the statement call for referral?", {"u/ml"}),
        ("For how many seconds should staff rub their hands with alcohol-based rub?", {"second"}),
        ("I gave him the STOP-Bang questionnaire. What score out of 8 should trigger referral?", {"score"}),
        ("What Edinburgh Postnatal Depression Scale score should prompt further evaluation?", {"score"}),
        ("Above which pack-year count should spirometry be offered?", {"pack-year"}),
        ("A 45-year-old smokes 20 cigarettes a day. Should he be screened?", set()),  # units in the vignette, not asked
        ("At what age should colorectal cancer screening start?", set()),
    ],
)
def test_asked_units_read_the_asking_sentence(question, units):
    assert asked_units(question) == units


def test_a_value_in_a_unit_needs_a_number_in_that_unit():
    assert UNIT_WITH_NUMBER["meq"].search("keep serum lithium at 0.6 to 1.0 mEq/L")
    assert not UNIT_WITH_NUMBER["meq"].search("check serum lithium levels regularly")
    assert UNIT_WITH_NUMBER["score"].search("a PHQ-9 score of 10 or higher")
    assert UNIT_WITH_NUMBER["sensitivity"].search("sensitivity ranged from 52% to 100%")
    assert not UNIT_WITH_NUMBER["sensitivity"].search("adjuncts have not been adequately tested for sensitivity")


@pytest.mark.parametrize(
    ("question", "actions"),
    [
        ("A 30-year-old on aspirin 81 mg is now 35 weeks. At what gestational week should aspirin be stopped before delivery?", {"stop"}),
        ("What gabapentin titration schedule does the amputation guideline recommend?", {"titrate"}),
        ("What score out of 8 should trigger referral for polysomnography?", {"refer"}),
        ("Above what HBV DNA level should antiviral therapy be started?", {"start"}),
        ("Would starting her on daily low-dose aspirin improve her outcomes?", set()),  # yes or no: no item asked
        ("She stopped smoking last year. At what age should screening begin?", {"start"}),  # the vignette's action is not asked
        ("What does the guideline say about aspirin?", set()),
    ],
)
def test_asked_actions_read_the_asking_part(question, actions):
    assert asked_actions(question) == actions


def test_an_action_is_found_in_any_of_its_words():
    assert ACTION_MENTION["stop"].search("Discontinue screening after age 75.")
    assert ACTION_MENTION["start"].search("Initiating therapy is recommended at 12 weeks.")
    assert ACTION_MENTION["taper"].search("Clinicians should reduce the dose gradually.")  # tapering, in other words
    assert not ACTION_MENTION["taper"].search("Reducing opioid misuse is a priority.")
    assert not ACTION_MENTION["stop"].search("Low-dose aspirin is recommended after 12 weeks of gestation.")


@pytest.mark.parametrize(
    ("action", "text", "mentions"),
    [
        # boilerplate every NGC summary carries: with these, 98 of the shared corpus's 100 documents "said stop"
        ("stop", 'The definitions of these grades can be found at the end of the "Major Recommendations" field.', False),
        ("stop", "Patients with end-stage renal disease were excluded.", False),
        ("stop", "Treatment should end at 36 weeks of gestation.", True),
        ("stop", "Screening ends at age 75.", True),
        ("start", "Data from the Women's Health Initiative trial were reviewed.", False),
        ("start", "Initiation of therapy is recommended at 12 weeks.", True),
        ("refer", "One of the key questions in the analytic framework refers to the potential harms.", False),
        ("refer", "Data on patient visits, referrals, and test results are not always centralized.", False),
        ("refer", "This is referred to as the pooled cohort equation.", False),
        ("refer", "Clinicians should refer to the table below.", False),
        ("refer", "Clinicians should refer adolescents with positive screens for treatment.", True),
        ("refer", "Refer to a cardiologist when the ABI is below 0.9.", True),
        ("refer", "Offer referrals to intensive behavioral interventions.", True),
        ("refer", "A referral was made.", True),
    ],
)
def test_an_action_is_not_found_in_boilerplate(action, text, mentions):
    assert bool(ACTION_MENTION[action].search(text)) is mentions


def test_framing_words_are_not_asked_words_the_guideline_lacks(demo_index):
    """"What does the guideline *say* …", "as *cited* …", "should I test *him*": the document signals do not count a
    clinician's framing words as rare asked words missing from the guideline (they would lower its coverage)."""
    from app.query.signals import document_signals, framing_terms
    from ingest.store import current_version, load_version

    root = demo_index[0]
    idx = load_version(root, current_version(root))
    doc_id = next(c.doc_id for c in idx.chunks if "olorectal" in c.title)
    plain = document_signals(idx, "At what age should colorectal cancer screening start?", doc_id)
    framed = document_signals(idx, "At what age, as cited, should colorectal cancer screening start for him, say?", doc_id)
    assert {"say", "cite", "him"} <= framing_terms(idx.bm25)
    assert framed["ask_cov_doc"] == pytest.approx(plain["ask_cov_doc"])
    assert framed["ask_missing_doc"] == pytest.approx(plain["ask_missing_doc"])
    # a real asked word the guideline lacks still counts
    lacking = document_signals(idx, "At what age should colorectal cancer screening with capsule endoscopy start?", doc_id)
    assert lacking["ask_cov_doc"] < plain["ask_cov_doc"] - 0.1


def test_a_value_must_be_given_in_a_sentence_naming_the_subject(demo_index):
    """"What dose of sedation …": the guideline names sedation, and gives doses elsewhere, but no sentence about
    sedation holds a number; "at what age … start" has its age in a sentence about colorectal screening."""
    from app.query.signals import document_signals
    from ingest.store import current_version, load_version

    root = demo_index[0]
    idx = load_version(root, current_version(root))
    doc_id = next(c.doc_id for c in idx.chunks if "olorectal" in c.title)
    sig = lambda q: document_signals(idx, q, doc_id)["subject_value_absent"]  # noqa: E731
    assert sig("At what age should colorectal cancer screening start?") == 0.0
    assert sig("How often should a CT colonography be repeated after a normal result?") == 0.0
    assert sig("What dose of sedation is used for a screening colonoscopy?") == 1.0
    assert sig("How many milligrams of tenofovir are used for sedation?") == 1.0  # the rarest word no sentence names: the next
    assert sig("Should adults with rectal bleeding have a screening test?") == 0.0  # no value asked
    # two asked kinds need one sentence giving both: colonoscopy has its interval ("Every 10 years"), no age beside it
    assert sig("How often should a colonoscopy be repeated?") == 0.0
    assert sig("At what age, and how often, should a colonoscopy be repeated?") == 1.0
    # a number in the asked unit: "3,500 to 5,000 mg of dietary potassium"; the emergency sentence gives mm Hg only
    unit = lambda q: document_signals(idx, q, "demo-htn-2026")["subject_unit_absent"]  # noqa: E731
    sig_htn = lambda q: document_signals(idx, q, "demo-htn-2026")["subject_value_absent"]  # noqa: E731
    assert unit("How many mg of potassium should adults aim for each day?") == 0.0
    assert unit("How many mg of medicine should be given in a hypertensive emergency?") == 1.0
    assert unit("How many mm Hg above target is a hypertensive emergency?") == 0.0
    assert unit("Should adults with a hypertensive emergency go to hospital?") == 0.0  # no unit asked
    # the two rarest asked words together: potassium has its dose, but not in a sentence about emergencies
    both = lambda q: document_signals(idx, q, "demo-htn-2026")["subjects_value_absent"]  # noqa: E731
    assert both("How many mg of potassium should adults aim for each day?") == 0.0
    assert both("How many mg of potassium should be given in a hypertensive emergency?") == 1.0
    assert sig_htn("How many mg of potassium should be given in a hypertensive emergency?") == 0.0


def test_a_concentration_is_not_a_dose():
    assert "dose" not in asked_kinds("Which non-HDL cholesterol value in mg/dL defines borderline-high in adolescents?")
    assert "dose" in asked_kinds("How many mg of naltrexone should be started?")


def test_lazy_items_answer_as_the_eager_set(demo_index):
    """``Items`` (what the gate uses) searches a pattern only when its kind is looked up; every lookup and every
    item_match over the demo index's sentences must agree with ``sentence_items``."""
    from itertools import combinations

    from app.query.asks import ASK_PATTERNS, ITEM_PATTERNS
    from app.query.items import Items
    from ingest.store import load_version

    idx = load_version(demo_index[0])
    texts = [ch.text[s.start : s.end] for ch in idx.chunks for s in ch.sentences]
    asks = [frozenset(c) for n in (0, 1, 2) for c in combinations(sorted(ASK_PATTERNS), n)]
    n_items = 0
    for t in texts:
        eager = sentence_items(t)
        n_items += len(eager)
        for a in asks:
            assert item_match(a, Items(t)) == item_match(a, eager), (t, a)
        lazy = Items(t)
        assert {k for k in ITEM_PATTERNS if k in lazy} == eager
        assert "not-a-kind" not in lazy
    assert len(texts) > 300 and n_items > len(texts)  # the sentences hold items of several kinds


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        # asks typed in a hurry (evalsets/terse): no question word, the kind still asked
        ("Non-radicular LBP, no red flags: VA/DoD weeks without improvement before lumbar MRI?", {"duration"}),
        ("pack-a-day smoker: starting nicotine patch mg/24h per USPSTF?", {"dose"}),
        ("USPSTF anemia Hb cutoff g/dL, age 12-24 months", {"threshold"}),
        ("56F avg risk, mammogram yearly? USPSTF 2016 interval and ages?", {"age", "interval"}),
        ("OUD post-detox, abstinent, can't use agonists: oral naltrexone recommended?", {"yes_no"}),
        ("11-month-old HbSS, no complications yet — offer hydroxyurea now?", {"yes_no"}),
        ("What % of subclinical hypothyroidism normalizes without treatment?", {"number"}),
        # a choice, or what a guideline says, is not a yes/no ask
        ("Bell's palsy <48h: prednisolone alone or add valacyclovir?", set()),
        ("USPSTF stance on screening kids/teens for primary HTN?", set()),
        # the patient's age, a weeks-old infant or a number of weeks is not an asked age or duration
        ("Does VA/DoD guidance allow long-term opioids for someone his age?", {"yes_no"}),
        ("6-week-old infant, 3 weeks of cough: pertussis testing needed?", {"yes_no"}),
    ],
)
def test_terse_asks_are_read(question, kinds):
    assert asked_kinds(question) == kinds


def test_terse_reading_is_only_for_a_short_asking_part():
    # a long asking sentence is read by ASK_PATTERNS alone: "weeks" in a story is not an asked duration
    long_q = ("After three weeks of daily lumbar pain that began lifting boxes at work, with no numbness, weakness, fever, "
              "weight loss or bladder symptoms, and normal reflexes on examination, imaging was ordered by urgent care?")
    assert len(long_q.split()) > 16 and asked_kinds(long_q) == frozenset()


def test_the_cached_reading_follows_the_terse_switch(monkeypatch):
    """asked_kinds is cached (stop 49); turning the terse reading off (TERSE_WORDS = 0, as an experiment does) must still
    change what a terse ask is read as, not return the cached reading."""
    import app.query.asks as asks

    q = "56F avg risk, mammogram yearly?"
    assert asks.asked_kinds(q) == {"interval"}
    monkeypatch.setattr(asks, "TERSE_WORDS", 0)
    assert asks.asked_kinds(q) == frozenset()
    monkeypatch.undo()
    assert asks.asked_kinds(q) == {"interval"}
