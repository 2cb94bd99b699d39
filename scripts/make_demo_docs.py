#!/usr/bin/env python3
"""Build the binary files of the demo corpus (DOCX and PDF) from Markdown sources.

Sources live in ``scripts/demo_sources/*.md`` and use a small Markdown subset:

    # Title                  document title            (DOCX: Title style;   PDF: 18 pt bold)
    ## Section               section heading           (DOCX: Heading 1;     PDF: 16 pt bold)
    ### Sub-section          sub-section heading       (DOCX: Heading 2;     PDF: 12.5 pt bold)
    - item                   bullet list item
    | a | b |                pipe table (second row is the |---| separator)
    anything else            a paragraph (one paragraph per line; blank lines separate blocks)

Outputs (written into ``guidelines/``):

    type2-diabetes.docx        python-docx, Heading 1/Heading 2 styles, one table
    asthma-stepwise.docx       python-docx, Heading 1/Heading 2 styles, one table
    adult-immunization.pdf     PyMuPDF, running header + "Page N of M" footer on every page,
                               bold headings (font "hebo"), 10.5 pt body text (font "helv"),
                               both embedded and subset so the em dash survives;
                               each numbered section starts on a new page

The output is deterministic: fixed document dates, fixed ZIP timestamps for DOCX, and no
time-dependent PDF metadata, so re-running the script gives byte-identical files.

Usage: python scripts/make_demo_docs.py [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "scripts" / "demo_sources"
DEFAULT_OUT = REPO / "guidelines"

DOCX_JOBS = [
    ("type2-diabetes.md", "type2-diabetes.docx"),
    ("asthma-stepwise.md", "asthma-stepwise.docx"),
]
PDF_JOBS = [
    ("adult-immunization.md", "adult-immunization.pdf", "Demo Guideline Series — Adult Immunization 2026"),
]
FIXED_DATE = dt.datetime(2026, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------- source parsing


@dataclass
class Block:
    kind: str  # title | h1 | h2 | p | li | table
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Source:
    blocks: list[Block]

    @property
    def title(self) -> str:
        return next(b.text for b in self.blocks if b.kind == "title")

    @property
    def issuer(self) -> str:
        """From the line "Issued by the <Issuer>, a fictional body created for this demo." """
        for b in self.blocks:
            m = re.match(r"Issued by (?:the )?(.+?)(?:, a fictional body.*)?\.?$", b.text)
            if b.kind == "p" and m:
                return m.group(1)
        return ""


def parse_source(text: str) -> Source:
    blocks: list[Block] = []
    table: list[list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                continue  # header separator row
            if table is None:
                table = []
                blocks.append(Block("table", rows=table))
            table.append(cells)
            continue
        table = None
        if not line:
            continue
        if line.startswith("### "):
            blocks.append(Block("h2", line[4:].strip()))
        elif line.startswith("## "):
            blocks.append(Block("h1", line[3:].strip()))
        elif line.startswith("# "):
            blocks.append(Block("title", line[2:].strip()))
        elif line.startswith("- "):
            blocks.append(Block("li", line[2:].strip()))
        else:
            blocks.append(Block("p", line))
    if sum(b.kind == "title" for b in blocks) != 1:
        raise ValueError("a source needs exactly one '# Title' line")
    return Source(blocks)


# --------------------------------------------------------------------------- DOCX


def build_docx(src: Source) -> bytes:
    import docx
    from docx.shared import Pt

    d = docx.Document()
    d.styles["Normal"].font.name = "Calibri"
    d.styles["Normal"].font.size = Pt(11)
    for b in src.blocks:
        if b.kind == "title":
            d.add_heading(b.text, level=0)  # "Title" style
        elif b.kind == "h1":
            d.add_heading(b.text, level=1)  # "Heading 1"
        elif b.kind == "h2":
            d.add_heading(b.text, level=2)  # "Heading 2"
        elif b.kind == "li":
            d.add_paragraph(b.text, style="List Bullet")
        elif b.kind == "table":
            ncols = max(len(r) for r in b.rows)
            t = d.add_table(rows=len(b.rows), cols=ncols)
            t.style = "Table Grid"
            for i, row in enumerate(b.rows):
                for j in range(ncols):
                    cell = t.cell(i, j)
                    cell.text = row[j] if j < len(row) else ""
                    if i == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
        else:
            d.add_paragraph(b.text)
    cp = d.core_properties
    cp.title = src.title
    cp.author = src.issuer
    cp.subject = "guideground demo corpus (demo content, not clinical advice)"
    cp.keywords = "demo; guideground"
    cp.comments = "Generated by scripts/make_demo_docs.py"
    cp.last_modified_by = "make_demo_docs.py"
    cp.revision = 1
    cp.created = FIXED_DATE
    cp.modified = FIXED_DATE
    cp.last_printed = FIXED_DATE
    buf = io.BytesIO()
    d.save(buf)
    return _normalize_zip(buf.getvalue())


def _normalize_zip(data: bytes) -> bytes:
    """Rewrite a ZIP package with fixed member timestamps so the bytes do not depend on the clock."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zout.writestr(zi, zin.read(info.filename))
    return out.getvalue()


# --------------------------------------------------------------------------- PDF

PAGE_W, PAGE_H = 612.0, 792.0  # US Letter, points
MARGIN_X = 72.0
TOP = 84.0  # first baseline region starts below the running header
BOTTOM = 716.0  # body text never goes below this y
HEADER_Y = 40.0  # baseline of the running header (inside the top 8% band)
FOOTER_Y = 760.0  # baseline of "Page N of M" (inside the bottom 8% band)

# PyMuPDF's built-in Helvetica pair ("helv" regular, "hebo" bold). The base-14 fonts only encode
# Latin-1 when used by name, which turns the em dash of the running header into a middle dot, so
# the same built-in font programs (pymupdf.Font("helv"/"hebo")) are embedded under these aliases
# and subset on save: full Unicode text, identical metrics.
BODY_FONT, BOLD_FONT = "helv", "hebo"
_ALIAS = {BODY_FONT: "helvU", BOLD_FONT: "heboU"}
_FONTS: dict = {}


def _font(name: str):
    import pymupdf

    if name not in _FONTS:
        _FONTS[name] = pymupdf.Font(name)
    return _FONTS[name]


def _text_len(text: str, font: str, size: float) -> float:
    return _font(font).text_length(text, fontsize=size)


STYLES = {
    # kind: (font, size, line height, space before, space after)
    "title": (BOLD_FONT, 18.0, 23.0, 0.0, 12.0),
    "h1": (BOLD_FONT, 16.0, 20.0, 6.0, 10.0),
    "h2": (BOLD_FONT, 12.5, 16.0, 8.0, 6.0),
    "p": (BODY_FONT, 10.5, 14.0, 0.0, 8.0),
    "li": (BODY_FONT, 10.5, 14.0, 0.0, 4.0),
}
BULLET_INDENT = 6.0
BULLET = "\u2022  "


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    cur = ""
    for word in text.split():
        cand = f"{cur} {word}" if cur else word
        if _text_len(cand, font, size) <= width:
            cur = cand
            continue
        if cur:
            lines.append(cur)
        if _text_len(word, font, size) > width:
            raise ValueError(f"word too long for the text width: {word!r}")
        cur = word
    if cur:
        lines.append(cur)
    return lines


@dataclass
class Placed:
    x: float
    y: float  # baseline
    text: str
    font: str
    size: float


def layout_pdf(src: Source) -> list[list[Placed]]:
    """Place every line on a page. Paragraphs are never split across pages; a heading is kept
    with the start of the block that follows it; every section ('## ') after the first starts a
    new page."""
    full_w = PAGE_W - 2 * MARGIN_X
    pages: list[list[Placed]] = [[]]
    y = TOP
    seen_h1 = False

    def new_page() -> None:
        nonlocal y
        pages.append([])
        y = TOP

    def block_lines(b: Block) -> tuple[list[tuple[float, str]], str, float, float, float, float]:
        font, size, lh, before, after = STYLES[b.kind]
        if b.kind == "li":
            # hanging indent: "•  first line" / continuation lines aligned with the text
            indent = _text_len(BULLET, font, size)
            wrapped = _wrap(b.text, font, size, full_w - BULLET_INDENT - indent)
            lines = [(MARGIN_X + BULLET_INDENT, BULLET + wrapped[0])]
            lines += [(MARGIN_X + BULLET_INDENT + indent, ln) for ln in wrapped[1:]]
        else:
            lines = [(MARGIN_X, ln) for ln in _wrap(b.text, font, size, full_w)]
        return lines, font, size, lh, before, after

    blocks = src.blocks
    for i, b in enumerate(blocks):
        if b.kind == "table":
            raise ValueError("tables are not supported in the PDF source")
        lines, font, size, lh, before, after = block_lines(b)
        if b.kind == "h1":
            if seen_h1 and pages[-1]:
                new_page()
            seen_h1 = True
        if pages[-1] and y > TOP:
            y += before
        height = lh * len(lines)
        need = height
        if b.kind in ("title", "h1", "h2") and i + 1 < len(blocks) and blocks[i + 1].kind != "table":
            nxt, _, _, nlh, _, _ = block_lines(blocks[i + 1])
            need += after + nlh * len(nxt)  # keep with next
        if y + need > BOTTOM and pages[-1]:
            new_page()
        for x, ln in lines:
            y += lh
            pages[-1].append(Placed(x, y - (lh - size) / 2 - 1, ln, font, size))
        y += after
    return pages


def build_pdf(src: Source, header: str) -> bytes:
    import pymupdf

    pages = layout_pdf(src)
    n = len(pages)
    doc = pymupdf.open()
    for pno, placed in enumerate(pages, 1):
        page = doc.new_page(width=PAGE_W, height=PAGE_H)
        for name, alias in _ALIAS.items():
            page.insert_font(fontname=alias, fontbuffer=_font(name).buffer)
        # running header and rule
        page.insert_text(
            (MARGIN_X, HEADER_Y), header, fontname=_ALIAS[BODY_FONT], fontsize=9, color=(0.3, 0.3, 0.3)
        )
        page.draw_line(
            (MARGIN_X, HEADER_Y + 6), (PAGE_W - MARGIN_X, HEADER_Y + 6), color=(0.6, 0.6, 0.6), width=0.5
        )
        for p in placed:
            page.insert_text((p.x, p.y), p.text, fontname=_ALIAS[p.font], fontsize=p.size)
        # footer: centred "Page N of M"
        foot = f"Page {pno} of {n}"
        fw = _text_len(foot, BODY_FONT, 9)
        page.insert_text(
            ((PAGE_W - fw) / 2, FOOTER_Y), foot, fontname=_ALIAS[BODY_FONT], fontsize=9, color=(0.3, 0.3, 0.3)
        )
    stamp = "D:20260101000000Z"
    doc.set_metadata(
        {
            "title": src.title,
            "author": src.issuer,
            "subject": "guideground demo corpus (demo content, not clinical advice)",
            "keywords": "demo; guideground; immunization",
            "creator": "scripts/make_demo_docs.py",
            "producer": "PyMuPDF",
            "creationDate": stamp,
            "modDate": stamp,
        }
    )
    doc.subset_fonts()
    data = doc.tobytes(garbage=4, deflate=True, no_new_id=True)
    doc.close()
    return data


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, out in DOCX_JOBS:
        src = parse_source((SOURCES / name).read_text(encoding="utf-8"))
        (args.out / out).write_bytes(build_docx(src))
        print(f"wrote {args.out / out}")
    for name, out, header in PDF_JOBS:
        src = parse_source((SOURCES / name).read_text(encoding="utf-8"))
        data = build_pdf(src, header)
        (args.out / out).write_bytes(data)
        import pymupdf

        with pymupdf.open(stream=data, filetype="pdf") as d:
            print(f"wrote {args.out / out} ({d.page_count} pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
