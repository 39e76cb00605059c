"""What one frame costs on the virtual clock, by kind, and the floor it puts under a render.

Opens the bundled example's dashboard in ``chromium-headless-shell`` (``--deterministic-mode``, the
render's own flags) at each size, with a small dot moving on every frame (as the cursor does in a
glide), and times the frame loop's three kinds of round trip through Playwright's driver, as
:class:`app.core.capture.clock.VirtualClock` issues them:

- a *grant*: one frame interval of virtual time (``Emulation.setVirtualTimePolicy`` and its
  ``virtualTimeBudgetExpired`` event);
- a *probe*: a frame drawn without pixels (``HeadlessExperimental.beginFrame``);
- a *shot*: a frame drawn with pixels (the same call with a JPEG screenshot, quality 90).

It prints wall ms per round trip, the CPU that Chromium's processes, the Node driver and Python
spend on each shot, and the JPEG's size.  With the plain example's frame counts (``--frames``,
``--shots``, ``--video-s``: a 1280x720 render's figures) it then prints the floor: the time the
frame loop alone needs, as seconds of wall per second of video and as a ratio to real time, which
is what Playwright's ``record_video`` takes.  No render can be faster than its floor without
fewer shots (docs/performance.md, "The floor").

    .venv/bin/python bench/frame_cost.py [--sizes 1280x720,1920x1080] [--rounds 150]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import http.server
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402

from app.core.infra.tools import chromium_args, find_browser  # noqa: E402

SITE = ROOT / "resources/examples/quickstart/site"
#: a dot that moves every frame, on its own compositor layer, like the overlay's cursor
MOVING_DOT = """() => {
  const d = document.createElement('div');
  d.style.cssText = 'position:fixed;left:0;top:0;width:20px;height:20px;border-radius:10px;' +
                    'background:#e33;z-index:9999;will-change:transform';
  document.body.appendChild(d);
  let x = 0;
  const step = () => { x += 3; d.style.transform = `translate(${x % 1200}px,${(x / 3) % 700}px)`;
                       requestAnimationFrame(step); };
  requestAnimationFrame(step);
}"""


def _serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


def _cpu_seconds(kinds: tuple[str, ...] = ("chromium", "node")) -> dict[str, float]:
    """CPU seconds (user + system) so far of this machine's Chromium processes and Node drivers."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {k: 0.0 for k in kinds}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = ("chromium" if b"chrom" in cmd[0] else
                "node" if cmd[0].endswith(b"/node") and any(b"playwright" in c for c in cmd) else None)
        if kind in out:
            out[kind] += (int(stat[11]) + int(stat[12])) / tick
    return out


async def measure(browser: Path, port: int, width: int, height: int, rounds: int) -> dict[str, float]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(browser), headless=True,
                                     args=[*chromium_args(), f"--window-size={width},{height}", "--deterministic-mode"])
        try:
            ctx = await b.new_context(viewport={"width": width, "height": height})
            page = await ctx.new_page()
            cdp = await ctx.new_cdp_session(page)
            expired = asyncio.Event()
            cdp.on("Emulation.virtualTimeBudgetExpired", lambda _: expired.set())
            reply = await cdp.send("Emulation.setVirtualTimePolicy", {"policy": "pause"})
            ticks = float(reply["virtualTimeTicksBase"])
            interval = 1000 / 30

            async def grant() -> None:
                expired.clear()
                await cdp.send("Emulation.setVirtualTimePolicy",
                               {"policy": "pauseIfNetworkFetchesPending", "budget": interval})
                await expired.wait()

            async def frame(shot: bool) -> dict[str, Any]:
                nonlocal ticks
                ticks += interval
                params: dict[str, Any] = {"frameTimeTicks": ticks, "interval": interval}
                if shot:
                    params["screenshot"] = {"format": "jpeg", "quality": 90}
                return await cdp.send("HeadlessExperimental.beginFrame", params)

            nav = asyncio.ensure_future(page.goto(f"http://127.0.0.1:{port}/dashboard.html"))
            for _ in range(300):
                await grant()
                await frame(False)
                if nav.done():
                    break
            await nav
            for _ in range(30):  # fonts, the theme's transition
                await grant()
                await frame(False)
            await page.evaluate(MOVING_DOT)
            for _ in range(10):
                await grant()
                await frame(True)

            result: dict[str, float] = {}
            t0 = time.perf_counter()
            for _ in range(rounds):
                await grant()
            result["grant_ms"] = (time.perf_counter() - t0) / rounds * 1000
            t0 = time.perf_counter()
            for _ in range(rounds):
                await grant()
                await frame(False)
            result["probe_ms"] = (time.perf_counter() - t0) / rounds * 1000 - result["grant_ms"]
            cpu0, py0, size = _cpu_seconds(), time.process_time(), 0
            t0 = time.perf_counter()
            for _ in range(rounds):
                await grant()
                shot = await frame(True)
                size += len(base64.b64decode(shot["screenshotData"]))
            result["shot_ms"] = (time.perf_counter() - t0) / rounds * 1000 - result["grant_ms"]
            cpu1 = _cpu_seconds()
            for kind in cpu1:
                result[f"{kind}_cpu_ms"] = (cpu1[kind] - cpu0[kind]) / rounds * 1000
            result["python_cpu_ms"] = (time.process_time() - py0) / rounds * 1000
            result["jpeg_kb"] = size / rounds / 1000
            return result
        finally:
            await b.close()


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1280x720,1920x1080")
    ap.add_argument("--rounds", type=int, default=150)
    ap.add_argument("--frames", type=int, default=1643, help="frames of the render the floor is for")
    ap.add_argument("--shots", type=int, default=756, help="of them, frames that need pixels")
    ap.add_argument("--video-s", type=float, default=54.77, help="its length in seconds")
    args = ap.parse_args()
    browser = find_browser()
    if browser.kind != "headless-shell":
        print("needs chromium-headless-shell (frame-exact capture)", file=sys.stderr)
        return 2
    server, port = _serve(SITE)
    try:
        print(f"{'size':>10} {'grant':>7} {'probe':>7} {'shot':>7}   CPU per shot: "
              f"{'Chromium':>8} {'Node':>6} {'Python':>6}   {'JPEG':>6}   floor for {args.shots} shots "
              f"of {args.frames} frames")
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            r = await measure(browser.path, port, w, h, args.rounds)
            still = args.frames - args.shots
            floor_s = (args.frames * r["grant_ms"] + args.shots * r["shot_ms"] + still * r["probe_ms"]) / 1000
            shots_s = args.shots * r["shot_ms"] / 1000
            print(f"{size:>10} {r['grant_ms']:5.1f}ms {r['probe_ms']:5.1f}ms {r['shot_ms']:5.1f}ms"
                  f"                {r['chromium_cpu_ms']:6.1f}ms {r['node_cpu_ms']:4.1f}ms {r['python_cpu_ms']:4.1f}ms"
                  f"   {r['jpeg_kb']:4.0f}kB   {floor_s:5.1f} s = {floor_s / args.video_s:.2f} s/s "
                  f"(the shots alone {shots_s / args.video_s:.2f} s/s)")
    finally:
        server.shutdown()
    print("record_video is real time: about 0.97 s/s on any machine.  A render's ratio to it cannot be "
          "below its floor in s/s divided by that.")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
