"""guideground: grounded clinical Q&A over clinical practice guidelines."""

__version__ = "0.1.0"
