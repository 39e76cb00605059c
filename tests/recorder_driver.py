"""Drive the headed recorder's browser like a person would, for the recorder tests.

The recorder (``playwright codegen``) starts the browser with a DevTools pipe only; the tests point
``REELWRIGHT_CHROMIUM`` at :func:`write_devtools_wrapper`'s script, which starts the real Chromium
with a DevTools *port* too.  Input then goes through ``Input.dispatchMouseEvent`` /
``Input.dispatchKeyEvent``: trusted events, delivered to the page exactly like the X server's, so
the recorder's injected script records them as the user's clicks and keystrokes.  Closing the page
target is the user closing the recorder's window.

Also: a private Xvfb display (:func:`xvfb`), and a screen grab of it (:func:`grab_screen`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_devtools_wrapper(folder: Path, port: int, chromium: str = "/usr/bin/chromium") -> Path:
    """A browser 'binary' that is the system Chromium plus a DevTools port on loopback.

    Playwright launches its Inspector (the recorder's code window, ``--app=…``) with the same binary:
    that one gets no port, so the port always leads to the browser being recorded."""
    p = folder / "chromium-with-devtools"
    p.write_text(f'#!/bin/sh\ncase "$*" in *--app=*) exec {chromium} "$@" ;; esac\n'
                 f'exec {chromium} "$@" --remote-debugging-address=127.0.0.1 --remote-debugging-port={port}\n')
    p.chmod(0o755)
    return p


@contextlib.contextmanager
def xvfb(width: int = 1280, height: int = 900) -> Iterator[str]:
    """A private X display (``:N``) for the test's duration."""
    exe = shutil.which("Xvfb")
    if exe is None:
        raise RuntimeError("Xvfb is not installed")
    r, w = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(w), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    try:
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def grab_screen(display: str, out: Path, width: int = 1280, height: int = 900) -> Path:
    """A PNG of the whole X display (ffmpeg's x11grab)."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "x11grab", "-video_size", f"{width}x{height}",
                    "-i", display, "-frames:v", "1", str(out)], check=True, timeout=20,
                   env={**os.environ, "DISPLAY": display})
    return out


class RecorderBrowser:
    """The recorder's page, over its DevTools port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._http: aiohttp.ClientSession | None = None
        self._ws: Any = None
        self._id = 0
        self.target: dict[str, Any] = {}

    async def targets(self) -> list[dict[str, Any]]:
        assert self._http is not None
        async with self._http.get(f"http://127.0.0.1:{self.port}/json/list") as r:
            return list(await r.json())

    async def attach(self, url_prefix: str, timeout_s: float = 60.0) -> None:
        """Wait for the recorder's page at ``url_prefix`` and attach to it."""
        self._http = aiohttp.ClientSession()
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError, ValueError):
                pages = [t for t in await self.targets() if t.get("type") == "page"
                         and str(t.get("url", "")).startswith(url_prefix)]
                if pages:
                    self.target = pages[0]
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no recorder page at {url_prefix} after {timeout_s:.0f} s")
            await asyncio.sleep(0.2)
        self._ws = await self._http.ws_connect(self.target["webSocketDebuggerUrl"], max_msg_size=0)

    async def attach_popup(self, url_prefix: str, timeout_s: float = 15.0) -> RecorderBrowser:
        """Wait for a new tab at ``url_prefix`` (a popup the page opened) and attach a driver to it."""
        popup = RecorderBrowser(self.port)
        await popup.attach(url_prefix, timeout_s)
        return popup

    async def close_target(self, target_id: str) -> None:
        """Close a tab as the user does with its close button (``Target.closeTarget``)."""
        await self.call("Target.closeTarget", targetId=target_id)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(self._call(method, **params), 20)
        except TimeoutError:
            raise TimeoutError(f"{method} got no answer in 20 s") from None

    async def _call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        mid = self._id
        await self._ws.send_json({"id": mid, "method": method, "params": params})
        async for msg in self._ws:
            data = json.loads(msg.data)
            if data.get("id") == mid:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return dict(data["result"])
        raise RuntimeError("the recorder's page went away")

    async def evaluate(self, expression: str) -> Any:
        r = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return r["result"].get("value")

    async def wait_for(self, expression: str, timeout_s: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(RuntimeError):
                value = await self.evaluate(expression)
                if value:
                    return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression} stayed false for {timeout_s:.0f} s")
            await asyncio.sleep(0.1)

    async def click(self, selector: str) -> None:
        """Move to the element's centre and click it, as a mouse would."""
        sel = json.dumps(selector)
        x, y = await self.wait_for(
            f"(() => {{ const e = document.querySelector({sel}); if (!e) return null; e.scrollIntoView({{block: "
            f"'center'}}); const b = e.getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2] }})()")
        await self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        await asyncio.sleep(0.15)  # the recorder highlights the target on hover before the press
        for kind in ("mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        await asyncio.sleep(0.3)

    async def click_and_answer(self, selector: str, accept: bool) -> None:
        """Click an element that raises a native dialog (confirm/alert/prompt), then press its OK (``accept``)
        or Cancel, as the user does in the recorder's window: the click only completes once the dialog is
        answered, so its release is sent without waiting and the dialog answered from the browser side."""
        sel = json.dumps(selector)
        x, y = await self.wait_for(
            f"(() => {{ const e = document.querySelector({sel}); if (!e) return null; e.scrollIntoView({{block: "
            f"'center'}}); const b = e.getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2] }})()")
        await self.call("Page.enable")  # a session is told of (and may answer) only dialogs it watched open
        await self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        await asyncio.sleep(0.15)
        await self.call("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left", clickCount=1)
        self._id += 1
        await self._ws.send_json({"id": self._id, "method": "Input.dispatchMouseEvent",
                                  "params": {"type": "mouseReleased", "x": x, "y": y, "button": "left",
                                             "clickCount": 1}})
        deadline = time.monotonic() + 10
        while True:
            await asyncio.sleep(0.3)  # the dialog shows for a moment, as a person reads it
            try:
                await self.call("Page.handleJavaScriptDialog", accept=accept)
                break
            except RuntimeError:  # "No dialog is showing" yet
                if time.monotonic() > deadline:
                    raise
        await asyncio.sleep(0.3)

    async def type(self, text: str) -> None:
        for ch in text:
            await self.call("Input.dispatchKeyEvent", type="keyDown", text=ch, key=ch)
            await self.call("Input.dispatchKeyEvent", type="keyUp", key=ch)
        await asyncio.sleep(0.3)

    async def close_window(self) -> None:
        """Close the recorder's page: what the user does to finish."""
        assert self._http is not None
        if self._ws is not None:
            await self._ws.close()
        with contextlib.suppress(aiohttp.ClientError, OSError):
            async with self._http.get(f"http://127.0.0.1:{self.port}/json/close/{self.target['id']}") as r:
                await r.read()

    async def aclose(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._http is not None:
            await self._http.close()


async def sign_in(base_url: str, state_path: Path) -> None:
    """Sign in in a real browser and keep the storage state, as ``--save-storage`` would."""
    from playwright.async_api import async_playwright

    from app.core.infra.tools import CHROMIUM_ARGS, find_browser

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(find_browser().path), args=list(CHROMIUM_ARGS))
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(f"{base_url}/signin.html")
            await page.get_by_role("textbox", name="Email").fill("maya@northwind.test")
            await page.get_by_role("textbox", name="Password").fill("correct-horse")
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url("**/dashboard.html")
            await context.storage_state(path=str(state_path))
        finally:
            await browser.close()


async def signed_in_tour(port: int, site: str, display: str, shots: Path) -> None:
    """The user's part of issue 13's signed-in tour, in the recorder's window (started at reports.html with
    a session loaded): Help opens a popup, "Yes" there, the popup's tab closed, "Delete report" confirmed
    with OK, "Export CSV" downloaded, the window closed.  Screen grabs of the popup and the end in ``shots``."""
    b = RecorderBrowser(port)
    popup: RecorderBrowser | None = None
    try:
        await b.attach(f"{site}/reports.html")
        await b.wait_for("document.readyState === 'complete'")
        # signed in from the session (signed out, reports.html sends you to the sign-in page)
        assert await b.wait_for("location.pathname.endsWith('/reports.html') && "
                                "document.querySelector('[data-user-name]').textContent") == "Maya"
        await asyncio.sleep(0.3)
        await b.click("a[href='help.html']")
        popup = await b.attach_popup(f"{site}/help.html")
        await popup.wait_for("document.readyState === 'complete'")
        await asyncio.sleep(0.3)
        await popup.click("#helpful-yes")
        assert await popup.wait_for("!document.getElementById('feedback-thanks').hidden")
        grab_screen(display, shots / "record-tour-popup.png")
        target = popup.target["id"]
        await popup.aclose()
        popup = None
        await b.close_target(target)
        await asyncio.sleep(0.5)
        await b.click_and_answer("#delete-report", accept=True)  # the user presses OK
        assert await b.wait_for("!document.getElementById('report-deleted').hidden")
        await b.click("#export-csv")
        await asyncio.sleep(0.8)  # the download finishes, the recorder writes its last lines
        grab_screen(display, shots / "record-tour-end.png")
        await b.close_window()
    finally:
        if popup is not None:
            await popup.aclose()
        await b.aclose()
