"""Evidence attachments: which files are accepted, told by their content, not only their name.

An attachment is a photo (JPEG, PNG, HEIC/HEIF), a scanned image (the same, or TIFF) or a PDF.
A file is accepted when its name's extension is one of these and its first bytes are what
such a file starts with (`sniff`): an HTML page or a program renamed `photo.jpg` is refused.
Limits (bytes per file, files per owner) are the app's settings, passed in.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath


class AttachmentRefused(ValueError):
    """A file that is not accepted as an attachment; the message is Chinese, for the user."""


@dataclass(frozen=True)
class FileKind:
    """An accepted kind of file: its name on the page, stored extension, content type, extensions."""

    name: str
    extension: str
    content_type: str
    extensions: tuple[str, ...]


JPEG = FileKind("JPG", "jpg", "image/jpeg", ("jpg", "jpeg"))
PNG = FileKind("PNG", "png", "image/png", ("png",))
HEIC = FileKind("HEIC", "heic", "image/heic", ("heic", "heif"))
TIFF = FileKind("TIFF", "tif", "image/tiff", ("tif", "tiff"))
PDF = FileKind("PDF", "pdf", "application/pdf", ("pdf",))
KINDS: tuple[FileKind, ...] = (JPEG, PNG, HEIC, TIFF, PDF)
BY_EXTENSION = {extension: kind for kind in KINDS for extension in kind.extensions}
EXTENSIONS: tuple[str, ...] = tuple(BY_EXTENSION)

# ISO base-media brands of HEIF images (ISO/IEC 23008-12): HEVC-coded stills and sequences, and
# the structural brands a HEIC file may carry as its major brand.
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_STRUCTURAL = {b"mif1", b"msf1"}


def sniff(data: bytes) -> FileKind | None:
    """The accepted kind the bytes are, by their signature; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if _is_heif(data):
        return HEIC
    return None


def _is_heif(data: bytes) -> bool:
    """An ISO base-media `ftyp` box first whose brands name a HEIF image."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    size = int.from_bytes(data[0:4], "big")
    if size < 16 or size > len(data) or size % 4:
        return False
    major = data[8:12]
    compatible = {data[i:i + 4] for i in range(16, size, 4)}
    if major in _HEIF_BRANDS:
        return True
    return major in _HEIF_STRUCTURAL and bool(compatible & _HEIF_BRANDS)


def accepted_names() -> str:
    """"JPG、PNG、HEIC、TIFF、PDF", for the page."""
    return "、".join(kind.name for kind in KINDS)


def megabytes(size: int) -> str:
    """A byte limit as the page states it: "10 MB", "2.5 MB"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size / 1024:g} KB" if size >= 1024 else f"{size} 字节"


def kind_name(content_type: str) -> str:
    """"JPG", "PDF" … for a stored content type ("文件" for one no longer accepted)."""
    return next((kind.name for kind in KINDS if kind.content_type == content_type), "文件")


def size_text(size: int) -> str:
    """A file's size as the page shows it: "0.5 KB", "2.3 MB"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(size, 1) / 1024:.1f} KB"


def check_file(filename: str, data: bytes, max_bytes: int) -> FileKind:
    """The kind of an acceptable attachment, else AttachmentRefused saying why.

    `data` may be cut one byte past `max_bytes` by the reader: anything longer is refused as
    too large without being read further.
    """
    name = PurePath(filename or "").name
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = BY_EXTENSION.get(extension)
    if kind is None:
        raise AttachmentRefused(f"附件“{name}”类型不支持，只接受 {accepted_names()}")
    if not data:
        raise AttachmentRefused(f"附件“{name}”是空文件")
    if len(data) > max_bytes:
        raise AttachmentRefused(f"附件“{name}”超过 {megabytes(max_bytes)}")
    found = sniff(data)
    if found is not kind:
        what = f"，而像是 {found.name} 文件，请改正文件扩展名" if found is not None else ""
        raise AttachmentRefused(f"附件“{name}”的内容不是 {kind.name} 文件{what}")
    return kind


def check_count(present: int, added: int, max_files: int) -> None:
    """Refuse adding `added` files to an owner that has `present` when more than `max_files` result."""
    if present + added > max_files:
        left = max(max_files - present, 0)
        raise AttachmentRefused(f"每项最多 {max_files} 个附件（已有 {present} 个，还可上传 {left} 个）")


def display_name(filename: str) -> str:
    """The name kept for a file: its last path part, at most 255 characters, never empty."""
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    return (name or "附件")[:255]
