"""Documents the user gives as context: PDF (per page, with page numbers), Markdown and plain text.

A document becomes ordered :class:`Section` s (found from headings) of :class:`Sentence` s that keep
the page they came from, so a narration line can cite "(page 4)".  A file that cannot be read —
encrypted, corrupt, scanned without a text layer, too big — raises :class:`DocumentError` with a
sentence the user can act on; the drafter turns that into a per-file warning and carries on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ReelwrightError

MAX_DOCUMENT_BYTES = 100 * 1024 * 1024
MAX_PDF_PAGES = 300  # pages read from one PDF; the rest are reported, not read
MAX_TEXT_CHARS = 2_000_000  # characters kept from one document


class DocumentError(ReelwrightError):
    """A document could not be read.  The message names the file and what to do about it."""

    exit_code = 2

    def __init__(self, path: Path, reason: str, *, hint: str | None = None) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path.name}: {reason}", hint=hint)


@dataclass(frozen=True)
class Sentence:
    text: str
    page: int | None  # 1-based PDF page; None for Markdown/text
    section: str


@dataclass
class Section:
    title: str
    text: str
    page_start: int | None = None
    page_end: int | None = None
    sentences: list[Sentence] = field(default_factory=list)


@dataclass
class Document:
    path: Path
    kind: str  # "pdf", "markdown" or "text"
    title: str
    sections: list[Section]
    page_count: int | None = None
    warnings: list[str] = field(default_factory=list)

    def sentences(self) -> list[Sentence]:
        return [s for sec in self.sections for s in sec.sentences]

    def text(self) -> str:
        return "\n\n".join(f"{s.title}\n{s.text}" if s.title else s.text for s in self.sections)

    def cite(self, sentence: Sentence) -> str:
        """How narration cites where a sentence came from: "page 4" (PDFs only)."""
        return f"page {sentence.page}" if sentence.page is not None else ""


# --------------------------------------------------------------------------- sentences and headings

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")
_NUMBERED_HEADING = re.compile(r"^(\d+(\.\d+)*\.?|[A-Z]\.|Chapter \d+|Section \d+|Step \d+:?)\s+\S")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


_ABBREV = re.compile(r"(?:\b(?:p|pp|e\.g|i\.e|fig|no|vs|etc|mr|mrs|ms|dr|st|approx|cf|ch|sec|vol)\.|\b[A-Z]\.)$", re.I)


def split_sentences(text: str) -> list[str]:
    flat = " ".join(text.split())
    if not flat:
        return []
    pieces = [s.strip() for s in _SENTENCE_END.split(flat) if s.strip()]
    out: list[str] = []
    for piece in pieces:
        if out and _ABBREV.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"  # "(p. 4)", "e.g. Ollama": not a sentence end
        else:
            out.append(piece)
    return [s for s in out if len(s) > 1]


def _looks_like_heading(line: str, next_line: str | None, prev_blank: bool, next_blank: bool) -> bool:
    s = line.strip()
    if not s or len(s) > 80 or next_line is None or s[-1] in ".,;":
        return False
    words = _WORD.findall(s)
    if not words or len(words) > 12 or not (s[0].isupper() or s[0].isdigit()):
        return False
    if _NUMBERED_HEADING.match(s) or (s.isupper() and len(s) > 3):
        return True
    nxt = next_line.strip()
    if s.endswith("?"):  # FAQ style: a question on its own line, its answer below
        return prev_blank and len(nxt) > len(s) * 0.6
    if s.endswith(("!", ":")):
        return False
    if prev_blank and next_blank:
        return True  # a short line standing alone between blank lines
    capitalised = sum(1 for w in words if w[0].isupper())
    # a short title-like line directly followed by a longer prose line (PDF headings)
    return capitalised >= max(1, len(words) // 2) and len(nxt) > len(s) + 10 and len(words) <= 8


def _sections_from_lines(lines: list[tuple[str, int | None]], default_title: str) -> list[Section]:
    """Group (line, page) pairs into sections at lines that look like headings."""
    sections: list[Section] = []
    cur_title = default_title
    cur_lines: list[tuple[str, int | None]] = []

    def flush() -> None:
        body = [t for t, _ in cur_lines if t.strip()]
        if not body and not sections and cur_title == default_title:
            return
        pages = [p for _, p in cur_lines if p is not None]
        sections.append(
            _make_section(cur_title, cur_lines, min(pages) if pages else None, max(pages) if pages else None)
        )

    for i, (line, page) in enumerate(lines):
        nxt = next((t for t, _ in lines[i + 1 : i + 4] if t.strip()), None)
        prev_blank = i == 0 or not lines[i - 1][0].strip()
        next_blank = i + 1 < len(lines) and not lines[i + 1][0].strip()
        if _looks_like_heading(line, nxt, prev_blank, next_blank):
            if cur_lines or cur_title != default_title:
                flush()
            cur_title = line.strip()
            cur_lines = []
        else:
            cur_lines.append((line, page))
    flush()
    return [s for s in sections if s.text.strip() or s.title]


def _make_section(title: str, lines: list[tuple[str, int | None]], p0: int | None, p1: int | None) -> Section:
    # sentences keep their page: split per page run, then per paragraph
    sentences: list[Sentence] = []
    run: list[str] = []
    run_page: int | None = lines[0][1] if lines else None
    for text, page in [*lines, ("", -1)]:
        if page != run_page or not text.strip():
            for para in "\n".join(run).split("\n\n"):
                for s in split_sentences(para):
                    sentences.append(Sentence(s, run_page, title))
            run = []
            run_page = page
        if text.strip():
            run.append(text)
    body = "\n".join(t for t, _ in lines).strip()
    return Section(title=title, text=body, page_start=p0, page_end=p1, sentences=sentences)


# --------------------------------------------------------------------------- readers


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentError(
            path,
            f"is {size / 1e6:.0f} MB; documents over {MAX_DOCUMENT_BYTES // 10**6} MB are not read",
            hint="split it, or export the chapters that matter",
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(path, f"cannot read the file ({exc.strerror or exc})") from None


def read_pdf(path: Path, *, max_pages: int = MAX_PDF_PAGES) -> Document:
    import pypdf  # imported here: only drafting needs it
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    data = _read_bytes(path)
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise DocumentError(path, "is not a PDF (no %PDF header); the file may be damaged or misnamed")
    import io

    warnings: list[str] = []
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except (NotImplementedError, PyPdfError) as exc:
                raise DocumentError(path, f"is encrypted with a scheme that cannot be opened ({exc})") from None
            if not ok:
                raise DocumentError(
                    path,
                    "is password-protected",
                    hint="save an unprotected copy (e.g. print to PDF) and add that instead",
                )
        n_pages = len(reader.pages)
        pages_text: list[str] = []
        for i in range(min(n_pages, max_pages)):
            pages_text.append(reader.pages[i].extract_text() or "")
        meta_title = ""
        if reader.metadata is not None and reader.metadata.title:
            meta_title = str(reader.metadata.title).strip()
    except DocumentError:
        raise
    except FileNotDecryptedError:
        raise DocumentError(path, "is password-protected") from None
    # pypdf raises a wide range of exceptions on damaged files (PdfReadError, ValueError, KeyError,
    # struct.error, ...): each means "this PDF is damaged", which is what the user needs to hear.
    except Exception as exc:  # noqa: BLE001
        # "unexpected" is the CLI's word for a bug in Reelwright; pypdf's "ended unexpectedly" is not one
        detail = str(exc).replace("unexpectedly", "too early").replace("Unexpected", "Odd")
        raise DocumentError(
            path,
            f"is damaged and cannot be read ({type(exc).__name__}: {detail})",
            hint="re-export or re-download the PDF",
        ) from None
    if n_pages > max_pages:
        warnings.append(f"{path.name}: only the first {max_pages} of {n_pages} pages were read")
    if n_pages == 0:
        raise DocumentError(path, "has no pages")
    if not any(t.strip() for t in pages_text):
        raise DocumentError(
            path,
            f"has no text layer ({n_pages} page{'s' if n_pages != 1 else ''} of images, probably scanned)",
            hint="run OCR on it first (e.g. ocrmypdf) and add the result",
        )
    lines: list[tuple[str, int | None]] = []
    total = 0
    for pno, text in enumerate(pages_text, start=1):
        for line in text.splitlines():
            total += len(line)
            if total > MAX_TEXT_CHARS:
                break
            lines.append((line, pno))
        lines.append(("", pno))
    if total > MAX_TEXT_CHARS:
        warnings.append(f"{path.name}: text cut at {MAX_TEXT_CHARS:,} characters")
    title = meta_title or _humanize_stem(path)
    sections = _sections_from_lines(lines, title)
    return Document(path, "pdf", title, sections, page_count=n_pages, warnings=warnings)


_MD_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPH = re.compile(r"(\*\*|__|\*|_|~~|`)(?=\S)(.+?)(?<=\S)\1")
_MD_HTML = re.compile(r"<[^>]+>")


def strip_markdown_inline(text: str) -> str:
    text = _MD_LINK.sub(r"\1", text)
    for _ in range(3):
        text = _MD_EMPH.sub(r"\2", text)
    text = _MD_HTML.sub("", text)
    return re.sub(r"^\s*([-*+]|\d+[.)])\s+", "", text)  # list markers


def _decode_text(path: Path) -> str:
    data = _read_bytes(path)
    if b"\0" in data[:8192]:
        raise DocumentError(path, "is a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text[:MAX_TEXT_CHARS]


def read_markdown(path: Path) -> Document:
    raw = _decode_text(path).splitlines()
    sections: list[Section] = []
    title = ""
    cur_title = ""
    cur: list[tuple[str, int | None]] = []
    in_fence = False

    def flush() -> None:
        if cur_title or any(t.strip() for t, _ in cur):
            sections.append(_make_section(cur_title or title or _humanize_stem(path), cur, None, None))

    i = 0
    while i < len(raw):
        line = raw[i]
        if line.strip().startswith(("```", "~~~")):
            in_fence = not in_fence
            i += 1
            continue
        if in_fence:
            i += 1
            continue  # code blocks are not prose to narrate
        m = _MD_ATX.match(line)
        heading = strip_markdown_inline(m.group(2)) if m else None
        if (
            heading is None
            and i + 1 < len(raw)
            and line.strip()
            and _MD_SETEXT.match(raw[i + 1])
            and not line.lstrip().startswith(("-", "*", "|"))
        ):
            heading = strip_markdown_inline(line.strip())
            i += 1
        if heading is not None:
            flush()
            cur = []
            cur_title = heading
            title = title or heading
        else:
            cur.append((strip_markdown_inline(line), None))
        i += 1
    flush()
    return Document(path, "markdown", title or _humanize_stem(path), sections)


def read_text(path: Path) -> Document:
    text = _decode_text(path)
    title = _humanize_stem(path)
    sections = _sections_from_lines([(line, None) for line in text.splitlines()], title)
    return Document(path, "text", title, sections)


def read_document(path: Path, kind: str | None = None) -> Document:
    """Read a PDF, Markdown or text document.  Raises :class:`DocumentError` (never anything else)."""
    path = Path(path)
    if kind is None:
        from .importers.detect import detect_kind

        kind = detect_kind(path)
    try:
        if kind == "pdf":
            doc = read_pdf(path)
        elif kind == "markdown":
            doc = read_markdown(path)
        elif kind == "text":
            doc = read_text(path)
        else:
            raise DocumentError(path, f"is not a document Reelwright reads (it looks like {kind})")
    except RecursionError:
        raise DocumentError(path, "is structured too deeply to read") from None
    except MemoryError:
        raise DocumentError(path, "is too large to read") from None
    if not any(s.sentences for s in doc.sections):
        raise DocumentError(path, "contains no readable text")
    return doc


def _humanize_stem(path: Path) -> str:
    words = re.sub(r"[-_.]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name
