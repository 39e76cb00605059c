"""Documents: PDF text per page with sections and page numbers; Markdown and text; every unreadable
file gives one clear message (DocumentError) instead of a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from documents_fixtures import GUIDE_PAGES, make_pdf, make_textless_pdf

from app.core.draft.documents import DocumentError, read_document, read_pdf, split_sentences

DOCS = Path(__file__).resolve().parents[1] / "data" / "docs"


def test_pdf_sections_keep_their_pages(tmp_path: Path) -> None:
    doc = read_document(make_pdf(tmp_path / "guide.pdf"))
    assert doc.kind == "pdf" and doc.title == "Lumen Tasks Guide" and doc.page_count == 4
    assert [s.title for s in doc.sections] == [h for h, _ in GUIDE_PAGES]
    assert [s.page_start for s in doc.sections] == [1, 2, 3, 4]
    sent = {s.text: s for s in doc.sentences()}
    dark = sent["The dark theme is easier on the eyes in the evening."]
    assert dark.page == 4 and dark.section == "Settings"
    assert doc.cite(dark) == "page 4"


def test_pdf_with_an_empty_user_password_opens(tmp_path: Path) -> None:
    doc = read_document(make_pdf(tmp_path / "owner-only.pdf", owner_password="o", user_password=""))
    assert len(doc.sections) == 4


def test_password_protected_pdf_is_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(DocumentError) as info:
        read_document(make_pdf(tmp_path / "locked.pdf", user_password="secret"))
    assert "locked.pdf: is password-protected" in str(info.value) and info.value.hint


def test_textless_pdf_says_it_needs_ocr(tmp_path: Path) -> None:
    with pytest.raises(DocumentError) as info:
        read_document(make_textless_pdf(tmp_path / "scan.pdf"))
    assert "no text layer" in str(info.value) and "OCR" in (info.value.hint or "")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "header-only", "not-pdf", "empty"])
def test_damaged_pdfs_are_clear_messages(tmp_path: Path, damage: str) -> None:
    good = make_pdf(tmp_path / "good.pdf").read_bytes()
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(
        {
            "truncate": good[: len(good) // 3],
            "garbage": good[:20] + bytes(range(256)) * 8,
            "header-only": b"%PDF-1.7\n",
            "not-pdf": b"<html>not a pdf</html>",
            "empty": b"",
        }[damage]
    )
    with pytest.raises(DocumentError) as info:
        read_document(bad)
    assert str(info.value).startswith("bad.pdf: ")


def test_long_pdfs_are_read_up_to_a_limit_with_a_warning(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "long.pdf", GUIDE_PAGES * 3)
    doc = read_pdf(pdf, max_pages=5)
    assert doc.page_count == 12
    assert max(s.page for s in doc.sentences() if s.page) == 5
    assert doc.warnings == ["long.pdf: only the first 5 of 12 pages were read"]


def test_oversized_file_is_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.core.draft.documents as documents

    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", 1000)
    with pytest.raises(DocumentError, match="not read"):
        read_document(make_pdf(tmp_path / "big.pdf"))


def test_markdown_headings_and_inline_markup() -> None:
    doc = read_document(DOCS / "release-notes.md")
    assert doc.kind == "markdown" and doc.title == "Lumen Tasks 2.0 release notes"
    titles = [s.title for s in doc.sections]
    assert titles[:3] == ["Lumen Tasks 2.0 release notes", "Templates", "Dark theme"]
    text = " ".join(s.text for s in doc.sentences())
    assert "*" not in text and "](" not in text and "`" not in text
    assert "pip install" not in text  # code blocks are not narrated
    assert any("Product launch template" in s.text for s in doc.sentences())


def test_plain_text_headings() -> None:
    doc = read_document(DOCS / "faq.txt")
    assert doc.kind == "text"
    assert [s.title for s in doc.sections][:2] == ["Frequently asked questions", "Who can see my projects?"]
    assert all(s.page is None for s in doc.sentences())


def test_binary_text_and_unknown_kinds_are_messages(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_bytes(b"\0\1\2binary")
    with pytest.raises(DocumentError, match="binary"):
        read_document(f)
    g = tmp_path / "x.png"
    g.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(DocumentError, match="looks like image"):
        read_document(g)
    e = tmp_path / "empty.md"
    e.write_text("# Only a heading\n")
    with pytest.raises(DocumentError, match="no readable text"):
        read_document(e)


def test_sentence_split() -> None:
    assert split_sentences('One two. Three four!  Five (p. 4) six? "Seven" eight.') == [
        "One two.",
        "Three four!",
        "Five (p. 4) six?",
        '"Seven" eight.',
    ]
