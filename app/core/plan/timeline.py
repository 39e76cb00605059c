"""The plan: when each card starts, when each action fires, how long each hold is.

Pure functions of (script, narration durations and bookmarks, action durations).  The same
:class:`Scheduler` is used twice: :func:`plan` runs it with estimated action durations (for the
progress total and for tests), and the performer runs it live with the durations it measures on the
video clock, so a slow page load shifts what follows instead of colliding with it.

Rules:
- narration of a card starts at the card's start and is never cut: a card lasts at least its
  narration, plus the gap before the next card;
- actions with ``at`` fire on their bookmark; the others are spread evenly over the narration between
  bookmarks; an action never starts before the previous one has finished;
- every time is snapped up to the frame grid, so narration starts on a frame.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..script import (
    Card,
    Check,
    Click,
    DblClick,
    Dialog,
    Fill,
    Goto,
    Highlight,
    Hover,
    Press,
    Script,
    Scroll,
    Select,
    Settings,
    TypeText,
    Uncheck,
    Upload,
    Wait,
    WaitFor,
    Zoom,
)
from .camera import CameraMove
from .camera import plan_card as plan_camera_card

#: seconds the cursor takes to travel to a target before a pointer action fires
CURSOR_TRAVEL_S = 0.6
#: zoom ease in / ease out
ZOOM_EASE_S = 0.5
#: a drawn native dialog (app.core.capture.dialogs): time to read it (plus up to 0.6 s for a long
#: message), a prompt's typing per character and at most, the cursor's glide to the button, the press
DIALOG_READ_S = 0.45
DIALOG_TYPE_CHAR_S = 0.06
DIALOG_TYPE_MAX_S = 1.2
DIALOG_GLIDE_S = 0.5
DIALOG_PRESS_S = 0.3
#: the "Downloaded <file name>" cue after an action with download=true (app.core.capture.downloads)
DOWNLOAD_CUE_S = 1.5


def dialog_typing_s(text: str) -> float:
    """How long the drawn prompt takes to show ``text`` being typed."""
    return min(DIALOG_TYPE_MAX_S, max(0.2, len(text) * DIALOG_TYPE_CHAR_S))


def follow_on_s(card: Card, action_index: int, fps: int) -> float:
    """Expected time an action's aftermath adds after it is done: the drawn dialog it raises (when a
    dialog action precedes it) and its download cue.  An estimate: a dialog's message, which sets the
    reading time, is only known when it opens."""
    extra = 0.0
    prev = card.actions[action_index - 1] if action_index > 0 else None
    if isinstance(prev, Dialog):
        extra += DIALOG_READ_S + 0.3 + DIALOG_GLIDE_S + DIALOG_PRESS_S + 1 / fps
        if prev.response == "accept" and prev.text is not None:
            extra += dialog_typing_s(prev.text) + 0.15
    if getattr(card.actions[action_index], "download", False):
        extra += DOWNLOAD_CUE_S
    return extra


@dataclass(frozen=True)
class VoiceTiming:
    """What the planner needs of a voiced card: its length and where its bookmarks fall."""

    duration_s: float
    marks: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionTiming:
    card_index: int
    action_index: int
    start_s: float  # when its lead-in (cursor travel) begins
    fire_s: float  # the moment it takes effect (the click, the first keystroke, the navigation)
    end_s: float  # when it is done and the next action may start


@dataclass(frozen=True)
class CardTiming:
    index: int
    card_id: str
    title: str
    start_s: float
    end_s: float
    voice_start_s: float
    voice_duration_s: float
    actions: tuple[ActionTiming, ...] = ()

    @property
    def voice_end_s(self) -> float:
        return self.voice_start_s + self.voice_duration_s


@dataclass(frozen=True)
class Timeline:
    fps: int
    cards: tuple[CardTiming, ...]
    duration_s: float

    @property
    def frame_count(self) -> int:
        return round(self.duration_s * self.fps)

    def frame_of(self, t: float) -> int:
        return round(t * self.fps)


def is_pointer_action(action: object) -> bool:
    """Actions the cursor travels to before they fire."""
    return isinstance(action, Click | DblClick | Hover | Fill | TypeText | Select | Check | Uncheck | Upload)


def action_lead_s(action: object, settings: Settings) -> float:
    """Time before the fire moment: the cursor travelling to the target."""
    if is_pointer_action(action) and settings.cursor:
        return CURSOR_TRAVEL_S
    return 0.0


#: where a navigation's page comes from this machine (loopback), so it loads on the render's virtual
#: clock within a frame; measured: the example's intro, outro and site pages, one frame each
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
#: a navigation anywhere else: the network decides
REMOTE_GOTO_S = 0.8


def is_local_goto(url: str, settings: Settings | None) -> bool:
    """Whether ``url`` (as a goto names it) is served from this machine: a relative URL when the
    script's ``site`` folder is served on loopback, or an absolute one to a loopback host (the
    intro/outro pages, a local server)."""
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return settings is not None and settings.site is not None
    return (parts.hostname or "") in _LOOPBACK_HOSTS


def estimate_action_s(action: object, settings: Settings | None = None) -> float:
    """Expected time from fire to done.  The performer replaces this with what it measures.
    With ``settings``, a navigation to a page served from this machine is planned as one frame."""
    match action:
        case Goto(url=url):
            if settings is not None and is_local_goto(url, settings):
                return 1 / settings.fps
            return REMOTE_GOTO_S
        case Click() | DblClick() | Check() | Uncheck():
            return 0.35
        case Hover():
            return 0.3
        case Fill():
            return 0.4
        case TypeText(text=text, delay_ms=delay):
            return len(text) * delay / 1000 + 0.2
        case Press():
            return 0.25
        case Select():
            return 0.45
        case Scroll():
            return 0.8
        case WaitFor():
            return 0.2
        case Wait(ms=ms):
            return ms / 1000
        case Highlight(duration_ms=ms):
            return ms / 1000
        case Zoom(duration_ms=ms):
            return 2 * ZOOM_EASE_S + ms / 1000
        case Upload():
            return 0.4
    return 0.3


def min_action_s(action: object) -> float:
    """The least an action may last on screen (so the viewer sees it), whatever was measured."""
    match action:
        case Click() | DblClick() | Check() | Uncheck() | Select():
            return 0.3
        case Wait(ms=ms):
            return ms / 1000
        case Highlight(duration_ms=ms):
            return ms / 1000
        case Zoom(duration_ms=ms):
            return 2 * ZOOM_EASE_S + ms / 1000
        case TypeText(text=text, delay_ms=delay):
            return len(text) * delay / 1000
    return 0.0


def desired_fire_offsets(card: Card, voice: VoiceTiming) -> list[float]:
    """Where each action of a card would like to fire, in seconds from the card's start.

    Bookmarked actions fire on their mark.  Unmarked actions are spread evenly over the stretch of
    narration between the marks around them; the first stretch starts at 0 with an action, later
    stretches start after the action on the mark.
    """
    n = len(card.actions)
    out: list[float] = [0.0] * n
    anchors: list[tuple[int, float]] = []  # (action index, time)
    for i, a in enumerate(card.actions):
        if a.at is not None:
            anchors.append((i, float(voice.marks.get(a.at, 0.0))))
    bounds = [(-1, 0.0), *anchors, (n, max(voice.duration_s, 0.0))]
    for (ia, ta), (ib, tb) in itertools.pairwise(bounds):
        if 0 <= ia < n:
            out[ia] = ta
        between = list(range(ia + 1, ib))
        m = len(between)
        span = max(tb - ta, 0.0)
        for j, idx in enumerate(between):
            frac = j / m if ia < 0 else (j + 1) / (m + 1)
            out[idx] = ta + span * frac
    return out


def snap_up(t: float, fps: int) -> float:
    """The first frame time at or after ``t`` (with a tolerance for float noise)."""
    return math.ceil(t * fps - 1e-6) / fps


class Scheduler:
    """Places cards and actions on the timeline one at a time.

    Driven by :func:`plan` with estimates, and by the performer with measured durations; both
    produce the same timeline when the measurements equal the estimates.
    """

    def __init__(self, script: Script, settings: Settings, voices: Sequence[VoiceTiming]) -> None:
        if len(voices) != len(script.cards):
            raise ValueError("one VoiceTiming per card is required")
        self.script = script
        self.settings = settings
        self.voices = list(voices)
        self.fps = int(settings.fps)
        self.cards: list[CardTiming] = []
        self._cursor = snap_up(settings.lead_in_ms / 1000, self.fps)  # start of the next card
        self._card_index = -1
        self._card_start = 0.0
        self._desired: list[float] = []
        self._prev_end = 0.0
        self._actions: list[ActionTiming] = []
        self._camera: list[CameraMove | None] = []

    def fork(self) -> Scheduler:
        """A copy that can be driven on without changing this one (between cards only)."""
        if len(self.cards) != self._card_index + 1:
            raise ValueError("fork() between cards only")
        twin = copy.copy(self)
        twin.cards = list(self.cards)
        return twin

    # -- cards
    def begin_card(self, index: int) -> float:
        if index != len(self.cards):
            raise ValueError("cards must be scheduled in order")
        self._card_index = index
        self._card_start = self._cursor
        card = self.script.cards[index]
        self._desired = [self._card_start + d for d in desired_fire_offsets(card, self.voices[index])]
        self._camera = plan_camera_card(card, self.settings)
        self._prev_end = self._card_start
        self._actions = []
        return self._card_start

    def fire_time(self, action_index: int) -> tuple[float, float]:
        """(start of lead-in, fire moment) of an action, given what has run so far."""
        action = self.script.cards[self._card_index].actions[action_index]
        lead = action_lead_s(action, self.settings)
        move = self._camera[action_index] if action_index < len(self._camera) else None
        if move is not None:
            lead += move.lead_s  # the camera eases in before the cursor sets off
        fire = snap_up(max(self._desired[action_index], self._prev_end + lead), self.fps)
        return snap_up(fire - lead, self.fps) if lead else fire, fire

    def camera_move(self, action_index: int) -> CameraMove | None:
        """The auto-zoom move around an action of the current card (see :mod:`app.core.plan.camera`)."""
        return self._camera[action_index] if action_index < len(self._camera) else None

    def action_done(self, action_index: int, start_s: float, fire_s: float, end_s: float) -> None:
        action = self.script.cards[self._card_index].actions[action_index]
        end = snap_up(max(end_s, fire_s + min_action_s(action)), self.fps)
        self._actions.append(ActionTiming(self._card_index, action_index, start_s, fire_s, end))
        self._prev_end = end

    def end_card(self) -> CardTiming:
        idx = self._card_index
        card = self.script.cards[idx]
        voice = self.voices[idx]
        content_end = max(self._card_start + voice.duration_s, self._prev_end)
        is_last = idx == len(self.script.cards) - 1
        gap = 0.0 if is_last else self.settings.gap_ms / 1000
        end = snap_up(content_end + gap + card.hold_ms / 1000, self.fps)
        if end <= self._card_start:  # an empty card still shows for a moment
            end = snap_up(self._card_start + 1.0, self.fps)
        timing = CardTiming(idx, card.id, card.title or card.id, self._card_start, end, self._card_start,
                            voice.duration_s, tuple(self._actions))
        self.cards.append(timing)
        self._cursor = end
        return timing

    def finish(self) -> Timeline:
        end = snap_up(self._cursor + self.settings.lead_out_ms / 1000, self.fps)
        return Timeline(self.fps, tuple(self.cards), end)


def plan(
    script: Script,
    settings: Settings,
    voices: Sequence[VoiceTiming],
    measured: Mapping[tuple[int, int], float] | None = None,
) -> Timeline:
    """The whole timeline, with action durations (fire → done) taken from ``measured`` where given
    and from :func:`estimate_action_s` otherwise."""
    return plan_rest(Scheduler(script, settings, voices), measured)


def plan_rest(sched: Scheduler, measured: Mapping[tuple[int, int], float] | None = None) -> Timeline:
    """Place the cards ``sched`` has not begun yet, with estimated durations (or ``measured`` ones),
    and return the whole timeline.  ``sched`` is used up: pass :meth:`Scheduler.fork` to predict the
    rest of a live run without disturbing it."""
    measured = measured or {}
    script, settings = sched.script, sched.settings
    for ci in range(len(sched.cards), len(script.cards)):
        card = script.cards[ci]
        sched.begin_card(ci)
        for ai, action in enumerate(card.actions):
            start, fire = sched.fire_time(ai)
            move = sched.camera_move(ai)
            dur = measured.get((ci, ai), estimate_action_s(action, settings) + (move.tail_s if move else 0.0)
                               + follow_on_s(card, ai, sched.fps))
            sched.action_done(ai, start, fire, fire + dur)
        sched.end_card()
    return sched.finish()
