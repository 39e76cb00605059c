"""Instant card preview: render one card only, small, in a few seconds.

:func:`preview_card` plans the whole script exactly as :func:`app.core.render.render` does (the
same bumpers, voices, target fit and live scheduler), replays the cards before the chosen one on a
:class:`~app.core.capture.clock.FastForwardClock` — no pixels, holds and glides granted as one
budget of virtual time — and films only the chosen card.  Its frames are therefore the full render's
frames of that card, made smaller.

Smaller how: the page is drawn exactly as in the full render (same CSS viewport, same device scale)
and the encoder scales each frame down (``draw="encoder"``).  Drawing it small instead
(``draw="device-scale"``: the same CSS viewport at ``scale`` times the device scale factor) films
in 40 % of the time (card 6 of the example: 1.6 s instead of 3.9 s), but it is not the same
picture: Chromium snaps layout to *device* pixels, so at a device scale of 0.5 boxes move by up to
2 CSS px, text is hinted differently, and the auto-zoom camera, which sizes its zoom from element
boxes, zooms a little differently (measured on the example: PSNR 24-30 dB against the full render's
frames, and the settings card ran 2 frames shorter).  Drawn at full size and scaled, the
preview's frames match the full render's to 38-42 dB (the difference is two lossy encodes).
A third way, scaling only the visual viewport (``Emulation.setDeviceMetricsOverride`` with a
``viewport`` of scale 0.5, which the page does not observe), kept the layout and the timeline and
filmed 3x faster, but its clip rectangle stays put when the page scrolls, so every frame after a
scroll showed the wrong part of the page; it is left out.

Voices: the chosen card is voiced (from the cache when it is there).  The earlier cards only set
*when* things happen on the video clock; their cached clips are used when present, and otherwise
their length is estimated from the word count (``PreviewResult.exact_timing`` is then False: the
page is in the same state, but an animation started just before the card may be at another phase).

The MP4 (H.264 + the card's narration, AAC) is written atomically to ``out``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from playwright.async_api import CDPSession

from .bundle import Job
from .capture import BrowserSession, FrameSink, NullSink, WarmBrowser
from .capture.clock import FastForwardClock, VirtualClock
from .capture.encoder import FfmpegSink
from .capture.performer import Performer
from .capture.session import load_storage_state
from .errors import RenderError
from .infra.fs import atomic_path
from .infra.progress import CancelToken, Progress, ProgressCallback, StageTracker
from .infra.tools import Browser, find_browser, find_ffmpeg
from .plan.bumpers import renumber_error
from .plan.presets import device_scale_for, fit_to_target
from .plan.timeline import CardTiming, Scheduler, Timeline, VoiceTiming, plan
from .render import _add_bumpers, _as_cancel, _Site, _uninterruptible, make_work_dir
from .script import Script, Settings, plain_narration
from .voice.base import VoiceClip

__all__ = ["DrawMode", "PreparedPreview", "PreviewResult", "build_preview_mux_args", "estimate_narration_s",
           "prepare_preview", "preview_card", "preview_key", "preview_size", "warm_up"]

log = logging.getLogger(__name__)

#: how the preview is made smaller (see the module's docstring)
DrawMode = Literal["encoder", "device-scale"]

#: share of the overall progress per stage (replaying and filming share "capture")
PREVIEW_STAGES = {"prepare": 0.02, "voice": 0.08, "plan": 0.0, "capture": 0.85, "mix": 0.05}
#: share of the capture stage spent replaying the earlier cards (measured: about as long as filming)
REPLAY_SHARE = 0.5

#: JPEG quality of the filmed frames' screenshots (a render's are 90).  The preview shows them at half
#: size, where 75 and 90 cannot be told apart (card 6 of the example: 45.5 dB PSNR between the two
#: previews), and 75 films about 10 % faster: Chromium's JPEG encode is part of every filmed frame.
PREVIEW_JPEG_QUALITY = 75

#: a prepared preview (see :func:`prepare_preview`) nobody asked for after this long ends, freeing its browser
PREPARED_WAIT_S = 300.0

#: words per second of an estimated (not yet voiced) narration, as the card editor estimates
ESTIMATE_WORDS_PER_S = 150.0 / 60.0


@dataclass
class PreviewResult:
    video: Path
    #: the card (index among the script's own cards) and its place on the full video's timeline
    card_index: int
    card: CardTiming
    duration_s: float
    width: int
    height: int
    #: the card's first frame's index in the full render (frame *i* of the preview is frame
    #: ``first_frame + i`` of the full render, drawn at ``width`` x ``height``)
    first_frame: int
    #: every earlier card's length came from its voiced clip (else some were estimated)
    exact_timing: bool
    frames: int
    screenshots: int
    stage_times: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    #: the flow was replayed ahead of the click (:func:`prepare_preview`); ``stage_times["waited"]``
    #: is how long it then waited at the card
    prepared: bool = False


def _noop(_: Progress) -> None:
    return None


def preview_size(width: int, height: int, scale: float) -> tuple[int, int, float]:
    """(width, height, scale) of a preview of a ``width`` x ``height`` video: ``scale`` of it, both
    sides even (H.264 4:2:0), with the scale adjusted so the CSS layout keeps its exact size."""
    if not 0 < scale <= 1:
        raise ValueError(f"preview scale must be in (0, 1], not {scale}")
    w = max(2, round(width * scale / 2) * 2)
    return w, max(2, round(height * w / width / 2) * 2), w / width


def estimate_narration_s(narration: str) -> float:
    """A narration's length before it is voiced, from its word count."""
    words = len(plain_narration(narration).split())
    return words / ESTIMATE_WORDS_PER_S


def build_preview_mux_args(ffmpeg: Path, *, video: Path, narration: Path | None, out: Path,
                           duration_s: float) -> list[str]:
    """Video copied, the card's narration (from 0 s, padded with silence) as AAC, ``+faststart``."""
    args = [str(ffmpeg), "-hide_banner", "-nostats", "-loglevel", "error", "-y", "-i", str(video)]
    if narration is not None:
        args += ["-i", str(narration), "-map", "0:v:0", "-map", "1:a:0",
                 "-af", f"apad=whole_dur={duration_s:.3f}", "-c:a", "aac", "-b:a", "128k", "-ar", "48000",
                 "-ac", "2"]
    else:
        args += ["-map", "0:v:0", "-an"]
    return [*args, "-c:v", "copy", "-t", f"{duration_s:.3f}", "-movflags", "+faststart", "-f", "mp4", str(out)]


class _PreviewScheduler(Scheduler):
    """The live scheduler, telling the clock where the card's frames start and end."""

    def __init__(self, script: Script, settings: Settings, voices: list[VoiceTiming], *, index: int,
                 clock: FastForwardClock, estimate: Timeline) -> None:
        super().__init__(script, settings, voices)
        self.index = index
        self.clock = clock
        self.estimate = estimate

    def begin_card(self, index: int) -> float:
        start = super().begin_card(index)
        if index == self.index:
            self.clock.set_capture_from(round(start * self.fps))
        elif index < self.index:
            # the live timeline drifts from the plan (a bumper's navigation is quicker than planned):
            # expect the card where the plan puts it relative to this card's live start
            ahead = self.estimate.cards[self.index].start_s - self.estimate.cards[index].start_s
            self.clock.expected_from = round((start + ahead) * self.fps)
        return start

    def end_card(self) -> CardTiming:
        timing = super().end_card()
        if timing.index == self.index:
            self.clock.capture_until = round(timing.end_s * self.fps)
        return timing


def _gate_hook(gate: _Gate, index: int, scheduler: Scheduler, clock: FastForwardClock,
               cancel: CancelToken) -> Callable[[int], Awaitable[None]]:
    """The performer's hook before each card: at the previewed card, wait for the click (keeping the
    watchdog from taking the wait for a stall), then give the scheduler the card's real voice."""

    async def before_card(ci: int) -> None:
        if ci != index:
            return
        gate.reached.set()
        t0 = time.monotonic()
        while not gate.go.is_set():
            if time.monotonic() - t0 > PREPARED_WAIT_S:
                cancel.cancel("the prepared preview was not used")
            cancel.raise_if_cancelled()
            clock.last_progress = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gate.go.wait(), 1.0)
        cancel.raise_if_cancelled()
        assert gate.clip is not None
        scheduler.voices[index] = VoiceTiming(gate.clip.duration_s, dict(gate.clip.marks))
        gate.waited_s = time.monotonic() - t0
        clock.last_progress = time.monotonic()

    return before_card


async def _voices(job: Job, settings: Settings, index: int, tracker: StageTracker, cancel: CancelToken, *,
                  voice_card: bool = True) -> tuple[list[VoiceTiming], VoiceClip | None, bool, list[str]]:
    """Every card's timing and the chosen card's clip.  Only the chosen card is voiced; the others
    come from the cache or, failing that, an estimate.  ``voice_card=False`` (a prepared preview,
    whose card is voiced at the click) treats the chosen card like the others and gives no clip."""
    from .voice import VoiceService, load_provider

    warnings: list[str] = []
    narrations = [c.narration for c in job.script.cards]
    provider = await load_provider(settings.voice.provider, settings.voice, [narrations[index]])
    reason = getattr(provider, "fallback_reason", None)
    if reason:
        warnings.append(f"voice: using {provider.describe()} because {reason}")
    service = VoiceService(provider)
    clip: VoiceClip | None = None
    if voice_card:
        tracker.report("voice", 0.0, "voicing the card")
        clip = await service.voice(narrations[index], settings.voice, cancel)
    voices: list[VoiceTiming] = []
    exact = True
    for i, narration in enumerate(narrations):
        if i == index and clip is not None:
            voices.append(VoiceTiming(clip.duration_s, dict(clip.marks)))
            continue
        if not plain_narration(narration).strip():
            voices.append(VoiceTiming(0.0))
            continue
        try:
            hit = service._cached(service.cache_key(narration, settings.voice))
        except (OSError, ValueError) as exc:
            log.debug("voice cache lookup failed for card %d: %s", i, exc)
            hit = None
        if hit is not None:
            voices.append(VoiceTiming(hit.duration_s, dict(hit.marks)))
        else:
            exact = exact and i == index  # the chosen card is voiced later (prepared): its length is no guess
            voices.append(VoiceTiming(estimate_narration_s(narration)))
    if not exact:
        warnings.append("some earlier cards are not voiced yet: their lengths are estimated, so the "
                        "preview's timing can differ slightly from the render")
    return voices, clip, exact, warnings


def _session(browser: Browser, settings: Settings, scale: float, draw: DrawMode, sink: FrameSink, *,
             cancel: CancelToken | None = None, storage_state: dict[str, Any] | None = None,
             make_clock: Callable[[CDPSession], VirtualClock] | None = None,
             warm: WarmBrowser | None = None) -> BrowserSession:
    """The (not yet started) browser session a preview of ``settings`` films with."""
    width, height, real_scale = preview_size(settings.width, settings.height, scale)
    dsf = device_scale_for(settings)
    small = draw == "device-scale"
    return BrowserSession(browser, *((width, height) if small else (settings.width, settings.height)),
                          settings.fps, sink, cancel=cancel,
                          device_scale_factor=dsf * real_scale if small else dsf, storage_state=storage_state,
                          session_asset=settings.session, make_clock=make_clock, warm=warm)


async def warm_up(job: Job, warm: WarmBrowser, *, scale: float = 0.5, draw: DrawMode = "encoder",
                  browser: Browser | None = None) -> bool:
    """Start the browser a preview of ``job`` would start, into ``warm``, ahead of the preview
    (the card editor does it when a card is picked).  False when there is no frame-exact browser."""
    browser = browser or find_browser()
    if browser.kind != "headless-shell":
        return False
    session = _session(browser, job.effective_settings(), scale, draw, NullSink())
    await warm.warm_up(browser, session.launch_args())
    return True


async def preview_card(
    job: Job,
    card_index: int,
    out: Path,
    *,
    scale: float = 0.5,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    browser: Browser | None = None,
    chunk_frames: int = 15,
    tail_frames: int | None = None,
    draw: DrawMode = "encoder",
    warm: WarmBrowser | None = None,
    prepared: PreparedPreview | None = None,
) -> PreviewResult:
    """Render card ``card_index`` (0-based, among the script's own cards) alone to ``out`` (MP4),
    ``scale`` times the video's size.  ``chunk_frames``/``tail_frames`` tune the replay (see
    :class:`FastForwardClock`); ``draw="device-scale"`` trades frame identity for speed (see the
    module).  ``warm`` keeps the browser running for the next preview (a new browser context each
    time; see :mod:`app.core.capture.launch`).  ``prepared``: a replay started ahead by
    :func:`prepare_preview`; it is used when it was made for this card of this script (ignoring the
    card's narration, voiced now), else discarded."""
    cancel = cancel or CancelToken()
    if prepared is not None:
        if prepared.fits(job, card_index, out, scale=scale, draw=draw):
            return await prepared.finish(job, on_progress, cancel)
        await prepared.discard()
    return await _run_preview(job, card_index, out, scale=scale, on_progress=on_progress, cancel=cancel,
                              browser=browser, chunk_frames=chunk_frames, tail_frames=tail_frames, draw=draw,
                              warm=warm, gate=None)


def preview_key(job: Job, card_index: int, out: Path, *, scale: float, draw: DrawMode) -> str:
    """What a preview's replay depends on: the script up to and including the card (its narration
    aside: it only sets the card's own length, and is voiced at the click), the render's overrides,
    the job's folder, the output and the preview's size."""
    data = job.script.model_dump(mode="json")
    cards = data["cards"][: card_index + 1]
    cards[-1] = {**cards[-1], "narration": None}
    data["cards"] = cards
    doc = {"script": data, "render": job.render.model_dump(mode="json"), "root": str(job.root),
           "out": str(out), "scale": scale, "draw": draw, "card": card_index}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode("utf-8")).hexdigest()


@dataclass
class _Gate:
    """Where a prepared preview waits: before its card begins, until :meth:`PreparedPreview.finish`."""

    index: int
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    go: asyncio.Event = field(default_factory=asyncio.Event)
    clip: VoiceClip | None = None
    on_progress: ProgressCallback | None = None
    #: real seconds the replay waited at the card for the click
    waited_s: float = 0.0

    def report(self, p: Progress) -> None:
        if self.on_progress is not None:
            self.on_progress(p)


class PreparedPreview:
    """A card preview replayed ahead of the click (:func:`prepare_preview`): the flow runs up to the
    card in the background and waits there, so "Preview card" only voices and films the card.

    The script's later cards and the card's narration may change meanwhile (the usual loop: edit the
    narration, preview, edit again); anything else that the replay depends on (:func:`preview_key`)
    makes :func:`preview_card` discard it and start over.  A script with a target length is never
    prepared: fitting it depends on every card's voice."""

    def __init__(self, key: str, gate: _Gate, cancel: CancelToken, task: asyncio.Task[PreviewResult]) -> None:
        self.key = key
        self.gate = gate
        self.cancel = cancel
        self.task = task
        self._finishing = False

    @property
    def ready(self) -> bool:
        """The replay has reached the card and waits for the click."""
        return self.gate.reached.is_set() and not self.task.done()

    def fits(self, job: Job, card_index: int, out: Path, *, scale: float, draw: DrawMode) -> bool:
        return (not self._finishing and not self.task.done() and card_index == self.gate.index
                and self.key == preview_key(job, card_index, Path(out), scale=scale, draw=draw))

    async def finish(self, job: Job, on_progress: ProgressCallback | None, cancel: CancelToken) -> PreviewResult:
        """Voice the card's narration as it is now, film the card, mux: the preview."""
        from .voice import VoiceService, load_provider

        self._finishing = True
        unlink = cancel.on_cancel(lambda: self.cancel.cancel(cancel.reason or "cancelled"))
        try:
            self.gate.on_progress = on_progress
            settings = job.effective_settings()
            narration = job.script.cards[self.gate.index].narration
            self.gate.report(Progress("voice", 0.0, "voicing the card"))
            provider = await load_provider(settings.voice.provider, settings.voice, [narration])
            self.gate.clip = await VoiceService(provider).voice(narration, settings.voice, cancel)
            self.gate.go.set()
            return await self.task
        except BaseException:
            await self.discard()
            raise
        finally:
            unlink()

    def abandon(self) -> None:
        """Ask the replay to stop, without waiting for it (see :meth:`discard`)."""
        if not self.task.done():
            self.cancel.cancel("the prepared preview was discarded")
            self.gate.go.set()

    async def discard(self) -> None:
        """Stop the replay and close its browser context (idempotent)."""
        self.abandon()
        with contextlib.suppress(BaseException):
            await self.task


def prepare_preview(job: Job, card_index: int, out: Path, *, scale: float = 0.5, draw: DrawMode = "encoder",
                    warm: WarmBrowser | None = None, browser: Browser | None = None) -> PreparedPreview | None:
    """Start replaying the flow up to card ``card_index`` in the background (the card editor does it
    when a card is picked); pass the result to :func:`preview_card` as ``prepared``.  None when the
    script cannot be prepared (a target length)."""
    if job.effective_settings().target_s is not None or not 0 <= card_index < len(job.script.cards):
        return None
    gate = _Gate(card_index)
    cancel = CancelToken()
    out = Path(out)
    task = asyncio.ensure_future(_run_preview(job, card_index, out, scale=scale, on_progress=gate.report,
                                              cancel=cancel, browser=browser, chunk_frames=15, tail_frames=None,
                                              draw=draw, warm=warm, gate=gate))
    # a prepared preview nobody asked for ends quietly (discarded, or its flow failed: the click says so)
    task.add_done_callback(lambda t: None if t.cancelled() else t.exception())
    return PreparedPreview(preview_key(job, card_index, out, scale=scale, draw=draw), gate, cancel, task)


async def _run_preview(job: Job, card_index: int, out: Path, *, scale: float, on_progress: ProgressCallback | None,
                       cancel: CancelToken, browser: Browser | None, chunk_frames: int, tail_frames: int | None,
                       draw: DrawMode, warm: WarmBrowser | None, gate: _Gate | None) -> PreviewResult:
    tracker = StageTracker(on_progress or _noop, weights=dict(PREVIEW_STAGES))
    n_cards = len(job.script.cards)
    if not 0 <= card_index < n_cards:
        raise RenderError(f"there is no card {card_index + 1}: the script has {n_cards} card"
                          f"{'s' if n_cards != 1 else ''}")
    settings: Settings = job.effective_settings()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = make_work_dir(out.parent, f"preview-{card_index + 1}")
    site: _Site | None = None
    session: BrowserSession | None = None
    sink: FfmpegSink | None = None
    try:
        with tracker.stage("prepare", "finding the browser and ffmpeg"):
            browser = browser or find_browser()
            if browser.kind != "headless-shell":
                raise RenderError(f"a card preview needs a frame-exact browser; {browser.path} is not one",
                                  hint="install Debian's chromium-headless-shell")
            ffmpeg = find_ffmpeg()
            site = _Site(job, settings)
            job, settings, bplan = _add_bumpers(job, settings, site, work)
            index = bplan.content_indexes[card_index]
        cancel.raise_if_cancelled()

        width, height, _ = preview_size(settings.width, settings.height, scale)
        video_tmp = work / "video-only.mp4"
        from . import mix
        sink = FfmpegSink(mix.build_encode_args(ffmpeg, fps=settings.fps, width=width, height=height,
                                                out=video_tmp), fps=settings.fps, cancel=cancel)
        holder: list[FastForwardClock] = []

        def make_clock(cdp: CDPSession) -> FastForwardClock:
            assert sink is not None
            # films nothing until the flow reaches the card (see below)
            clock = FastForwardClock(cdp, settings.fps, sink, expected_from=1 << 30,
                                     chunk_frames=chunk_frames, tail_frames=tail_frames, cancel=cancel,
                                     jpeg_quality=PREVIEW_JPEG_QUALITY)
            holder.append(clock)
            return clock

        storage_state = load_storage_state(job, settings, site.base_url)
        session = _session(browser, settings, scale, draw, sink, cancel=cancel, storage_state=storage_state,
                           make_clock=make_clock, warm=warm)
        t_voice = time.monotonic()
        voice_task = asyncio.ensure_future(_voices(job, settings, index, tracker, cancel, voice_card=gate is None))
        start_task = asyncio.ensure_future(session.start())
        try:
            (voices, clip, exact, warnings), _ = await asyncio.gather(voice_task, start_task)
        except BaseException:
            for t in (voice_task, start_task):
                t.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(voice_task, start_task, return_exceptions=True)
            raise
        tracker.stage_times["voice"] = time.monotonic() - t_voice
        tracker.finish_stage("voice")

        with tracker.stage("plan"):
            if settings.target_s is not None:
                fit = fit_to_target(job.script, settings, voices, settings.target_s)
                job = dataclasses.replace(job, script=fit.script)
                settings = fit.settings
            estimate = plan(job.script, settings, voices)
            est_card = estimate.cards[index]

        with tracker.stage("capture", "replaying the flow up to the card"):
            t_capture = time.monotonic()
            await sink.start()
            assert session.page is not None and session.cdp is not None
            clock = holder[0]
            # until the live scheduler reaches the card, fast-forward up to the planned start
            clock.expected_from = first_est = round(est_card.start_s * settings.fps)
            card_frames = max(1, round((est_card.end_s - est_card.start_s) * settings.fps))

            def on_frame(n: int) -> None:
                if n % 15:
                    return
                first = clock.capture_from if clock.capture_from is not None else clock.expected_from
                if n < first:
                    tracker.report("capture", REPLAY_SHARE * n / max(1, first), "replaying the earlier cards")
                else:
                    done = min(0.99, REPLAY_SHARE + (1 - REPLAY_SHARE) * (n - first) / card_frames)
                    tracker.report("capture", done, f"frame {n - first} of the card's {card_frames}")

            clock.on_frame = on_frame
            await session.start_clock()
            performer = Performer(session.page, session.cdp, clock, settings, job, base_url=site.base_url,
                                  cancel=cancel, error_dir=None, error_name="preview", session=session)
            watchdog = session.watchdog(lambda: performer.where, error_dir=None, error_name="preview")
            scheduler = _PreviewScheduler(job.script, settings, voices, index=index, clock=clock, estimate=estimate)
            if gate is not None:
                performer.before_card = _gate_hook(gate, index, scheduler, clock, cancel)
            try:
                timeline = await watchdog.guard(performer.run(job.script, scheduler, upto_card=index))
            except RenderError as exc:
                renumber_error(exc, bplan)
                raise
            warnings.extend(performer.stats.warnings)
            card = timeline.cards[index]
            first = round(card.start_s * settings.fps)
            if first != first_est:
                log.info("card %d started at frame %d, planned %d", card_index, first, first_est)
            frames = round(card.end_s * settings.fps) - first
            shots = clock.screenshots
            if clock.filming_since is not None:
                # the capture's two parts: the replay up to the card, and filming it
                tracker.stage_times["replay"] = clock.filming_since - t_capture
                if gate is not None:
                    tracker.stage_times["replay"] -= gate.waited_s
                    tracker.stage_times["waited"] = gate.waited_s
                tracker.stage_times["film"] = time.monotonic() - clock.filming_since
            log.info("preview: %d frames skipped in %d runs, %d single unfilmed frames, %d filmed",
                     clock.skipped, clock.runs, clock.single, frames)
            await session.close()
            session = None
            await sink.finish()
            sink = None

        with tracker.stage("mix", "adding the narration"):
            if gate is not None:
                clip = gate.clip
            assert clip is not None
            duration = frames / settings.fps
            with atomic_path(out) as tmp:
                await mix.run_ffmpeg(build_preview_mux_args(ffmpeg, video=video_tmp,
                                                            narration=clip.path if clip.duration_s > 0 else None,
                                                            out=tmp, duration_s=duration), cancel=cancel)
                cancel.raise_if_cancelled()
        return PreviewResult(video=out, card_index=card_index, card=card, duration_s=duration, width=width,
                             height=height, first_frame=first, exact_timing=exact, frames=frames,
                             screenshots=shots, stage_times=dict(tracker.stage_times), warnings=warnings,
                             prepared=gate is not None)
    except asyncio.CancelledError:
        cancel.cancel("cancelled")
        raise
    except Exception as exc:
        converted = _as_cancel(exc, cancel)
        if converted is exc:
            raise
        raise converted from None
    finally:
        async def teardown() -> None:
            stops = [sink.abort()] if sink is not None else []
            if session is not None:
                stops.append(session.close())
            await asyncio.gather(*stops)

        try:
            await _uninterruptible(teardown())
        finally:
            if site is not None:
                site.close()
            shutil.rmtree(work, ignore_errors=True)
