"""Native dialogs (alert, confirm, prompt, beforeunload): answered as the script says, and drawn.

A ``dialog`` action arms an answer for the next action of its card (the *trigger*).  Headless
Chromium paints no native dialog, and while one is open the page's scripts are blocked, so nothing
can be drawn in the page and no frame can be taken.  The technique, frame-exact on the virtual clock:

1. Just before the trigger sends its input, a still image of the page is taken with the overlay hidden
   (no cursor in it): what the page looks like when the dialog opens.
2. When the dialog opens, the clock is held (:attr:`Clock.hold`: no frame is drawn), the dialog is
   answered at once, and an overlay is drawn in the page (``dialogs.js``): the still image over the
   whole view — it hides the page's reaction to the answer — and a dialog like Chrome's on top
   ("<host> says", the message, a prompt's field, OK / Cancel).  Then the clock runs again.
3. When the trigger is done, the cursor glides to the chosen button (typing a prompt's text first),
   presses it, and the overlay goes: the viewer sees the page react the moment the button is pressed.
   About 1.2-2 s of video, the same in every render.

A dialog with no armed answer never hangs the render: it is dismissed (an alert accepted), with a
warning naming the card.  A trigger that raises no dialog is an error naming the card: the script
promises the viewer a dialog, and a video without it would contradict the narration (``--check``
finds it before a render).  A trigger whose answer navigates away loses the drawn dialog with the old
document; the new page is shown as it loads.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from playwright.async_api import Dialog as PWDialog
from playwright.async_api import Error as PlaywrightError

from ..errors import RenderError
from ..plan.timeline import DIALOG_GLIDE_S, DIALOG_PRESS_S, DIALOG_READ_S, dialog_typing_s
from ..script import Dialog
from .session import LOOPBACK_HOSTS

if TYPE_CHECKING:
    from .performer import ActionContext, Performer

log = logging.getLogger(__name__)

#: how long after its trigger a dialog may open (video seconds; it usually opens during the trigger)
OPEN_WAIT_S = 2.0
#: real seconds answering a dialog or drawing it may take before the render gives up on the drawing
ANSWER_TIMEOUT_S = 5.0


@dataclass
class _Seen:
    kind: str
    message: str
    title: str
    buttons: dict[str, Any] | None = None  # where the drawn buttons are (None: not drawn)
    error: str | None = None


@dataclass
class _Armed:
    answer: Dialog
    card_index: int
    trigger_index: int
    frozen: bytes | None = None
    seen: _Seen | None = None
    task: asyncio.Future[None] | None = None


def dialog_title(url: str) -> str:
    """Chrome's title for a page's dialog: "<host[:port]> says".  A loopback host loses its port: a
    served site gets a new port in every render, which would make renders differ and means nothing to
    the viewer."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "This page says"
    if parts.hostname in LOOPBACK_HOSTS:
        return f"{parts.hostname} says"
    return f"{parts.netloc.rsplit('@', 1)[-1]} says"


class DialogDriver:
    def __init__(self, performer: Performer) -> None:
        self.p = performer
        self.armed: _Armed | None = None
        performer.page.context.on("dialog", self._on_dialog)

    # -------------------------------------------------------------- arming (the dialog action)

    def arm(self, ctx: ActionContext, answer: Dialog) -> None:
        self.armed = _Armed(answer, ctx.card_index, ctx.action_index + 1)

    def _is_trigger(self, card_index: int | None, action_index: int | None) -> bool:
        a = self.armed
        return a is not None and a.card_index == card_index and a.trigger_index == action_index

    async def before_input(self) -> None:
        """The trigger is about to send input: keep a still of the page without the overlay."""
        a = self.armed
        p = self.p
        if a is None or a.frozen is not None or a.seen is not None or not p.clock.capture \
                or not self._is_trigger(p.where.card_index, p.where.action_index):
            return  # (a --check run films nothing: no still needed)
        await p._eval("() => window.__reelwright && window.__reelwright.hide(true)")
        try:
            a.frozen = await asyncio.wait_for(p.clock.snapshot(), ANSWER_TIMEOUT_S)
        except (PlaywrightError, TimeoutError):
            a.frozen = None
        finally:
            await p._eval("() => window.__reelwright && window.__reelwright.hide(false)")

    # -------------------------------------------------------------- the dialog opens

    def _on_dialog(self, dialog: PWDialog) -> None:
        p = self.p
        a = self.armed
        if a is None or a.seen is not None or not self._is_trigger(p.where.card_index, p.where.action_index):
            self._unexpected(dialog)
            return
        url = ""
        with contextlib.suppress(Exception):
            url = dialog.page.url if dialog.page is not None else p.page.url
        a.seen = _Seen(dialog.type, dialog.message, dialog_title(url))
        hold: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        p.clock.hold = hold
        a.task = asyncio.ensure_future(self._answer(dialog, a, hold))

    def _unexpected(self, dialog: PWDialog) -> None:
        w = self.p.where
        where = f"card {w.card_index + 1} '{w.card_id}'" if w.card_index is not None else "before the first card"
        if w.action_index is not None:
            where += f", action {w.action_index + 1} ({w.action_type})"
        answer = "accepted" if dialog.type in ("alert", "beforeunload") else "dismissed"
        self.p.stats.warnings.append(
            f"{where}: a {dialog.type} dialog opened with no dialog action before it; it was {answer} "
            "(add a dialog action right before the action that raises it)")
        log.warning("%s: unexpected %s dialog %s", where, dialog.type, answer)
        reply = dialog.accept() if answer == "accepted" else dialog.dismiss()
        task = asyncio.ensure_future(asyncio.wait_for(reply, ANSWER_TIMEOUT_S))
        task.add_done_callback(lambda t: None if t.cancelled() else t.exception())

    async def _answer(self, dialog: PWDialog, a: _Armed, hold: asyncio.Future[None]) -> None:
        assert a.seen is not None
        seen = a.seen
        try:
            if a.answer.response == "accept":
                if dialog.type == "prompt" and a.answer.text is not None:
                    await asyncio.wait_for(dialog.accept(a.answer.text), ANSWER_TIMEOUT_S)
                else:
                    await asyncio.wait_for(dialog.accept(), ANSWER_TIMEOUT_S)
            else:
                await asyncio.wait_for(dialog.dismiss(), ANSWER_TIMEOUT_S)
            frozen = None if a.frozen is None else "data:image/jpeg;base64," + base64.b64encode(a.frozen).decode()
            page = dialog.page or self.p.page
            got = await asyncio.wait_for(page.evaluate(
                "d => window.__reelwrightDialogs ? window.__reelwrightDialogs.draw(d) : null",
                {"kind": dialog.type, "title": seen.title, "message": dialog.message,
                 "value": dialog.default_value, "frozen": frozen}), ANSWER_TIMEOUT_S)
            seen.buttons = got if isinstance(got, dict) else None
        except (PlaywrightError, TimeoutError) as exc:
            # an answer that navigates away takes the document (and the drawing) with it
            seen.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.debug("the dialog was answered but not drawn: %s", seen.error)
        finally:
            if self.p.clock.hold is hold:
                self.p.clock.hold = None
            if not hold.done():
                hold.set_result(None)

    # -------------------------------------------------------------- after the trigger

    async def after_action(self, ctx: ActionContext, action: Any) -> None:
        a = self.armed
        if a is None or not self._is_trigger(ctx.card_index, ctx.action_index):
            return
        self.armed = None
        p = self.p

        async def opened() -> bool | None:
            return True if a.seen is not None else None

        try:
            await p.clock.until(opened, OPEN_WAIT_S, "the dialog")
        except TimeoutError:
            shot = await p._error_screenshot(ctx)
            raise RenderError(
                f"expected a dialog after this {action.type} (the dialog action before it answers one), "
                f"but none opened within {OPEN_WAIT_S:g} s",
                card_index=ctx.card_index, card_id=ctx.card_id, action_index=ctx.action_index, screenshot=shot,
                hint="remove the dialog action, or check that this action really raises the dialog") from None
        if a.task is not None:
            await asyncio.wait({a.task}, timeout=2 * ANSWER_TIMEOUT_S)
        assert a.seen is not None
        await self._present(a.answer, a.seen)

    async def _present(self, answer: Dialog, seen: _Seen) -> None:
        """Read, type, glide to the chosen button, press it, and take the drawn dialog away."""
        p = self.p
        buttons = seen.buttons
        if buttons is None or not await p._eval("() => Boolean(window.__reelwrightDialogs && "
                                                "window.__reelwrightDialogs.shown())"):
            return  # not drawn (the answer navigated away): the new page is what the viewer sees
        t = p.clock.now + DIALOG_READ_S + min(0.6, len(seen.message) * 0.008)
        await p.clock.advance_to(t)
        if seen.kind == "prompt" and answer.response == "accept" and answer.text is not None:
            typing = dialog_typing_s(answer.text)
            await p._eval("([s, ms]) => window.__reelwrightDialogs && window.__reelwrightDialogs.type(s, ms)",
                          [answer.text, typing * 1000])
            await p.clock.advance_to(p.clock.now + typing + 0.15)
        which = "cancel" if answer.response == "dismiss" and buttons.get("cancel") else "ok"
        spot = buttons.get(which) or buttons.get("ok")
        if isinstance(spot, dict) and p.settings.cursor:
            x, y = float(spot["x"]), float(spot["y"])
            await p.move_cursor(x, y, p.clock.now + DIALOG_GLIDE_S)
            await p.ripple(x, y)
        await p._eval("w => window.__reelwrightDialogs && window.__reelwrightDialogs.press(w)", which)
        await p.clock.advance_to(p.clock.now + DIALOG_PRESS_S)
        await p._eval("() => window.__reelwrightDialogs && window.__reelwrightDialogs.remove()")
        await p.clock.step()


async def dialog_executor(p: Performer, ctx: ActionContext, a: Dialog) -> float:
    """The ``dialog`` action: arm the answer for the next action (nothing shows yet)."""
    await p.clock.advance_to(ctx.fire_s)
    p.dialogs.arm(ctx, a)
    return p.clock.now
