"""Issue 13's "done when": a flow that signs in with a saved session, opens a popup, acts there, closes
it, confirms a dialog on the first page and downloads a report —

- imports unmodified, to the same actions, from each codegen flavour (tests/data/codegen/handwritten/
  signed_in_tour*);
- drafts offline after a silent run (signed in with the session found beside the flow, as codegen
  leaves ``lumen.json``) into narration that passes the rubric;
- renders frame-exactly with the cut to the popup and back, and the drawn dialog and download cue.

Real Chromium (headless shell), espeak, ffmpeg.  The session is made the way a user makes one: by
signing in to the example site in a real browser and saving the storage state (on another loopback
port than the render serves the site on; the renderer rebases it).  Frames are decoded and classified
by what only each page has: reports.html's sidebar, help.html's pulse-and-bar card without one.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from playwright.async_api import async_playwright

from app.core.bundle import load_job
from app.core.draft.drafting import DrafterConfig, draft
from app.core.draft.importers import import_codegen
from app.core.draft.rubric import check_narration
from app.core.infra.siteserver import SiteServer
from app.core.infra.tools import CHROMIUM_ARGS, find_browser, find_ffmpeg
from app.core.render import render
from app.core.script import Settings

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "resources/examples/quickstart/site"
FLOWS = sorted((ROOT / "tests/data/codegen/handwritten").glob("signed_in_tour*"))
W, H, FPS = 960, 540, 30
OK_BLUE = (11, 87, 208)  # the drawn dialog's OK button and the download cue's icon
OK_PRESSED = (8, 66, 160)


def test_every_flavour_imports_the_same_signed_in_tour() -> None:
    assert len(FLOWS) == 5, FLOWS
    results = {f.name: import_codegen(f) for f in FLOWS}
    dumps = {n: [a.model_dump(exclude_none=True, exclude_defaults=True) for a in r.actions]
             for n, r in results.items()}
    first = dumps[FLOWS[0].name]
    assert all(d == first for d in dumps.values()), dumps
    assert [a["type"] for a in first] == ["goto", "click", "click", "close_page", "dialog", "click", "click"]
    assert first[1]["opens"] == "page1" and first[4] == {"type": "dialog"} and first[6]["download"] is True
    assert all(r.session == "sessions/lumen.json" and r.sessions == ["lumen.json"] for r in results.values())


async def _sign_in(state_path: Path) -> None:
    """Sign in to the example site in a real browser and keep the storage state (codegen --save-storage)."""
    files = {p.relative_to(SITE).as_posix(): p for p in SITE.rglob("*") if p.is_file()}
    with SiteServer(files) as server:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(find_browser().path), args=list(CHROMIUM_ARGS))
            try:
                context = await browser.new_context()
                page = await context.new_page()
                await page.goto(f"{server.base_url}/signin.html")
                await page.get_by_role("textbox", name="Email").fill("maya@northwind.test")
                await page.get_by_role("textbox", name="Password").fill("correct-horse")
                await page.get_by_role("button", name="Sign in").click()
                await page.wait_for_url("**/dashboard.html")
                await context.storage_state(path=str(state_path))
            finally:
                await browser.close()


def _frames(mp4: Path) -> np.ndarray:
    raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-i", str(mp4), "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-"], capture_output=True, check=True, timeout=120).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)


def _count(frames: np.ndarray, colour: tuple[int, int, int], y: slice, x: slice) -> np.ndarray:
    region = frames[:, y, x].astype(np.int16)
    return (np.abs(region - np.array(colour)).sum(axis=3) < 45).sum(axis=(1, 2))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


@pytest.mark.slow
@pytest.mark.browser
def test_the_signed_in_tour_drafts_to_the_rubric_and_renders_with_the_cut_and_the_dialog(tmp_path: Path) -> None:
    work = tmp_path / "recorded"
    work.mkdir()
    flow = work / "signed_in_tour_sync.py"
    shutil.copyfile(ROOT / "tests/data/codegen/handwritten/signed_in_tour_sync.py", flow)
    asyncio.run(_sign_in(work / "lumen.json"))  # beside the flow, where codegen --save-storage left it

    settings = Settings.model_validate({"site": "site", "width": W, "height": H, "fps": FPS, "lead_in_ms": 200,
                                        "lead_out_ms": 300, "gap_ms": 100, "device_scale_factor": 1,
                                        "voice": {"provider": "espeak"}})
    res = asyncio.run(draft([flow], "a short tour of reports", settings=settings,
                            config=DrafterConfig(site_dir=SITE, observe=True)))
    seen = res.observations
    assert seen is not None and seen.complete, (res.warnings, seen and seen.note)
    assert res.script.settings.session == "sessions/lumen.json"
    problems = check_narration(res.script, seen)
    assert problems == [], "\n".join(map(str, problems))
    text = "\n".join(c.narration for c in res.script.cards)
    print("\n" + text)
    assert "Help" in text and "Delete report" in text and "Export CSV" in text

    job_dir = tmp_path / "job"
    shutil.copytree(SITE, job_dir / "site")
    (job_dir / "sessions").mkdir()
    shutil.copyfile(work / "lumen.json", job_dir / "sessions/lumen.json")
    (job_dir / "script.json").write_text(res.script.model_dump_json(exclude_none=True), encoding="utf-8")
    out = tmp_path / "out"
    result = asyncio.run(render(load_job(job_dir / "script.json"), out))
    assert not [w for w in result.warnings if "dialog" in w or "download" in w or "tab" in w], result.warnings
    frames = _frames(result.video)

    # which page is on screen: reports.html has the app's sidebar down the left (busy pixels); help.html
    # opens in its own tab with a plain background there
    busy = frames[:, 100:500, 0:60].astype(np.int16).std(axis=(1, 2, 3))
    labels = np.where(busy > 20, "R", np.where(busy < 10, "H", "?"))
    first = int(np.argmax(labels == "R"))  # (the lead-in frames before the first page paints are blank)
    shown = [(str(k), len(list(g))) for k, g in itertools.groupby(labels[first:].tolist())]
    pages = [k for k, n in shown if n >= 3]
    assert pages == ["R", "H", "R"], shown  # the first page, the popup after the click, the first page again
    popup_start = first + shown[0][1]
    back = popup_start + shown[1][1]
    assert shown[1][0] == "H" and shown[2][0] == "R", shown  # both changes are cuts: not one frame between
    assert back - popup_start >= 2 * FPS, "the popup was on screen for under two seconds"
    # the drawn dialog (top centre) and the download cue (top right)
    box = slice(0, 220), slice(W // 2 - 240, W // 2 + 240)
    dialog = _runs(_count(frames, OK_BLUE, *box) + _count(frames, OK_PRESSED, *box) > 300)
    assert len(dialog) == 1 and dialog[0][1] - dialog[0][0] >= FPS, dialog
    cue = _runs(_count(frames, OK_BLUE, slice(0, 120), slice(W - 260, W)) > 200)
    assert len(cue) == 1 and cue[0][0] >= dialog[0][1], (cue, dialog)
    assert dialog[0][0] > back, "the dialog was drawn before the flow was back on the first page"
    assert sorted(p.name for p in out.iterdir()) == [
        "video.chapters.txt", "video.mp4", "video.srt", "video.timeline.json", "video.vtt"]
