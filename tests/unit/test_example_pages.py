"""The timing test page (resources/testpages/clock.html) and its pixel decoder (decode.py).

The synthetic frames here are drawn straight from the encoding documented at the top of
clock.html, not with decode.py's own helpers, so a drift between the page's comment and the
decoder fails a test.  The browser tests screenshot the real page in the headless shell and decode
it after a JPEG round trip, as the capture stage sees frames.
"""

from __future__ import annotations

import importlib.util
import io
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "resources" / "testpages"


def _load_decoder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("clock_decode", PAGES / "decode.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


decode = _load_decoder()


# --------------------------------------------------------------------------- synthetic frames


def _frame(width: int = 1280, height: int = 720) -> np.ndarray:
    return np.full((height, width, 3), 255, dtype=np.uint8)


def _fill_cell(img: np.ndarray, x: float, y: float, colour: tuple[int, int, int], w: float = 1, h: float = 1) -> None:
    c = img.shape[1] / 32
    img[round(y * c) : round((y + h) * c), round(x * c) : round((x + w) * c)] = colour


def _paint_row(img: np.ndarray, y: int, fields: list[tuple[int, int]], *, flip_parity: bool = False) -> None:
    """As documented: guard at x=1, data MSB first, parity (odd ones -> black), guard."""
    bits = [(v >> b) & 1 for v, n in fields for b in range(n - 1, -1, -1)]
    parity = sum(bits) % 2 ^ int(flip_parity)
    for i, bit in enumerate([1, *bits, parity, 1]):
        if bit:
            _fill_cell(img, 1 + i, y, (0, 0, 0))


def _jpeg(img: np.ndarray, quality: int = 80) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


@pytest.mark.parametrize("value", [0, 1, 2, 1000, 33_367, 0xAAAAA, 0x55555, 2**20 - 1])
@pytest.mark.parametrize("size", [(1280, 720), (640, 360), (1080, 1920)])
def test_decode_clock_reads_documented_encoding(value: int, size: tuple[int, int]) -> None:
    img = _frame(*size)
    _paint_row(img, 1, [(value, 20)])
    _paint_row(img, 3, [(0, 8), (0, 8)])
    assert decode.decode_clock(_jpeg(img)) == value
    assert decode.decode_clock(img) == value


def test_animation_clock_row_is_separate_from_time_row() -> None:
    img = _frame()
    _paint_row(img, 1, [(1234, 20)])
    _paint_row(img, 2, [(987_654, 20)])
    frame = _jpeg(img)
    assert decode.decode_clock(frame) == 1234
    assert decode.decode_animation_clock(frame) == 987_654


def test_decode_counters_reads_clicks_and_field_length() -> None:
    img = _frame()
    _paint_row(img, 1, [(5, 20)])
    _paint_row(img, 3, [(3, 8), (200, 8)])
    frame = _jpeg(img, 85)
    assert decode.decode_counters(frame) == (3, 200)
    assert decode.decode_clicks(frame) == 3
    assert decode.decode_field_length(frame) == 200


def test_unpainted_frame_is_an_error_not_zero() -> None:
    with pytest.raises(decode.ClockDecodeError, match="guard"):
        decode.decode_clock(_frame())


def test_parity_catches_a_corrupted_bit() -> None:
    img = _frame()
    _paint_row(img, 1, [(1234, 20)], flip_parity=True)
    with pytest.raises(decode.ClockDecodeError, match="parity"):
        decode.decode_clock(img)


def test_grey_cell_is_an_error() -> None:
    img = _frame()
    _paint_row(img, 1, [(0, 20)])
    _fill_cell(img, 5, 1, (128, 128, 128))
    with pytest.raises(decode.ClockDecodeError, match="neither black nor white"):
        decode.decode_clock(img)


def test_bad_shapes_are_errors() -> None:
    with pytest.raises(decode.ClockDecodeError):
        decode.decode_clock(np.zeros((720, 1280), dtype=np.uint8))
    with pytest.raises(decode.ClockDecodeError, match="too short"):
        decode.decode_clock(np.zeros((20, 1280, 3), dtype=np.uint8))


def test_panel_is_red_only_for_solid_red() -> None:
    img = _frame()
    assert not decode.panel_is_red(img)
    _fill_cell(img, 1, 8, (255, 0, 0), 5, 5)
    assert decode.panel_is_red(_jpeg(img))
    _fill_cell(img, 1, 8, (29, 78, 216), 5, 5)  # the bar's blue is not red
    assert not decode.panel_is_red(img)


@pytest.mark.parametrize("phase", [0.0, 0.25, 0.5, 0.9])
def test_bar_position(phase: float) -> None:
    img = _frame()
    _fill_cell(img, 0, 15, (229, 231, 235), 32, 1)
    _fill_cell(img, phase * 30, 15, (29, 78, 216), 2, 1)
    assert decode.bar_position(_jpeg(img)) == pytest.approx(phase, abs=1 / 1280 * 2)
    with pytest.raises(decode.ClockDecodeError, match="no bar"):
        decode.bar_position(_frame())


# --------------------------------------------------------------------------- the real page


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    from app.core.infra.tools import CHROMIUM_ARGS, find_browser

    found = find_browser("headless-shell")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(found.path), args=list(CHROMIUM_ARGS))
        yield b
        b.close()


def _shot(page: Any, quality: int) -> np.ndarray:
    from PIL import Image

    data = page.screenshot(type="jpeg", quality=quality)
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _open_clock(browser: Any, width: int, height: int) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto((PAGES / "clock.html").as_uri())
    page.wait_for_function("window.__clock.frames >= 2")
    return page


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1280, 720), (640, 360), (1080, 1920)])
def test_real_page_round_trips_through_jpeg(browser: Any, size: tuple[int, int]) -> None:
    page = _open_clock(browser, *size)
    try:
        # The live clock: stop painting, then the frame must show exactly what the page last painted.
        ms = page.evaluate("window.__clock.pause()")
        assert ms >= 0
        assert decode.decode_clock(_shot(page, 80)) == ms
        assert decode.decode_counters(_shot(page, 80)) == (0, 0)
        assert not decode.panel_is_red(_shot(page, 80))
        # Every bit position both ways, at both ends of the quality range the capture stage uses.
        for value in (0, 2**20 - 1, 0xAAAAA, 0x55555, 654_321):
            page.evaluate("v => window.__clock.show(v)", value)
            for quality in (80, 90):
                assert decode.decode_clock(_shot(page, quality)) == value
    finally:
        page.close()


@pytest.mark.browser
def test_real_page_shows_clicks_and_typing_in_pixels(browser: Any) -> None:
    page = _open_clock(browser, 1280, 720)
    try:
        assert not decode.panel_is_red(_shot(page, 80))
        page.get_by_role("button", name="Click me").click()
        page.get_by_test_id("btn").click()
        page.get_by_label("Field").press_sequentially("hello")
        page.evaluate("window.__clock.pause()")
        frame = _shot(page, 80)
        assert decode.panel_is_red(frame)
        assert decode.decode_counters(frame) == (2, 5)
        assert page.get_by_test_id("echo").inner_text() == "hello"
        assert page.get_by_role("list", name="Click log").get_by_role("listitem").count() == 2
        assert 0.0 <= decode.bar_position(frame) < 1.0
    finally:
        page.close()


@pytest.mark.browser
def test_under_frame_exact_capture_the_page_shows_the_frame_time() -> None:
    """Virtual time + HeadlessExperimental.beginFrame, as the capture stage drives the browser:
    the painted clock is the frame's time on the video clock and the CSS bar moves in step."""
    import asyncio
    import base64

    from PIL import Image
    from playwright.async_api import async_playwright

    from app.core.infra.tools import CHROMIUM_ARGS, find_browser

    fps = 30
    interval = 1000 / fps

    async def capture(nframes: int) -> list[np.ndarray]:
        found = find_browser("headless-shell")
        async with async_playwright() as p:
            b = await p.chromium.launch(executable_path=str(found.path), args=[*CHROMIUM_ARGS, "--deterministic-mode"])
            try:
                ctx = await b.new_context(viewport={"width": 640, "height": 360})
                page = await ctx.new_page()
                cdp = await ctx.new_cdp_session(page)
                expired = asyncio.Event()
                cdp.on("Emulation.virtualTimeBudgetExpired", lambda _e: expired.set())
                await cdp.send("Emulation.setVirtualTimePolicy", {"policy": "pause"})
                await page.goto((PAGES / "clock.html").as_uri(), wait_until="commit")
                # Frame ticks must lie after the page's time origin (real monotonic ms).
                base = round(time.monotonic() * 1000 + 1000)
                frames = []
                for i in range(nframes):
                    expired.clear()
                    await cdp.send(
                        "Emulation.setVirtualTimePolicy",
                        {"policy": "pauseIfNetworkFetchesPending", "budget": interval},
                    )
                    await asyncio.wait_for(expired.wait(), 10)
                    ticks = round((base + i * interval) * 10) / 10 + 0.0001
                    r = await cdp.send(
                        "HeadlessExperimental.beginFrame",
                        {
                            "frameTimeTicks": ticks,
                            "interval": interval,
                            "screenshot": {"format": "jpeg", "quality": 80},
                        },
                    )
                    if "screenshotData" in r:
                        data = base64.b64decode(r["screenshotData"])
                        frames.append(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
                return frames
            finally:
                await b.close()

    # Its own thread: the module's sync Playwright keeps an event loop running on this one.
    with ThreadPoolExecutor(1) as pool:
        frames = pool.submit(asyncio.run, capture(12)).result(timeout=120)
    assert len(frames) == 12
    clocks = [decode.decode_clock(f) for f in frames]
    anims = [decode.decode_animation_clock(f) for f in frames]
    bars = [decode.bar_position(f) * decode.BAR_PERIOD_MS for f in frames]
    for i, ms in enumerate(clocks):
        # the budget for frame i is granted before its beginFrame, so it shows time (i + 1) frames
        assert abs(ms - (i + 1) * interval) <= 1, clocks
    for i in range(1, len(frames)):
        assert abs(anims[i] - anims[i - 1] - interval) <= 1, anims
        assert abs(bars[i] - bars[i - 1] - interval) <= 4, bars
