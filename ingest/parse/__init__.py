"""Parse stage: bytes of one guideline file → a normalized :class:`ParsedDocument`."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from ingest.documents import Block, DocMeta, IngestParams, ParsedDocument
from ingest.errors import BadInput
from ingest.parse.labelled import labelled_meta
from ingest.sniff import Sniffed

NO_SIDECAR = "no sidecar metadata row; doc_id/title taken from the file"
_SLUG = re.compile(r"[^a-z0-9]+")


def slug(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-") or "doc"


def read_sidecar(path: Path) -> dict[str, dict[str, str]]:
    """manifest.csv rows keyed by file name (doc_id,file,title,issuer,published,version,url,license)."""
    if not path.is_file():
        return {}
    rows: dict[str, dict[str, str]] = {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            f = (row.get("file") or "").strip()
            if f:
                rows[Path(f).name] = {k: (v or "").strip() for k, v in row.items() if k}
    return rows


def parse_document(sn: Sniffed, sidecar_row: dict[str, str] | None, params: IngestParams) -> ParsedDocument:
    row = sidecar_row or {}
    title_found: str | None = None
    pdf_meta: dict[str, str] = {}
    if sn.format == "pdf" and params.pdf_parser == "pymupdf":
        from ingest.parse.pdf import parse_pdf

        blocks, warnings, pdf_meta = parse_pdf(sn.data)
        title_found = pdf_meta.get("title")
    else:
        from ingest.parse.unstructured_parser import parse_with_unstructured

        blocks, warnings, title_found = parse_with_unstructured(sn.data, sn.format)
    if not blocks:
        raise BadInput("no text found", hint="is the document empty or image-only?")
    found = labelled_meta(blocks) if not (row.get("issuer") and row.get("published")) else {}
    meta = DocMeta(
        doc_id=row.get("doc_id") or slug(sn.path.stem),
        title=row.get("title") or title_found or sn.path.stem,
        issuer=row.get("issuer") or pdf_meta.get("author", "") or found.get("issuer", ""),
        published=row.get("published") or found.get("published", ""),
        version=row.get("version", ""),
        url=row.get("url", ""),
        license=row.get("license", ""),
        source_file=sn.path.name,
        format=sn.format,
    )
    if not sidecar_row:
        read = " and ".join(f for f in ("issuer", "published") if found.get(f) and getattr(meta, f) == found[f])
        warnings.append(NO_SIDECAR + (f", {read} from its labelled fields" if read else ""))
    return ParsedDocument.assemble(meta, quarantine_instructions(blocks), warnings)


def quarantine_instructions(blocks: list[Block]) -> list[Block]:
    """Move instruction-like paragraphs (prompt injection) to the end of the document.

    They stay in the index as data (flagged, shown by `inspect`, never cited), and the rest of
    the document is cut exactly as it would be without them: same chunks, same spans, same ids.
    """
    from ingest.injection import is_instruction_like

    stack: list[tuple[int, str]] = []
    clean: list[Block] = []
    moved: list[Block] = []
    for b in blocks:
        if b.kind == "heading":
            while stack and stack[-1][0] >= b.level:
                stack.pop()
            stack.append((b.level, b.text))
            clean.append(b)
        elif is_instruction_like(b.text):
            b.quarantine_path = [t for _, t in stack]
            moved.append(b)
        else:
            clean.append(b)
    return clean + moved
