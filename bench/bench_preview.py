"""Card preview vs full render: how long "Preview card" takes for one card of the bundled example,
beside the full render of the same example, in one run (so both see the same machine load).

    .venv/bin/python bench/bench_preview.py [--card 6] [--script PATH] [--repeat 2] [--draw-small]

Each repeat times three previews: *cold* (the preview starts its own browser), *warm* (the browser
was started earlier and is kept between previews; see app.core.capture.launch) and *prepared* (the
desktop app's way: when a card is picked, the flow is replayed up to it in the background; the
click then voices and films the card; timed from the click; see app.core.preview.prepare_preview).

``--card`` counts from 1, as the card list does.  The voice cache is warmed first (a full render
voices every card; a preview voices only its card), so both figures are the pipeline without TTS.
It also checks the preview against the full render: PSNR of the preview's frames against the full
render's frames of the same card, downscaled, at a few moments.  Numbers depend on the machine and
on what else runs on it (``uptime`` is printed before and after); compare the columns of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.bundle import load_job  # noqa: E402
from app.core.capture import WarmBrowser  # noqa: E402
from app.core.infra.tools import find_ffmpeg  # noqa: E402
from app.core.preview import DrawMode, PreviewResult, prepare_preview, preview_card, warm_up  # noqa: E402
from app.core.render import RenderResult, render  # noqa: E402


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def psnr(preview: Path, full: Path, first_frame: int, index: int, size: tuple[int, int]) -> float:
    """PSNR (dB, luma+chroma average) of preview frame ``index`` against the full render's frame
    ``first_frame + index`` scaled to the preview's size."""
    w, h = size
    graph = (f"[0:v]select=eq(n\\,{index}),setpts=N[a];"
             f"[1:v]select=eq(n\\,{first_frame + index}),scale={w}:{h}:flags=bicubic,setpts=N[b];[a][b]psnr")
    err = subprocess.run([str(find_ffmpeg()), "-v", "info", "-i", str(preview), "-i", str(full),
                          "-filter_complex", graph, "-frames:v", "1", "-f", "null", "-"],
                         capture_output=True, text=True, check=False).stderr
    m = re.search(r"average:([0-9.]+|inf)", err)
    return float(m.group(1)) if m else float("nan")


async def run_preview(script: Path, index: int, out: Path, draw: DrawMode,
                      warm: WarmBrowser | None = None) -> tuple[float, PreviewResult]:
    job = load_job(script)
    t0 = time.monotonic()
    res = await preview_card(job, index, out, draw=draw, warm=warm)
    return time.monotonic() - t0, res


async def run_prepared(script: Path, index: int, out: Path, draw: DrawMode,
                       warm: WarmBrowser) -> tuple[float, PreviewResult]:
    """The app's way: the card is picked, its flow replayed in the background while the user reads;
    timed from the click."""
    job = load_job(script)
    prepared = prepare_preview(job, index, out, draw=draw, warm=warm)
    assert prepared is not None
    while not prepared.ready:
        if prepared.task.done():
            prepared.task.result()  # raises what went wrong
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # reading the card
    t0 = time.monotonic()
    res = await preview_card(job, index, out, draw=draw, prepared=prepared)
    return time.monotonic() - t0, res


async def run_previews(script: Path, index: int, work: Path, draw: DrawMode,
                       repeat: int) -> tuple[dict[str, list[float]], PreviewResult]:
    """``repeat`` previews of each kind, alternating, in one loop: *cold* (a browser started for
    each), *warm* (the app's kept browser, started when the card was picked) and *prepared* (the
    app's way: the flow also replayed up to the card before the click; timed from the click)."""
    warm = WarmBrowser()
    await warm_up(load_job(script), warm, draw=draw)
    times: dict[str, list[float]] = {"cold": [], "warm": [], "prepared": []}
    res: PreviewResult | None = None
    for i in range(max(1, repeat)):
        for kind in times:
            out = work / f"preview-{kind}-{i}.mp4"
            if kind == "prepared":
                wall, res = await run_prepared(script, index, out, draw, warm)
            else:
                wall, res = await run_preview(script, index, out, draw, warm if kind == "warm" else None)
            times[kind].append(wall)
            stages = ", ".join(f"{k} {v:.2f}" for k, v in res.stage_times.items())
            print(f"preview {i + 1} ({kind}): {wall:.2f} s ({stages}); {load()}")
    await warm.close()
    assert res is not None
    return times, res


async def run_render(script: Path, out_dir: Path) -> tuple[float, RenderResult]:
    job = load_job(script)
    t0 = time.monotonic()
    res = await render(job, out_dir, name="full")
    return time.monotonic() - t0, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--script", default=str(ROOT / "resources/examples/quickstart/script.json"))
    ap.add_argument("--card", type=int, default=6, help="the card to preview, counted from 1 (default 6)")
    ap.add_argument("--repeat", type=int, default=2, help="previews to time (the best is compared)")
    ap.add_argument("--draw-small", action="store_true", help="draw the page small instead of scaling frames")
    args = ap.parse_args()
    script = Path(args.script)
    index = args.card - 1
    work = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    print(f"before: {load()}")
    full_wall, full = asyncio.run(run_render(script, work / "full"))  # also warms the voice cache
    print(f"after the full render: {load()}")
    draw: DrawMode = "device-scale" if args.draw_small else "encoder"
    times, res = asyncio.run(run_previews(script, index, work, draw, args.repeat))
    card = res.card
    print(f"\ncard {args.card} '{card.title}': {res.duration_s:.1f} s of video from {card.start_s:.1f} s, "
          f"{res.width}x{res.height}, {res.frames} frames, {res.screenshots} screenshots, "
          f"exact timing: {res.exact_timing}")
    print(f"full render : {full.duration_s:.1f} s of video in {full_wall:6.2f} s "
          f"({', '.join(f'{k} {v:.1f}' for k, v in full.stage_times.items())})")
    for kind, walls in times.items():
        best = min(walls)
        print(f"preview {kind:8}: {res.duration_s:.1f} s of video in {best:6.2f} s (best of {len(walls)}; "
              f"{best / full_wall:.2f}x the full render's time, {full_wall / best:.1f}x faster)")
    print("  (cold: the preview starts its browser; warm: the app's browser kept between previews;\n"
          "   prepared: the app's way, the flow replayed up to the card when it was picked, timed from the click)")
    picks = [0, res.frames // 3, 2 * res.frames // 3, res.frames - 1]
    last = work / f"preview-prepared-{len(times['prepared']) - 1}.mp4"
    values = [psnr(last, full.video, res.first_frame, i, (res.width, res.height)) for i in picks]
    print("identity    : PSNR vs the full render's frames (scaled) at frames "
          + ", ".join(f"{i}: {v:.1f} dB" for i, v in zip(picks, values, strict=True)))
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
