"""The watchdog's pure parts: its bound from the environment and how it names what a task awaits.

The watchdog itself runs against a real browser in tests/integration/test_capture_faults.py.
"""

from __future__ import annotations

import asyncio

import pytest

from app.core.capture.watchdog import DEFAULT_STALL_S, describe_awaiting, stall_seconds


@pytest.mark.parametrize(("raw", "want"), [("", DEFAULT_STALL_S), ("7.5", 7.5), ("0", DEFAULT_STALL_S),
                                           ("-3", DEFAULT_STALL_S), ("soon", DEFAULT_STALL_S)])
def test_stall_bound_from_the_environment(raw: str, want: float, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELWRIGHT_STALL_S", raw)
    assert stall_seconds() == want


def test_describe_awaiting_names_the_innermost_wait_and_its_what() -> None:
    # Coroutines defined in a module under app/core are what the chain walk reads; these stand-ins
    # carry the names the performer and clock use, and the chain is a real suspended task's.
    namespace: dict[str, object] = {}
    code = compile(
        "import asyncio\n"
        "async def _budget(ev):\n    await ev.wait()\n"
        "async def step(ev):\n    await _budget(ev)\n"
        "async def until(ev, what):\n    await step(ev)\n"
        "async def resolve(ev):\n    await until(ev, 'the element')\n",
        "/somewhere/app/core/capture/fake_chain.py", "exec")
    exec(code, namespace)  # compiled from a literal above, so its frames carry an app/core path

    async def main() -> tuple[str | None, str | None]:
        ev = asyncio.Event()
        inner = asyncio.ensure_future(namespace["_budget"](ev))  # type: ignore[operator]
        outer = asyncio.ensure_future(namespace["resolve"](ev))  # type: ignore[operator]
        await asyncio.sleep(0)
        texts = describe_awaiting(inner), describe_awaiting(outer)
        ev.set()
        await asyncio.gather(inner, outer)
        return texts

    inner_text, outer_text = asyncio.run(main())
    assert inner_text is not None and inner_text.startswith("the browser to finish a frame")
    # the innermost coroutine with a known meaning wins over an outer 'what'
    assert outer_text is not None and "budget ← step ← until ← resolve" in outer_text
    assert outer_text.startswith("the browser to finish a frame")
