"""Decide what a file is before any parser touches it, and reject bad input with one clear reason."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import BadInput

EXTENSIONS: dict[str, str] = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".text": "txt",
}

# Files that live beside guidelines but are not guidelines.
IGNORED_NAMES = {"readme.md", "readme.txt", "manifest.csv", "license", "license.txt", ".ds_store"}


@dataclass(frozen=True)
class Sniffed:
    path: Path
    format: str
    data: bytes


def is_candidate(path: Path, sidecar: str = "manifest.csv") -> bool:
    name = path.name.lower()
    return not (name.startswith(".") or name in IGNORED_NAMES or name == sidecar.lower())


def sniff(path: Path, max_bytes: int) -> Sniffed:
    """Read ``path`` and check it is a usable guideline file of the format its extension claims."""
    ext = path.suffix.lower()
    fmt = EXTENSIONS.get(ext)
    if fmt is None:
        raise BadInput(
            f"unsupported file type '{ext or '(none)'}'",
            hint="supported: " + ", ".join(sorted(set(EXTENSIONS))),
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise BadInput(
            f"oversized file: {size / 1e6:.1f} MB exceeds the {max_bytes / 1e6:.0f} MB limit",
            hint="raise GUIDEGROUND_INGEST__MAX_FILE_MB or split the document",
        )
    data = path.read_bytes()
    if not data.strip():
        raise BadInput("empty file", hint="the file has no content")
    head = data[:1024]
    if fmt == "pdf":
        if b"%PDF-" not in head:
            raise BadInput("mislabelled file: named .pdf but has no PDF header", hint="check the file's real type")
    elif fmt == "docx":
        if not data.startswith(b"PK"):
            raise BadInput("mislabelled file: named .docx but is not a ZIP/OOXML package")
        try:
            with zipfile.ZipFile(_BytesIO(data)) as zf:
                if "word/document.xml" not in zf.namelist():
                    raise BadInput("not a Word document: word/document.xml missing from the package")
                bad = zf.testzip()
                if bad is not None:
                    raise BadInput(f"corrupt DOCX: member {bad} fails its CRC check")
        except zipfile.BadZipFile as exc:
            raise BadInput(f"corrupt DOCX: {exc}") from None
    else:  # text formats
        if data.startswith((b"%PDF-", b"PK\x03\x04", b"\x7fELF", b"\x89PNG", b"\xff\xd8\xff")) or b"\x00" in head:
            raise BadInput(f"mislabelled file: named {ext} but contains binary data")
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInput(
                f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                hint="re-save the file as UTF-8",
            ) from None
    return Sniffed(path=path, format=fmt, data=data)


def _BytesIO(data: bytes):  # noqa: N802 - tiny local alias keeps the import local
    import io

    return io.BytesIO(data)
