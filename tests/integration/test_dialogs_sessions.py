"""Real flows on the example site's reports page: a saved session, native dialogs drawn, a download cue.

Real Chromium (headless shell, frame-exact), real espeak, real ffmpeg.  The session is a Playwright
storage state written here, recorded "on" another loopback port than the render serves the site on
(the renderer rebases it).  Frames of the finished MP4 are decoded and checked by colour: the drawn
dialog's blue OK button at the top of the view for over a second, the page's reaction (the red
"Delete report" button going away) only once the drawn OK is pressed, and the download cue's blue icon
at the top right.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.core.bundle import Job, load_job
from app.core.capture import downloads
from app.core.errors import RenderError
from app.core.infra.tools import find_ffmpeg
from app.core.render import check, render

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "resources/examples/quickstart/site"
W, H, FPS = 960, 540, 30
STORE_KEY = "lumen-tasks.v1"
OK_BLUE = (11, 87, 208)  # the drawn dialog's OK button and the download cue's icon (Chrome's blue)
OK_PRESSED = (8, 66, 160)  # the drawn OK while the cursor presses it
DANGER_RED = (220, 38, 38)  # the page's "Delete report" button


def storage_state(*, signed_in: bool, port: int = 5173) -> dict[str, Any]:
    """What `codegen --save-storage` keeps after signing in to the example site on 127.0.0.1:<port>
    (app.js seeds the workspace itself when the stored state has no projects)."""
    state: dict[str, Any] = {"user": None, "settings": {"theme": "light"}}
    if signed_in:
        state["user"] = {"email": "alex@lumen.example", "name": "Alex Morgan", "initials": "AM"}
    return {"cookies": [], "origins": [{"origin": f"http://127.0.0.1:{port}",
                                        "localStorage": [{"name": STORE_KEY, "value": json.dumps(state)}]}]}


def make_job(tmp: Path, cards: list[dict[str, Any]], *, session: dict[str, Any] | None) -> Job:
    shutil.copytree(SITE, tmp / "site")
    data: dict[str, Any] = {
        "title": "Reports",
        "settings": {"site": "site", "width": W, "height": H, "fps": FPS, "lead_in_ms": 200, "lead_out_ms": 300,
                     "gap_ms": 100, "device_scale_factor": 1, "voice": {"provider": "espeak"}},
        "cards": cards,
    }
    if session is not None:
        (tmp / "sessions").mkdir()
        (tmp / "sessions/lumen.json").write_text(json.dumps(session), encoding="utf-8")
        data["settings"]["session"] = "sessions/lumen.json"
    (tmp / "script.json").write_text(json.dumps(data), encoding="utf-8")
    return load_job(tmp / "script.json")


def frames_of(mp4: Path) -> np.ndarray:
    raw = subprocess.run([str(find_ffmpeg()), "-v", "error", "-i", str(mp4), "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-"], capture_output=True, check=True, timeout=120).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)


def count(frames: np.ndarray, colour: tuple[int, int, int], y: slice, x: slice) -> np.ndarray:
    """Per frame, the pixels of ``colour`` (within JPEG/H.264 tolerance) in a region."""
    region = frames[:, y, x].astype(np.int16)
    return (np.abs(region - np.array(colour)).sum(axis=3) < 45).sum(axis=(1, 2))


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


OPEN = {"id": "open", "narration": "The reports page.", "actions": [{"type": "goto", "url": "/reports.html"}]}
DELETE = {"type": "click", "target": {"role": "button", "name": "Delete report"}}


def test_signed_in_render_draws_dialogs_and_the_download_cue(tmp_path: Path) -> None:
    cards = [
        OPEN,
        {"id": "rename", "narration": "Rename the report.",
         "actions": [{"type": "dialog", "response": "accept", "text": "Q4 summary"},
                     {"type": "click", "target": {"role": "button", "name": "Rename"}}]},
        {"id": "export", "narration": "Export it.",
         "actions": [{"type": "click", "target": {"role": "button", "name": "Export CSV"}, "download": True}]},
        {"id": "delete", "narration": "Delete it.", "actions": [{"type": "dialog", "response": "accept"}, DELETE]},
    ]
    job = make_job(tmp_path / "job", cards, session=storage_state(signed_in=True))
    out = tmp_path / "out"
    result = asyncio.run(render(job, out))
    assert not [w for w in result.warnings if "dialog" in w or "download" in w], result.warnings
    frames = frames_of(result.video)

    # the drawn dialogs: OK's blue in the dialog's box (top centre) — the prompt, then the confirm
    box = slice(0, 220), slice(W // 2 - 240, W // 2 + 240)
    dialog = count(frames, OK_BLUE, *box) + count(frames, OK_PRESSED, *box) > 300
    shown = runs(dialog)
    assert len(shown) == 2, shown
    for start, end in shown:
        assert end - start >= FPS, f"a drawn dialog is on screen for only {end - start} frames"
    # the cue: the icon's blue at the top right, ~1.5 s, between the two dialogs
    cue = runs(count(frames, OK_BLUE, slice(0, 120), slice(W - 260, W)) > 200)
    assert len(cue) == 1 and cue[0][1] - cue[0][0] >= FPS, cue
    assert shown[0][1] <= cue[0][0] < shown[1][0]
    # the page deletes the report only once the drawn OK is pressed: the red button is there while the
    # dialog is, and gone from the moment the dialog goes
    red = count(frames, DANGER_RED, slice(180, 240), slice(760, 920)) > 500
    start, end = shown[1]
    assert red[start:end].all(), "the page reacted before the drawn dialog was answered"
    assert not red[end:].any(), "the report was not deleted when the drawn OK was pressed"

    # nothing but the video and its sidecars in the outputs: no session, no CSV
    assert sorted(p.name for p in out.iterdir()) == [
        "video.chapters.txt", "video.mp4", "video.srt", "video.timeline.json", "video.vtt"]


@pytest.mark.parametrize("session", [storage_state(signed_in=False), {"cookies": [], "origins": []}],
                         ids=["expired", "absent"])
def test_a_signed_out_session_fails_with_the_exact_message(tmp_path: Path, session: dict[str, Any]) -> None:
    job = make_job(tmp_path / "job", [OPEN], session=session)
    with pytest.raises(RenderError) as err:
        asyncio.run(check(job, error_dir=tmp_path / "errors"))
    first = str(err.value).splitlines()[0]
    assert re.fullmatch(r"card 1 'open' › action 1: the session in sessions/lumen\.json is no longer signed in at "
                        r"http://127\.0\.0\.1:\d+/reports\.html: record it again", first), first
    assert all("lumen" not in p.name for p in (tmp_path / "errors").glob("*"))


def test_unanswered_dialogs_are_dismissed_and_missing_dialogs_or_downloads_are_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = {"type": "wait_for", "text": "Kept the report.", "timeout_ms": 2000}
    job = make_job(tmp_path / "a", [OPEN, {"id": "delete", "narration": "", "actions": [DELETE, kept]}],
                   session=storage_state(signed_in=True))
    result = asyncio.run(check(job))
    assert any(w.startswith("card 2 'delete', action 1 (click): a confirm dialog opened with no dialog action")
               for w in result.warnings), result.warnings

    export = {"type": "click", "target": {"role": "button", "name": "Export CSV"}}
    job = make_job(tmp_path / "b", [OPEN, {"id": "export", "narration": "",
                                           "actions": [{"type": "dialog", "response": "accept"}, export]}],
                   session=storage_state(signed_in=True))
    with pytest.raises(RenderError, match=r"card 2 'export' › action 2: expected a dialog after this click"):
        asyncio.run(check(job))

    monkeypatch.setattr(downloads, "DOWNLOAD_WAIT_S", 1.0)  # 10 s of video in a real render: not needed here
    reports = {"type": "click", "target": {"role": "link", "name": "Reports"}, "download": True}
    job = make_job(tmp_path / "c", [OPEN, {"id": "nothing", "narration": "", "actions": [reports]}],
                   session=storage_state(signed_in=True))
    with pytest.raises(RenderError, match=r"card 2 'nothing' › action 1: click: expected a download, but none "):
        asyncio.run(check(job))
