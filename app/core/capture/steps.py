"""What the interactive demo needs, recorded during the one live capture (no second browser run).

The performer tells a :class:`StepRecorder` when a card opens and when a viewer action (a click, a
fill, a key press …) is about to land: the recorder keeps the frame the video shows at that moment
(the capture's own JPEG), the target's box in CSS pixels and the video time.  The demo writer
(:mod:`app.core.mix.interactive`) is then a pure function of these records, so the video and its
interactive twin agree step for step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the records and the demo writer need no browser library
    from .clock import Clock

__all__ = ["VIEWER_ACTIONS", "StepBox", "StepRecord", "StepRecorder"]

#: action types a viewer of the demo does themselves (each becomes a step with a hotspot)
VIEWER_ACTIONS = frozenset({"click", "dblclick", "fill", "type", "press", "select", "check", "uncheck", "upload"})


@dataclass(frozen=True)
class StepBox:
    """The target's border box in CSS pixels of the viewport, as drawn (after scrolling and zoom)."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class StepRecord:
    """One step as captured: a card opening, or the moment before a viewer action."""

    kind: Literal["card", "action"]
    card_index: int
    action_index: int | None
    #: the video frame the still is (its JPEG bytes are ``jpeg``) and its time in seconds
    frame: int
    time_s: float
    jpeg: bytes
    box: StepBox | None = None
    #: the value typed into a password field is shown masked
    secret: bool = False


class StepRecorder:
    """Collects :class:`StepRecord` s while the performer runs; one per card opening and viewer action."""

    def __init__(self) -> None:
        self.records: list[StepRecord] = []
        #: the video's last frame (the final step when there is no outro card)
        self.end_record: StepRecord | None = None
        self._opened: set[int] = set()

    def opened(self, card_index: int) -> bool:
        return card_index in self._opened

    @staticmethod
    async def _still(clock: Clock) -> tuple[int, float, bytes] | None:
        # the last frame written is what the video shows right now: frame ``clock.frame - 1``
        jpeg = await clock.last_frame()
        if jpeg is None or clock.frame <= 0:
            return None
        frame = clock.frame - 1
        return frame, frame / clock.fps, jpeg

    async def card(self, clock: Clock, card_index: int) -> None:
        """The card's opening: the page as it is when the card's first viewer action begins (or the
        card ends)."""
        if card_index in self._opened:
            return
        still = await self._still(clock)
        if still is None:
            return
        self._opened.add(card_index)
        frame, t, jpeg = still
        self.records.append(StepRecord("card", card_index, None, frame, t, jpeg))

    async def action(self, clock: Clock, card_index: int, action_index: int, box: StepBox | None, *,
                     secret: bool = False) -> None:
        """The frame just before the action's input lands, with its target's box."""
        still = await self._still(clock)
        if still is None:
            return
        frame, t, jpeg = still
        self.records.append(StepRecord("action", card_index, action_index, frame, t, jpeg, box, secret))

    async def end(self, clock: Clock, card_index: int) -> None:
        """The video's last frame, once the run is over."""
        still = await self._still(clock)
        if still is not None:
            frame, t, jpeg = still
            self.end_record = StepRecord("card", card_index, None, frame, t, jpeg)
