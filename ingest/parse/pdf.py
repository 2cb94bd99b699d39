"""PDF layer on PyMuPDF: column-aware reading order, font-based headings, running headers removed.

unstructured's ``fast`` PDF strategy interleaves two-column text and keeps running headers (see
docs/pdf-parsing.md), so PDFs go through this parser behind the same parse stage.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ingest.documents import Block, BlockKind
from ingest.errors import BadInput
from ingest.parse.normalize import looks_like_recommendation, normalize_text

# Bump when the blocks a PDF parses to change (what is joined or dropped): it is part of the index fingerprint, so
# an index built by an earlier revision is rebuilt rather than mixed. 2: a block opening with "(" continues a
# broken-off sentence; "Continued on the next page." marks are dropped.
REVISION = 2
# "(see Recommendation 9) or …", "(96) and …", "(161). When …": an aside the sentence goes on after (a table row's
# "(see also Drug Interactions) 1/2*" does not: a flattened table is left as it was)
_ASIDE_GOES_ON = re.compile(r"^\([^()]{1,80}\)\s*(?:[a-z]|[.,;:](?:\s|$))")
MARGIN_FRACTION = 0.08  # top/bottom band searched for running headers and footers
REPEAT_FRACTION = 0.25  # a margin line repeated on this share of pages is a running header/footer
_DIGITS = re.compile(r"\d+")
_PAGE_NO = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)
# A box's "Continued on the next page." (CDC's MMWR layout): a layout mark in the middle of a sentence.
_CONTINUED = re.compile(r"\s*\bcontinued (?:on|from) (?:the )?(?:next|previous|following) page\.?$", re.IGNORECASE)


@dataclass
class _Line:
    page: int
    text: str
    size: float
    bold: bool
    x0: float
    y0: float
    x1: float
    y1: float


def _is_bold(font: str, flags: int) -> bool:
    f = font.lower()
    return bool(flags & 16) or any(k in f for k in ("bold", "semibold", "heavy", "black", "hebo"))


def _page_lines(page, pno: int) -> list[list[_Line]]:
    """Blocks of lines for one page in reading order (full-width bands, then left and right columns)."""
    width = page.rect.width
    mid = width / 2
    blocks = []
    for b in page.get_text("dict", flags=0)["blocks"]:
        if b.get("type") != 0:
            continue
        lines: list[_Line] = []
        for ln in b.get("lines", []):
            spans = [s for s in ln["spans"] if s["text"].strip()]
            if not spans:
                continue
            text = "".join(s["text"] for s in ln["spans"])
            main = max(spans, key=lambda s: len(s["text"].strip()))
            bold_chars = sum(len(s["text"].strip()) for s in spans if _is_bold(s["font"], s["flags"]))
            total = sum(len(s["text"].strip()) for s in spans) or 1
            x0, y0, x1, y1 = ln["bbox"]
            lines.append(_Line(pno, text, round(main["size"], 1), bold_chars / total > 0.8, x0, y0, x1, y1))
        if lines:
            blocks.append(lines)
    if not blocks:
        return []

    def col(bl: list[_Line]) -> int:
        x0 = min(ln.x0 for ln in bl)
        x1 = max(ln.x1 for ln in bl)
        if x1 <= mid + 15:
            return 0
        if x0 >= mid - 15:
            return 1
        return -1  # spans both columns

    ordered: list[list[_Line]] = []
    band: list[list[_Line]] = []
    for bl in sorted(blocks, key=lambda bl: (bl[0].y0, bl[0].x0)):
        if col(bl) == -1:
            ordered.extend(sorted(band, key=lambda b: (col(b), b[0].y0)))
            band = []
            ordered.append(bl)
        else:
            band.append(bl)
    ordered.extend(sorted(band, key=lambda b: (col(b), b[0].y0)))
    return ordered


def parse_pdf(data: bytes) -> tuple[list[Block], list[str], dict[str, str]]:
    import pymupdf

    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # pymupdf raises its own FileDataError / RuntimeError
        raise BadInput(f"corrupt PDF: {exc}") from None
    if doc.needs_pass or doc.is_encrypted:
        raise BadInput("encrypted PDF: a password is required", hint="ask the issuer for an unprotected copy")
    if doc.page_count == 0:
        raise BadInput("corrupt PDF: no pages")
    warnings: list[str] = []
    pages: list[tuple[float, list[list[_Line]]]] = []
    try:
        for pno in range(doc.page_count):
            page = doc[pno]
            pages.append((page.rect.height, _page_lines(page, pno + 1)))
    except Exception as exc:
        raise BadInput(f"corrupt PDF: page {len(pages) + 1} cannot be read ({exc})") from None
    meta = {k: v for k, v in (doc.metadata or {}).items() if isinstance(v, str) and v}
    n_pages = doc.page_count
    doc.close()

    # 1. running headers/footers: margin lines whose digit-masked text repeats across pages.
    def key(t: str) -> str:
        return _DIGITS.sub("#", normalize_text(t).lower())

    margin_counts: Counter[str] = Counter()
    for height, blocks in pages:
        seen = set()
        for bl in blocks:
            for ln in bl:
                if ln.y1 < height * MARGIN_FRACTION or ln.y0 > height * (1 - MARGIN_FRACTION):
                    seen.add(key(ln.text))
        margin_counts.update(seen)
    threshold = max(2, int(n_pages * REPEAT_FRACTION)) if n_pages > 2 else 2
    running = {k for k, c in margin_counts.items() if c >= threshold}

    # 2. body font size and heading levels from font statistics.
    size_chars: Counter[float] = Counter()
    for _, blocks in pages:
        for bl in blocks:
            for ln in bl:
                size_chars[ln.size] += len(ln.text)
    if not size_chars:
        raise BadInput("PDF has no extractable text (scanned image?)", hint="OCR the PDF first")
    body = size_chars.most_common(1)[0][0]
    heading_sizes = sorted({s for s in size_chars if s >= body + 0.9}, reverse=True)

    blocks_out: list[Block] = []
    removed = 0
    for height, blocks in pages:
        for bl in blocks:
            kept = []
            for ln in bl:
                in_margin = ln.y1 < height * MARGIN_FRACTION or ln.y0 > height * (1 - MARGIN_FRACTION)
                t = normalize_text(ln.text)
                # A running header/footer line is never content, wherever it sits (e.g. the page-1 masthead).
                if key(ln.text) in running or (in_margin and _PAGE_NO.match(t)):
                    removed += 1
                    continue
                kept.append(ln)
            if not kept:
                continue
            text = normalize_text("\n".join(ln.text for ln in kept))
            if not text:
                continue
            size = max(ln.size for ln in kept)
            all_bold = all(ln.bold for ln in kept)
            short = len(text) <= 120 and len(kept) <= 3
            level = 0
            if short and size in heading_sizes:
                level = heading_sizes.index(size) + 1
            elif (
                short
                and all_bold
                and size >= body - 0.5
                and len(text.split()) <= 10
                and not text.endswith((".", ",", ";"))
            ):
                level = len(heading_sizes) + 1
            page_no = kept[0].page
            if level:
                blocks_out.append(Block("heading", text, level=min(level, 6), page=page_no))
            else:
                kind: BlockKind = "recommendation" if looks_like_recommendation(text) else "text"
                blocks_out.append(Block(kind, text, page=page_no))
    if removed:
        warnings.append(f"removed {removed} running header/footer/page-number lines")
    return _merge_continuations(blocks_out), warnings, meta


def _merge_continuations(blocks: list[Block]) -> list[Block]:
    """Join a paragraph split by a column or page break (previous block ends mid-sentence), and a
    heading wrapped over several text blocks."""
    out: list[Block] = []
    for b in blocks:
        prev = out[-1] if out else None
        if (
            prev is not None
            and b.kind == "heading"
            and prev.kind == "heading"
            and prev.level == b.level
            and prev.page == b.page
            and len(prev.text) + len(b.text) < 160
            and not re.fullmatch(r"(?i)(recommendation|section|chapter|part|appendix)\s+[\dA-Z]+\.?", prev.text)
        ):
            prev.text = f"{prev.text} {b.text}"
            continue
        if b.kind == "text" and _CONTINUED.fullmatch(b.text.strip()):
            continue  # the mark alone: layout, not content (what follows it joins the sentence it broke)
        if prev is not None and b.kind == "text" and prev.kind in ("text", "recommendation") and _continues(prev.text, b.text):
            prev.text = f"{_CONTINUED.sub('', prev.text)} {b.text}"
            continue
        out.append(b)
    return out


def _continues(prev: str, nxt: str) -> bool:
    """Whether ``nxt`` carries on the sentence ``prev`` broke off (a column or page break, a "Continued on the next
    page." mark): ``prev`` ends mid-sentence and ``nxt`` opens in lower case or with an aside the sentence goes on after: "… in PDMP data | (see Recommendation 9) or …", "… initiated | (96) and …"."""
    prev = _CONTINUED.sub("", prev)
    if not prev or prev.endswith((".", ":", "?", "!", ")", "]")):  # after ")": a grade, a table row's note
        return False
    return nxt[:1].islower() or bool(_ASIDE_GOES_ON.match(nxt))
