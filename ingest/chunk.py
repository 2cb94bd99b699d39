"""Structure-aware chunking: sections are never crossed, recommendations stay whole with their grade.

A chunk's text is always the exact slice ``doc.text[start:end]`` of the normalized document text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ingest.documents import (
    Block,
    Chunk,
    ChunkingParams,
    ParsedDocument,
    Sentence,
    sha256_bytes,
    stable_chunk_id,
)
from ingest.injection import is_instruction_like
from ingest.parse.normalize import looks_like_grade_line
from ingest.sentences import split_spans


@dataclass
class _Unit:
    start: int
    end: int
    kinds: set[str]
    pages: set[int]
    atomic: bool = False  # a recommendation (+ grade): never split, never shared with a cut
    isolated: bool = False  # instruction-like text: a chunk of its own, so it never mixes with evidence

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass
class _Section:
    path: list[str]
    units: list[_Unit] = field(default_factory=list)


def _sections(doc: ParsedDocument, params: ChunkingParams) -> list[_Section]:
    stack: list[tuple[int, str]] = []
    sections: list[_Section] = [_Section([])]
    blocks = doc.blocks
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if b.kind == "heading":
            while stack and stack[-1][0] >= b.level:
                stack.pop()
            stack.append((b.level, b.text))
            path: list[str] = []
            for _, t in stack:
                if not path or path[-1] != t:  # a title repeated as a running first heading
                    path.append(t)
            sections.append(_Section(path))
            i += 1
            continue
        unit = _Unit(b.start, b.end, {b.kind}, {b.page} if b.page else set(), atomic=b.kind == "recommendation")
        if b.quarantine_path is not None or is_instruction_like(b.text):
            unit.atomic = unit.isolated = True
            if b.quarantine_path is not None:
                sections.append(_Section(list(b.quarantine_path)))
            sections[-1].units.append(unit)
            i += 1
            continue
        # A recommendation keeps the grade/strength line(s) that follow it.
        while b.kind == "recommendation" and i + 1 < len(blocks) and _is_grade(blocks[i + 1]):
            i += 1
            g = blocks[i]
            unit.end = g.end
            unit.kinds.add(g.kind)
            if g.page:
                unit.pages.add(g.page)
        if not unit.atomic and unit.size > params.max_chars:
            sections[-1].units.extend(_split_long(doc.text, unit, params))
        else:
            sections[-1].units.append(unit)
        i += 1
    return [s for s in sections if s.units]


def _is_grade(b: Block) -> bool:
    return b.kind in ("text", "list_item") and looks_like_grade_line(b.text)


def _split_long(text: str, unit: _Unit, params: ChunkingParams) -> list[_Unit]:
    """Split an over-long paragraph at sentence boundaries into pieces near the target size."""
    pieces: list[_Unit] = []
    cur_s: int | None = None
    cur_e = unit.start
    for s, e in split_spans(text, unit.start, unit.end):
        if cur_s is not None and e - cur_s > params.target_chars:
            pieces.append(_Unit(cur_s, cur_e, set(unit.kinds), set(unit.pages)))
            cur_s = None
        if cur_s is None:
            cur_s = s
        cur_e = e
    if cur_s is not None:
        pieces.append(_Unit(cur_s, cur_e, set(unit.kinds), set(unit.pages)))
    # A single sentence longer than max_chars is cut hard at a space (rare: tables flattened to prose).
    out: list[_Unit] = []
    for p in pieces:
        while p.size > params.max_chars:
            cut = text.rfind(" ", p.start, p.start + params.target_chars)
            cut = cut if cut > p.start else p.start + params.target_chars
            out.append(_Unit(p.start, cut, set(p.kinds), set(p.pages)))
            p = _Unit(cut + 1, p.end, set(p.kinds), set(p.pages))
        out.append(p)
    return out


def _pack(units: list[_Unit], params: ChunkingParams) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    cur: list[_Unit] = []
    for u in units:
        if u.isolated or (cur and cur[-1].isolated):
            if cur:
                groups.append(cur)
            cur = [u]
            continue
        if cur:
            size = u.end - cur[0].start
            if size > params.target_chars and (size > params.max_chars or cur[-1].end - cur[0].start >= params.min_chars):
                groups.append(cur)
                cur = []
        cur.append(u)
    if cur:
        groups.append(cur)
    # Merge a too-small last group into its neighbour when it fits.
    if (
        len(groups) > 1
        and groups[-1][-1].end - groups[-1][0].start < params.min_chars
        and not groups[-1][0].isolated
        and not groups[-2][-1].isolated
    ):
        if groups[-1][-1].end - groups[-2][0].start <= params.max_chars:
            groups[-2].extend(groups.pop())
    return groups


def chunk_document(doc: ParsedDocument, params: ChunkingParams) -> list[Chunk]:
    chunks: list[Chunk] = []
    seen: Counter[tuple[str, str]] = Counter()
    m = doc.meta
    for section in _sections(doc, params):
        for group in _pack(section.units, params):
            start, end = group[0].start, group[-1].end
            text = doc.text[start:end]
            key = ("\x1e".join(section.path), text)
            ordinal = seen[key]
            seen[key] += 1
            sentences = [Sentence(start=a - start, end=b - start) for a, b in split_spans(doc.text, start, end)]
            pages = sorted({p for u in group for p in u.pages})
            kinds = sorted({k for u in group for k in u.kinds})
            chunks.append(
                Chunk(
                    chunk_id=stable_chunk_id(m.doc_id, section.path, text, ordinal),
                    doc_id=m.doc_id,
                    title=m.title,
                    issuer=m.issuer,
                    published=m.published,
                    version=m.version,
                    section_path=section.path,
                    pages=pages,
                    start=start,
                    end=end,
                    text=text,
                    kinds=kinds,
                    sentences=sentences,
                    content_sha=sha256_bytes(text.encode())[:16],
                )
            )
    return chunks


def embedding_text(chunk: Chunk) -> str:
    """What the encoder and BM25 see: title and the nearest headings give the passage its context."""
    path = " > ".join(chunk.section_path[-2:])
    title = chunk.title if len(chunk.title) <= 110 else chunk.title[:110].rsplit(" ", 1)[0]
    head = f"{title}. {path}." if path else f"{title}."
    return f"{head}\n{chunk.text}"
