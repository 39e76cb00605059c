"""A codegen flow plus a PDF, given a prompt, becomes a draft that renders to a narrated MP4 (real
Piper voice, real Chromium capture, real ffmpeg)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fpdf import FPDF

from app.core.bundle import Job
from app.core.draft.drafting import draft
from app.core.render import render
from app.core.script import Settings

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "resources" / "examples" / "quickstart"
FLOW = ROOT / "tests" / "data" / "codegen" / "handwritten" / "short_signin.spec.ts"


def make_pdf(path: Path) -> Path:
    pdf = FPDF()
    pdf.set_title("Lumen Tasks Guide")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 18)
    pdf.cell(0, 10, "Getting started", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(
        0,
        6,
        "Lumen Tasks keeps every project, task and deadline in one clear place. "
        "Sign in with your work email to open your dashboard.",
    )
    pdf.output(str(path))
    return path


def test_pdf_and_flow_draft_renders(tmp_path: Path) -> None:
    guide = make_pdf(tmp_path / "guide.pdf")
    res = asyncio.run(
        draft(
            [FLOW, guide],
            "a friendly tour for new users",
            settings=Settings(site="site", width=640, height=360, fps=24),
        )
    )
    script = res.script
    assert res.warnings == []
    assert "(page 1)" in " ".join(c.narration for c in script.cards)
    job = Job(script=script, root=EXAMPLE, loose=True)
    out = tmp_path / "out"
    result = asyncio.run(render(job, out, name="draft"))
    assert result.video.is_file() and result.srt is not None and result.srt.is_file()
    assert [c.card_id for c in result.cards] == [c.id for c in script.cards]
    probe = shutil.which("ffprobe")
    if probe:
        info = json.loads(
            subprocess.run(
                [probe, "-v", "error", "-show_streams", "-show_format", "-of", "json", str(result.video)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        kinds = {s["codec_type"] for s in info["streams"]}
        assert {"audio", "video"} <= kinds
        assert abs(float(info["format"]["duration"]) - result.duration_s) < 0.5
    keep = os.environ.get("REELWRIGHT_KEEP_DRAFT_RENDER")  # to look at the video by hand
    if keep:
        shutil.copy(result.video, keep)
    srt = result.srt.read_text()
    assert "Hi there!" in srt  # the friendly intro is what the voice says and the captions show
