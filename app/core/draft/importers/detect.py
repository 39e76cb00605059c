"""What kind of file the user dragged in: by extension, confirmed by sniffing the content."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

FileKind = Literal[
    "pdf",
    "playwright-python",
    "playwright-js",
    "playwright-ts",
    "markdown",
    "text",
    "image",
    "audio",
    "unknown",
]
CODEGEN_KINDS: frozenset[str] = frozenset({"playwright-python", "playwright-js", "playwright-ts"})

_IMAGE_EXT = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".tif", ".tiff", ".avif"})
_AUDIO_EXT = frozenset({".mp3", ".wav", ".ogg", ".oga", ".m4a", ".flac", ".aac", ".opus"})
_MD_EXT = frozenset({".md", ".markdown", ".mdown", ".mkd"})
_TEXT_EXT = frozenset({".txt", ".text", ".rst", ".log", ".csv"})
_PY_EXT = frozenset({".py", ".pyw"})
_JS_EXT = frozenset({".js", ".mjs", ".cjs", ".jsx"})
_TS_EXT = frozenset({".ts", ".tsx", ".mts", ".cts"})

_PY_MARKERS = re.compile(
    r"^\s*(from\s+playwright\b|import\s+playwright\b)|\bpage\s*:\s*Page\b|\bsync_playwright\(|"
    r"\basync_playwright\(",
    re.M,
)
_JS_MARKERS = re.compile(
    r"""require\(\s*['"](playwright|@playwright/test|playwright-core)['"]\s*\)|"""
    r"""from\s+['"](@playwright/test|playwright|playwright-core)['"]|\bpage\.(goto|getBy\w+|locator)\("""
)
_TS_HINT = re.compile(r"""from\s+['"]@playwright/test['"]|:\s*(Page|string|number)\b""")
_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"ID3", "audio"),
    (b"fLaC", "audio"),
    (b"OggS", "audio"),
)


def _read_head(path: Path, limit: int = 65536) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError:
        return b""


def detect_kind(path: Path, *, head: str | None = None) -> FileKind:
    """The kind of ``path``: by extension, confirmed by content for codegen (``head`` = its text, if read)."""
    path = Path(path)
    ext = path.suffix.lower()
    raw = head.encode("utf-8", "replace")[:65536] if head is not None else _read_head(path)
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            return kind  # type: ignore[return-value]
    if raw[:4] == b"RIFF" and raw[8:12] == b"WAVE":
        return "audio"
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "image"
    if ext == ".pdf":
        return "pdf"  # a PDF without its magic is still the user's PDF: its reader reports the damage
    if ext in _IMAGE_EXT:
        return "image"
    if ext in _AUDIO_EXT:
        return "audio"
    text = raw.decode("utf-8", "replace") if head is None else head[:65536]
    if ext in _PY_EXT:
        return "playwright-python" if _PY_MARKERS.search(text) else "unknown"
    if ext in _TS_EXT:
        return "playwright-ts" if _JS_MARKERS.search(text) else "unknown"
    if ext in _JS_EXT:
        return "playwright-js" if _JS_MARKERS.search(text) else "unknown"
    if ext in _MD_EXT:
        return "markdown"
    if ext in _TEXT_EXT:
        return "text"
    # no telling extension: sniff
    if b"\0" in raw:
        return "unknown"
    if _PY_MARKERS.search(text) and re.search(r"^\s*(def|async def|with)\s", text, re.M):
        return "playwright-python"
    if _JS_MARKERS.search(text):
        return "playwright-ts" if _TS_HINT.search(text) else "playwright-js"
    if re.search(r"^#{1,6}\s+\S", text, re.M):
        return "markdown"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(raw) - 4:  # (a character cut at the end of the sniffed head is fine)
            return "unknown"
    return "text" if text.strip() else "unknown"
