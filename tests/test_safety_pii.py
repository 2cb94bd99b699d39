"""Identifier masking: what is masked, what clinical text is left alone, and log records."""

from __future__ import annotations

import logging

import pytest

from app.safety.pii import PIIMaskingFilter, install_log_masking, mask_identifiers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reach me at jane.doe+clinic@example.org today", "Reach me at [EMAIL] today"),
        ("Call (555) 123-4567 after 5", "Call [PHONE] after 5"),
        ("Call 555-123-4567.", "Call [PHONE]."),
        ("Phone +1 555 123 4567", "Phone [PHONE]"),
        ("cell 555.123.4567", "cell [PHONE]"),
        ("MRN 1234567 admitted", "MRN [MRN] admitted"),
        ("MRN: A1234567", "MRN: [MRN]"),
        ("medical record number 12345678 reviewed", "medical record number [MRN] reviewed"),
        ("DOB 01/02/1980", "DOB [DOB]"),
        ("she was born on March 3, 1975 in Ohio", "she was born on [DOB] in Ohio"),
        ("date of birth: 1980-01-02", "date of birth: [DOB]"),
        ("SSN 123-45-6789", "SSN [SSN]"),
        ("social security number 123456789", "social security number [SSN]"),
        ("Mr. John Smith has type 2 diabetes", "Mr. [NAME] has type 2 diabetes"),
        ("Mrs. Mary J. Blige, 72, with HFrEF", "Mrs. [NAME], 72, with HFrEF"),
        ("patient Jane Doe, DOB 3/4/1950, on warfarin", "patient [NAME], DOB [DOB], on warfarin"),
        ("Jane Doe (born on 3 March 1950) reports", "[NAME] (born on [DOB]) reports"),
        ("Patient name: Mary Ann Lee", "Patient name: [NAME]"),
    ],
)
def test_masks_identifiers(text: str, expected: str) -> None:
    assert mask_identifiers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Metformin 500 mg twice daily, up to 2000 mg/day.",
        "Screen adults aged 45 to 75 years every 3-5 years.",
        "Target BP below 140/90 mmHg; repeat in 2-4 weeks.",
        "USPSTF 2016 recommendation (Grade B); updated 2021.",
        "CDC Clinical Practice Guideline for Prescribing Opioids for Pain, 2022; MMWR 2022;71(RR-3):1-95.",
        "Published 01/02/2020; reaffirmed 2023-05-01.",
        "INR 2.0-3.0; ICD-10 E11.9; eGFR 30-59 mL/min/1.73 m2; doses of 100 250 1000 mg",
        "AHRQ Pub. No. 05-0566-A, 3 pages",
        "Poison Control: 1-800-222-1222",
        "Dr. Smith recommends the Patient Health Questionnaire (PHQ-9).",
        "The Patient Protection and Affordable Care Act covers screening.",
        "Oxygen saturation 92%, heart rate 110 bpm at 10:30.",
    ],
)
def test_leaves_clinical_text_alone(text: str) -> None:
    assert mask_identifiers(text) == text


def test_empty_text() -> None:
    assert mask_identifiers("") == ""


def _capture(logger: logging.Logger) -> tuple[list[str], logging.Handler]:
    lines: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = ListHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    return lines, handler


def test_filter_masks_message_args_and_exception() -> None:
    logger = logging.getLogger("guideground.test_pii_filter")
    logger.propagate = False
    lines, handler = _capture(logger)
    handler.addFilter(PIIMaskingFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("question from %s: %s", "jane@example.com", "patient Jane Doe, DOB 3/4/1950")
        logger.info("lookup %(mrn)s", {"mrn": "MRN 1234567"})
        try:
            raise ValueError("bad phone 555-123-4567")
        except ValueError:
            logger.exception("failed for SSN 123-45-6789")
    finally:
        logger.removeHandler(handler)
    text = "\n".join(lines)
    assert "question from [EMAIL]: patient [NAME], DOB [DOB]" in text
    assert "lookup MRN [MRN]" in text
    assert "failed for SSN [SSN]" in text
    assert "bad phone [PHONE]" in text
    for raw in ("jane@example.com", "Jane Doe", "3/4/1950", "1234567", "555-123-4567", "123-45-6789"):
        assert raw not in text


def test_filter_keeps_uvicorn_access_args_shape() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/v1/query?email=a@b.org", "1.1", 200), None,
    )
    assert PIIMaskingFilter().filter(record)
    assert isinstance(record.args, tuple) and len(record.args) == 5
    assert record.getMessage() == '127.0.0.1:5000 - "GET /v1/query?email=[EMAIL] HTTP/1.1" 200'


def test_install_log_masking_masks_app_logger(caplog: pytest.LogCaptureFixture) -> None:
    flt = install_log_masking()
    try:
        install_log_masking()  # idempotent: a second call adds no second filter
        assert sum(isinstance(f, PIIMaskingFilter) for f in logging.getLogger("guideground").filters) == 1
        with caplog.at_level(logging.INFO, logger="guideground"):
            logging.getLogger("guideground").info("refused question from Mr. John Smith (555) 123-4567")
        assert "Mr. [NAME]" in caplog.text and "[PHONE]" in caplog.text
        assert "John Smith" not in caplog.text and "123-4567" not in caplog.text
    finally:
        for name in ("guideground", "uvicorn.access", "uvicorn.error"):
            lg = logging.getLogger(name)
            for f in [f for f in lg.filters if isinstance(f, PIIMaskingFilter)]:
                lg.removeFilter(f)
        for h in logging.getLogger().handlers:
            for f in [f for f in h.filters if isinstance(f, PIIMaskingFilter)]:
                h.removeFilter(f)
        del flt
