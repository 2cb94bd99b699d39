"""Ingest wing: parses guidelines, chunks them and owns the on-disk index format."""
