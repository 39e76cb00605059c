"""The op helper: trigger disabled while running, progress throttled but stage changes kept, typed errors
shown in a dialog by default, cancel through the token, and a failing success handler contained."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.core.errors import Cancelled, RenderError
from app.core.infra.progress import CancelToken, Progress, ProgressCallback
from app.ui.ops import Op, describe_progress, format_eta
from app.ui.qt import QMessageBox, QPushButton, QWidget

pytestmark = pytest.mark.ui


def test_progress_is_throttled_and_errors_are_shown(qtbot: Any, run: Any) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    button = QPushButton(parent)
    seen: list[Progress] = []

    async def work(on_progress: ProgressCallback, cancel: CancelToken) -> int:
        for i in range(200):  # a burst, as the capture stage reports frames
            on_progress(Progress("capture", i / 200))
        on_progress(Progress("mix", 0.0, "muxing"))
        await asyncio.sleep(0)
        raise RenderError("the button is gone", card_index=1, card_id="b", action_index=0,
                          locator='get_by_role("button", name="Go")')

    async def scenario() -> Op[Any]:
        op = Op(parent, work, title="Render", trigger=button).with_progress(seen.append)
        op.run()
        assert not button.isEnabled()
        await Op.wait_all()
        return op

    op = run(scenario())
    assert button.isEnabled()
    assert len(seen) < 20 and seen[-1].stage == "mix"  # throttled, but the stage change got through
    assert isinstance(op.error, RenderError)
    box = parent.findChild(QMessageBox, "errorDialog")
    assert box is not None and "card 2 'b'" in box.text() and "Traceback" not in box.detailedText()


def test_cancel_reaches_the_token_and_is_not_an_error(qtbot: Any, run: Any) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)

    async def work(on_progress: ProgressCallback, cancel: CancelToken) -> None:
        await cancel.wait()
        cancel.raise_if_cancelled()

    async def scenario() -> Op[Any]:
        op = Op(parent, work, title="Draft")
        op.run()
        await asyncio.sleep(0)
        op.cancel()
        await Op.wait_all()
        return op

    op = run(scenario())
    assert isinstance(op.error, Cancelled)
    assert parent.findChild(QMessageBox, "errorDialog") is None


def test_an_op_whose_task_is_cancelled_before_it_starts_is_not_waited_for_forever(qtbot: Any, run: Any) -> None:
    """A task cancelled before its first step never runs the op's own bookkeeping; it must still leave
    ``Op.running``, or every later ``wait_all`` (tests, the close handler) waits for it forever."""
    parent = QWidget()
    qtbot.addWidget(parent)
    started: list[bool] = []

    async def work(on_progress: ProgressCallback, cancel: CancelToken) -> None:
        started.append(True)

    async def scenario() -> Op[Any]:
        op = Op(parent, work, title="Fetch")
        task = op.run()
        task.cancel()  # before the loop ever ran it
        await asyncio.wait_for(Op.wait_all(), 5)
        return op

    op = run(scenario())
    assert not started and op not in Op.running and op.task is not None and op.task.cancelled()


def test_a_failing_success_handler_is_contained(qtbot: Any, run: Any) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)

    async def work(on_progress: ProgressCallback, cancel: CancelToken) -> int:
        return 1

    def broken(_r: int) -> None:
        raise KeyError("oops")

    async def scenario() -> None:
        Op(parent, work, title="Preview").success(broken).run()
        await Op.wait_all()

    run(scenario())
    assert parent.findChild(QMessageBox, "errorDialog") is not None


def test_progress_text() -> None:
    assert format_eta(75) == "1 min 15 s left"
    assert describe_progress(Progress("capture", 0.42, "card 2 of 3", 0.5, 12)) == \
        "capture 42% — card 2 of 3 · 12 s left"
