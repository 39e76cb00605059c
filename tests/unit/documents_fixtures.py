"""PDFs made for tests with fpdf2: a real guide, and encrypted, textless, corrupt and long ones."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

GUIDE_PAGES = [
    (
        "Getting started",
        "Lumen Tasks keeps every project, task and deadline in one clear place. "
        "Sign in with your work email to open your dashboard. The dashboard shows what is due this week.",
    ),
    (
        "Creating a project",
        "Projects start from templates, so a product launch comes with its first tasks. "
        "Give the project a name and pick a template. Inviting your team lets Jordan, Priya and Sam edit it.",
    ),
    (
        "Adding tasks",
        "Type a task and press Enter to add it to the list. "
        "Every project shows how far along it is, so nobody needs a status meeting.",
    ),
    (
        "Settings",
        "The dark theme is easier on the eyes in the evening. "
        "The weekly summary arrives on Monday morning with everything due that week.",
    ),
]


def make_pdf(
    path: Path,
    pages: list[tuple[str, str]] = GUIDE_PAGES,
    *,
    title: str = "Lumen Tasks Guide",
    user_password: str | None = None,
    owner_password: str | None = None,
) -> Path:
    pdf = FPDF()
    pdf.set_title(title)
    for heading, body in pages:
        pdf.add_page()
        pdf.set_font("helvetica", "B", 18)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=11)
        pdf.multi_cell(0, 6, body)
    if user_password is not None or owner_password is not None:
        pdf.set_encryption(owner_password=owner_password or "owner", user_password=user_password or "")
    pdf.output(str(path))
    return path


def make_textless_pdf(path: Path, pages: int = 2) -> Path:
    """Pages of drawings only: what a scan without OCR looks like to a text extractor."""
    pdf = FPDF()
    for i in range(pages):
        pdf.add_page()
        pdf.set_fill_color(40 + 30 * i, 90, 160)
        pdf.rect(20, 20, 170, 120, style="F")
        pdf.ellipse(60, 160, 80, 60, style="D")
    pdf.output(str(path))
    return path
