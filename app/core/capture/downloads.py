"""Downloads: an action with ``download: true`` shows a "Downloaded <file name>" cue; the file is discarded.

The browser context accepts downloads (Playwright keeps them in its own temporary folder, which goes
with the browser); every download is deleted as soon as it is seen — nothing is ever written into the
render's outputs.  The action that says it downloads waits (on the video clock, bounded) for its
download and then shows the cue for :data:`CUE_S`; a download that never comes fails the render naming
the card.  A download nobody announced is discarded too, with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from playwright.async_api import Download, Page
from playwright.async_api import Error as PlaywrightError

from ..errors import RenderError
from ..plan.timeline import DOWNLOAD_CUE_S

if TYPE_CHECKING:
    from .performer import ActionContext, Performer

log = logging.getLogger(__name__)

#: how long the "Downloaded <name>" cue stays on screen (video seconds)
CUE_S = DOWNLOAD_CUE_S
#: how long an action with download=true waits for its download to start (video seconds)
DOWNLOAD_WAIT_S = 10.0
#: real seconds deleting a download may take
DELETE_TIMEOUT_S = 5.0


class DownloadWatcher:
    def __init__(self, performer: Performer) -> None:
        self.p = performer
        self.seen: list[str] = []  # suggested file names not yet claimed by an action
        self._deletions: set[asyncio.Future[None]] = set()
        self.watch(performer.page)
        with contextlib.suppress(Exception):  # a context without events (never in a real session)
            performer.page.context.on("page", self.watch)

    def watch(self, page: Page) -> None:
        page.on("download", self._on_download)

    def _on_download(self, download: Download) -> None:
        self.seen.append(download.suggested_filename)
        task = asyncio.ensure_future(self._discard(download))
        self._deletions.add(task)
        task.add_done_callback(self._deletions.discard)

    @staticmethod
    async def _discard(download: Download) -> None:
        """Delete the file (cancel it first if it is still coming): it never reaches the outputs."""
        try:
            await asyncio.wait_for(download.cancel(), DELETE_TIMEOUT_S)
            await asyncio.wait_for(download.delete(), DELETE_TIMEOUT_S)
        except (PlaywrightError, TimeoutError) as exc:
            # the browser's own temporary folder is removed when it closes
            log.debug("could not delete a download now: %s", str(exc).splitlines()[0] if str(exc) else exc)

    async def after_action(self, ctx: ActionContext, action: Any) -> None:
        p = self.p
        if not getattr(action, "download", False):
            if self.seen:
                p.stats.warnings.append(
                    f"card {ctx.card_index + 1} '{ctx.card_id}': action {ctx.action_index + 1} ({action.type}) "
                    f"downloaded {', '.join(self.seen)} without download: true; the file was discarded")
                self.seen.clear()
            return

        async def arrived() -> str | None:
            return self.seen.pop(0) if self.seen else None

        try:
            name = await p.clock.until(arrived, DOWNLOAD_WAIT_S, "the download")
        except TimeoutError:
            shot = await p._error_screenshot(ctx)
            raise RenderError(f"{action.type}: expected a download, but none started within {DOWNLOAD_WAIT_S:g} s",
                              card_index=ctx.card_index, card_id=ctx.card_id, action_index=ctx.action_index,
                              screenshot=shot,
                              hint="does this action really download a file? If not, remove download: true") from None
        self.seen.clear()
        if self._deletions:
            await asyncio.wait(set(self._deletions), timeout=2 * DELETE_TIMEOUT_S)
        fire = p.clock.now
        await p._eval("([t, n, ms]) => window.__reelwrightDialogs && window.__reelwrightDialogs.toast(t, n, ms)",
                      ["Downloaded", name, CUE_S * 1000])
        await p.clock.advance_to(fire + CUE_S)
