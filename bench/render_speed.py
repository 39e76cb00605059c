"""Render speed: Reelwright's frame-exact render vs Playwright's own ``record_video`` replay.

Renders the bundled example in three rows — the flow plain at 1280x720, the script as ``make demo``
renders it (camera, music, intro/outro, poster) at 1280x720, and the flow plain at 1920x1080 — and
prints wall time per second of output with the per-stage breakdown.  After each row, in the same run,
it replays that row's timeline with Playwright's high-level API and ``record_video`` (real time by
design) at the same size, and ends with a table of the ratios against the targets of issue 19.
``--rows full,live`` adds the ``make demo`` row with every camera ease filmed live, as before
``capture/postcam.py`` (the lever measured side by side).

    .venv/bin/python bench/render_speed.py [--rows plain,full,hd,live] [--script PATH] [--fps 30] [--skip-playwright]

Numbers depend on the machine and on what else runs on it; compare the columns of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.bundle import RenderSettings, load_job  # noqa: E402
from app.core.capture import clock as clock_module  # noqa: E402
from app.core.capture.performer import _to_playwright  # noqa: E402
from app.core.infra.siteserver import SiteServer  # noqa: E402
from app.core.infra.tools import CHROMIUM_ARGS, find_ffmpeg  # noqa: E402
from app.core.render import RenderResult, render  # noqa: E402
from app.core.script import Settings  # noqa: E402

#: the video polish of issue 7 (zoom camera, music bed, intro/outro cards, poster); ``--plain`` and
#: the first row of the default run leave it out, to measure the narrated flow itself
POLISH = ("camera", "music", "intro", "outro", "poster", "preview", "burn_captions")


async def reelwright_render(
    script: Path, out_dir: Path, width: int, height: int, fps: int, *, plain: bool = False
) -> tuple[float, RenderResult]:
    job = load_job(script)
    if plain:
        defaults = {k: Settings.model_fields[k].default for k in POLISH}
        job.script = job.script.model_copy(update={"settings": job.script.settings.model_copy(update=defaults)})
    job.render = RenderSettings(width=width, height=height, fps=fps)
    t0 = time.monotonic()
    res = await render(job, out_dir, name="bench")
    return time.monotonic() - t0, res


async def playwright_record_video(script: Path, res: RenderResult, out_dir: Path, width: int,
                                  height: int) -> tuple[float, float]:
    """Replay the flow with Playwright's own API, recording with record_video, keeping each card on
    screen as long as Reelwright's timeline does (narration time).  Returns (wall s, video s)."""
    from playwright.async_api import async_playwright

    job = load_job(script)
    # Playwright's recorder needs "its" ffmpeg; point it at ours (nothing is downloaded).
    browsers = Path(tempfile.mkdtemp(prefix="pw-browsers-"))
    ff_dir = browsers / "ffmpeg-1013"
    ff_dir.mkdir(parents=True)
    (ff_dir / "ffmpeg-linux").symlink_to(find_ffmpeg())
    os.environ["PLAYWRIGHT_BROWSERS_PATH"] = str(browsers)
    server = SiteServer(job.site_files()).start()
    chromium = shutil.which("chromium") or "/usr/lib/chromium/chromium-headless-shell"
    t0 = time.monotonic()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS))
        ctx = await browser.new_context(viewport={"width": width, "height": height},
                                        record_video_dir=str(out_dir / "pw"),
                                        record_video_size={"width": width, "height": height})
        page = await ctx.new_page()
        start = time.monotonic()
        cards = {c.id: c for c in job.script.cards}
        for timing in res.cards:  # includes intro/outro cards, which only hold the screen here
            await asyncio.sleep(max(0.0, timing.start_s - (time.monotonic() - start)))
            card = cards.get(timing.card_id)
            for action in card.actions if card else []:
                await _pw_action(page, action, server.base_url)
        await asyncio.sleep(max(0.0, res.duration_s - (time.monotonic() - start)))
        video = page.video
        await ctx.close()
        path = await video.path() if video else None
        await browser.close()
    wall = time.monotonic() - t0
    server.stop()
    shutil.rmtree(browsers, ignore_errors=True)
    from app.core.mix import probe

    dur = (await probe(Path(path))).duration_s if path else float("nan")
    return wall, dur


async def _pw_action(page: Any, a: Any, base: str) -> None:
    t = a.type
    loc: Any = _to_playwright(page, a.target) if getattr(a, "target", None) is not None else None
    if t == "goto":
        await page.goto(a.url if "://" in a.url else base + "/" + a.url.lstrip("/"))
    elif t in ("click", "dblclick"):
        await (loc.dblclick() if t == "dblclick" else loc.click())
    elif t == "fill":
        await loc.fill(a.value)
    elif t == "type":
        await loc.press_sequentially(a.text, delay=a.delay_ms)
    elif t == "press":
        await (loc.press(a.key) if loc else page.keyboard.press(a.key))
    elif t == "hover":
        await loc.hover()
    elif t == "select":
        await loc.select_option(a.values)
    elif t in ("check", "uncheck"):
        await (loc.check() if t == "check" else loc.uncheck())
    elif t == "scroll":
        if loc:
            await loc.scroll_into_view_if_needed()
        else:
            await page.mouse.wheel(0, a.by or 600)
    elif t == "wait_for":
        if loc:
            await loc.first.wait_for(state=a.state)
    elif t in ("wait", "highlight", "zoom"):
        ms: Any = getattr(a, "ms", None) or getattr(a, "duration_ms", None) or 1000
        await asyncio.sleep(float(ms) / 1000)


def report(label: str, wall: float, res: RenderResult, w: int, h: int, fps: int) -> float:
    per = wall / res.duration_s
    print(f"\n{label}\nReelwright ({res.capture_mode}) {w}x{h}@{fps}: {res.duration_s:.1f} s of video in {wall:.1f} s "
          f"= {per:.2f} s wall per output second")
    for stage, secs in res.stage_times.items():
        print(f"  {stage:<8} {secs:6.1f} s  ({secs / res.duration_s:.2f} s/s)")
    print(f"  frames {res.frames}, screenshots {res.screenshots} "
          f"({100 * res.screenshots / max(res.frames, 1):.0f}% of frames needed pixels); audio made "
          f"{'during' if res.audio_overlapped else 'after'} the capture"
          + (f" (started again {res.audio_restarts}x as the timeline left the plan)" if res.audio_restarts else ""))
    if res.eases_after_capture or res.eases_live:
        print(f"  camera eases: {res.eases_after_capture} made after capture, {res.eases_live} filmed live")
    return per


class Row(NamedTuple):
    key: str
    label: str
    size: tuple[int, int]
    plain: bool
    #: issue 19's target: at most this many times record_video's wall time per output second
    target: float
    #: film every camera ease live, frame by frame (the way before capture/postcam.py)
    live_camera: bool = False


ROWS = (
    Row("plain", "the flow, plain (no camera, music, intro/outro or poster)", (1280, 720), True, 0.45),
    Row("full", "the script as make demo renders it (camera, music, intro/outro, poster)", (1280, 720), False, 0.55),
    Row("hd", "the flow, plain, at 1920x1080", (1920, 1080), True, 0.60),
    # not in the default run: the same as "full" with every camera ease filmed live, to measure the lever
    Row("live", "as make demo renders it, every camera ease filmed live (REELWRIGHT_LIVE_CAMERA=1)",
        (1280, 720), False, 0.55, live_camera=True),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--script", default=str(ROOT / "resources/examples/quickstart/script.json"))
    ap.add_argument("--rows", default="plain,full,hd",
                    help="which rows, comma-separated: plain, full, hd, live (full with live camera eases)")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--plain", action="store_true", help="only the plain row (= --rows plain)")
    ap.add_argument("--full", action="store_true", help="only the make-demo row (= --rows full)")
    ap.add_argument("--skip-playwright", action="store_true")
    args = ap.parse_args()
    keys = ["plain"] if args.plain else ["full"] if args.full else [k.strip() for k in args.rows.split(",")]
    unknown = set(keys) - {r.key for r in ROWS}
    if unknown:
        ap.error(f"unknown rows: {', '.join(sorted(unknown))}")
    out = Path(tempfile.mkdtemp(prefix="reelwright-bench-"))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    table: list[tuple[Row, float, float | None]] = []
    for row in (r for r in ROWS if r.key in keys):
        w, h = row.size
        clock_module.LIVE_CAMERA = row.live_camera
        wall, res = asyncio.run(reelwright_render(Path(args.script), out, w, h, args.fps, plain=row.plain))
        per = report(row.label, wall, res, w, h, args.fps)
        pw_per: float | None = None
        if not args.skip_playwright:
            # the same row's timeline (its intro/outro holds included), at the same size
            pw_wall, pw_dur = asyncio.run(playwright_record_video(Path(args.script), res, out, w, h))
            pw_per = pw_wall / pw_dur
            print(f"  Playwright record_video replay of the same timeline: {pw_dur:.1f} s of video in "
                  f"{pw_wall:.1f} s = {pw_per:.2f} s wall per output second")
        table.append((row, per, pw_per))
    if not args.skip_playwright:
        print("\nratio to record_video (record_video is real time by design and has no cursor, narration or mix):")
        print(f"  {'row':<6} {'size':<10} {'Reelwright s/s':>14} {'record_video s/s':>16} {'ratio':>6} {'target':>7}")
        for row, per, pw in table:
            assert pw is not None
            ratio = per / pw
            print(f"  {row.key:<6} {row.size[0]}x{row.size[1]:<5} {per:>14.2f} {pw:>16.2f} {ratio:>5.2f}x "
                  f"{row.target:>6.2f}x  {'within target' if ratio <= row.target else 'over target'}")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
