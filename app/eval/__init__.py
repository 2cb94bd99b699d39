"""Evaluation: run cases through the query path, score them, write JSON + HTML reports, gate on regressions.

cases.py (case format and loader) → runner.py (ask every case, fetch cited chunks) →
metrics.py (retrieval, evidence, citations, abstention, safety, latency) → report.py (JSON schema,
HTML) → compare.py (delta table and regression gate). datasets.py builds evaluation corpora and
cases from the shared data; cli.py is the `guideground eval` command. See docs/eval.md.
"""
