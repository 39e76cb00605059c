"""The render: one ``async`` function from a job to a narrated MP4 with captions and chapters.

The desktop app, the CLI and the cloud recorder all call :func:`render` (and :func:`check`), so a
job renders the same way wherever it runs.  Stages: prepare → voice (overlapping browser start-up)
→ plan → perform + capture (encoding as frames arrive) → mix.  Every output is written under a
temporary name and renamed at the end; on failure or cancel nothing partial is left.

Work happens in ``<output_dir>/.<name>.reelwright-*``, a folder that names its owner (host, pid and
the pid's start time).  A render killed outright (SIGKILL, power loss) cannot remove its folder, so
every render first removes the folders whose owner is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .bundle import Job
from .capture import BrowserSession, NullSink
from .capture.encoder import FfmpegSink
from .capture.performer import Performer
from .capture.session import load_storage_state
from .capture.steps import StepRecorder
from .errors import Cancelled, OutputError, RenderError
from .infra.progress import CancelToken, Progress, ProgressCallback, StageTracker
from .infra.siteserver import SiteServer
from .infra.tools import Browser, find_browser, find_ffmpeg
from .mix.captions import Chapter
from .mix.music import measure_mix, resolve_music
from .plan import sidecar
from .plan.bumpers import BumperPlan, expand_with_bumpers, renumber_error, write_bumper_pages
from .plan.presets import device_scale_for, fit_to_target, length_warnings, viewport_size
from .plan.timeline import CardTiming, Scheduler, Timeline, VoiceTiming, plan, plan_rest
from .script import Settings, plain_narration
from .voice.base import VoiceClip

__all__ = ["CardTiming", "CheckResult", "RenderResult", "check", "remove_stale_work_dirs", "render"]

log = logging.getLogger(__name__)

#: the file in a work folder that names the process owning it
OWNER_FILE = "owner"
#: a work folder without an owner file (from before owner files, or a process killed between
#: creating the folder and writing the file) is stale once it is this old
UNOWNED_STALE_S = 3600.0


@dataclass
class RenderResult:
    video: Path
    srt: Path | None
    vtt: Path | None
    chapters_txt: Path | None
    duration_s: float
    cards: list[CardTiming]
    stage_times: dict[str, float]
    capture_mode: Literal["frame-exact", "realtime"]
    warnings: list[str] = field(default_factory=list)
    timeline: Timeline | None = None
    frames: int = 0
    screenshots: int = 0
    #: camera eases made from 1x frames after capture, and eases filmed live (see capture/postcam.py)
    eases_after_capture: int = 0
    eases_live: int = 0
    poster: Path | None = None
    preview: Path | None = None
    #: the audio was made beside the capture (the live timeline matched the plan), not after it
    audio_overlapped: bool = False
    #: times the audio was started again during the capture, from a new prediction of the timeline
    audio_restarts: int = 0
    #: (start s, end s, title) of each chapter: what the MP4's chapter track and ``chapters_txt`` hold
    chapters: list[Chapter] = field(default_factory=list)
    #: ``<name>.timeline.json``: each card's span, narration clip and action times (plan/sidecar.py)
    timeline_json: Path | None = None
    #: ``<name>.demo.html``, the click-through twin of the video (``settings.interactive``)
    interactive: Path | None = None
    #: its stills and voice clips when they were too big to inline (``<name>.demo/…``)
    interactive_media: list[Path] = field(default_factory=list)

    def files(self) -> list[Path]:
        """Every file the render wrote, the video first: what a door shows, lists or uploads."""
        return [p for p in (self.video, self.srt, self.vtt, self.chapters_txt, self.poster, self.preview,
                            self.timeline_json, self.interactive, *self.interactive_media)
                if p is not None]


@dataclass
class CheckResult:
    actions_run: int
    duration_s: float
    warnings: list[str] = field(default_factory=list)
    timeline: Timeline | None = None
    #: card id → JPEG of the page right after the card's first action (``check(snapshots=True)``)
    snapshots: dict[str, bytes] = field(default_factory=dict)


def _noop(_: Progress) -> None:
    return None


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (tells a reused pid from its first owner)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _owner_text() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()} {pid} {_start_time(pid) or '-'}\n"


def _owner_alive(text: str) -> bool:
    """Whether the process an owner file names is still running (unknown owners count as alive)."""
    try:
        host, pid_s, start = text.split()
        pid = int(pid_s)
    except ValueError:
        return True  # not ours to judge: leave it
    if host != socket.gethostname():
        return True  # a render on another machine sharing this folder
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    if state in ("Z", "X"):
        return False
    return start == "-" or _start_time(pid) in (None, start)


def remove_stale_work_dirs(output_dir: Path) -> list[Path]:
    """Remove the work folders of renders into ``output_dir`` whose process is gone; returns them."""
    removed: list[Path] = []
    try:
        candidates = [d for d in Path(output_dir).glob(".*.reelwright-*") if d.is_dir()]
    except OSError:
        return removed
    now = time.time()
    for d in candidates:
        try:
            stale = not _owner_alive((d / OWNER_FILE).read_text(encoding="ascii"))
        except FileNotFoundError:
            try:
                stale = now - d.stat().st_mtime > UNOWNED_STALE_S
            except OSError:
                continue
        except (OSError, UnicodeDecodeError):
            continue
        if stale:
            shutil.rmtree(d, ignore_errors=True)
            if not d.exists():
                log.info("removed %s, left by a render that was killed", d)
                removed.append(d)
    return removed


def make_work_dir(output_dir: Path, name: str) -> Path:
    """A fresh work folder for one render, owned by this process (stale ones removed first)."""
    remove_stale_work_dirs(output_dir)
    work = Path(tempfile.mkdtemp(prefix=f".{name}.reelwright-", dir=output_dir))
    (work / OWNER_FILE).write_text(_owner_text(), encoding="ascii")
    return work


def _as_cancel(exc: BaseException, cancel: CancelToken) -> BaseException:
    """A failure that happens once a cancel is under way is the cancel's doing (the browser or an
    encoder going away as it is stopped), not the card's: report the cancel, and drop the error
    screenshot the failure may have left."""
    if not cancel.cancelled or isinstance(exc, (Cancelled, asyncio.CancelledError)) \
            or not isinstance(exc, Exception):
        return exc
    shot = getattr(exc, "screenshot", None)
    if isinstance(shot, Path):
        shot.unlink(missing_ok=True)
    return Cancelled(cancel.reason)


def _outputs(output_dir: Path, name: str) -> dict[str, Path]:
    return {
        "video": output_dir / f"{name}.mp4",
        "srt": output_dir / f"{name}.srt",
        "vtt": output_dir / f"{name}.vtt",
        "chapters": output_dir / f"{name}.chapters.txt",
        "timeline": output_dir / f"{name}{sidecar.SUFFIX}",
    }


class _Site:
    """The job's static site on loopback (or its base URL), for the duration of a render."""

    def __init__(self, job: Job, settings: Settings) -> None:
        files = job.site_files()
        self.server = SiteServer(files).start() if files else None
        self.base_url = self.server.base_url if self.server else settings.base_url

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


async def _voice(job: Job, settings: Settings, tracker: StageTracker, cancel: CancelToken,
                 warnings: list[str]) -> list[VoiceClip]:
    from .voice import VoiceService, load_provider

    narrations = [c.narration for c in job.script.cards]
    provider = await load_provider(settings.voice.provider, settings.voice, narrations)
    reason = getattr(provider, "fallback_reason", None)
    if reason:
        warnings.append(f"voice: using {provider.describe()} because {reason}")
    service = VoiceService(provider)

    def relay(p: Progress) -> None:
        tracker.report("voice", p.fraction, p.message)

    clips = await service.voice_all(narrations, settings.voice, relay, cancel)
    return list(clips)


def _add_bumpers(job: Job, settings: Settings, site: _Site, work: Path) -> tuple[Job, Settings, BumperPlan]:
    """Add the intro/outro cards (pages served beside the site, or on their own loopback server)."""
    if settings.intro is None and settings.outro is None:
        return job, settings, BumperPlan(job.script, settings, None, None, list(range(len(job.script.cards))))
    files = write_bumper_pages(settings, work / "bumpers", job.resolve, same_origin_site=site.server is not None)
    if site.server is None:
        site.server = SiteServer(files).start()  # stopped by site.close(); relative URLs keep base_url
    else:
        site.server.files.update(files)
    bplan = expand_with_bumpers(job.script, settings, site.server.base_url)
    return dataclasses.replace(job, script=bplan.script), bplan.settings, bplan


async def render(
    job: Job,
    output_dir: Path,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    *,
    name: str = "video",
    browser: Browser | None = None,
    demo_media_folder: bool = True,
) -> RenderResult:
    """Render ``job`` to ``output_dir/<name>.mp4`` (+ ``.srt``, ``.vtt``, ``.chapters.txt``).

    ``demo_media_folder=False`` keeps the interactive demo in one HTML file however big its media
    (the cloud stores outputs by bare name, so a ``<name>.demo/`` folder would lose its paths)."""
    from . import mix
    from .mix import captions

    cancel = cancel or CancelToken()
    tracker = StageTracker(on_progress or _noop)
    settings: Settings = job.effective_settings()
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    outs = _outputs(output_dir, name)
    try:
        work = make_work_dir(output_dir, name)
    except OSError as exc:
        env = _environment_failure(exc, output_dir)
        if env is not None:
            raise env from None
        raise
    warnings: list[str] = []
    site: _Site | None = None
    session: BrowserSession | None = None
    sink: FfmpegSink | None = None
    audio_job: _AudioJob | None = None
    try:
        with tracker.stage("prepare", "finding the browser and ffmpeg"):
            browser = browser or find_browser()
            ffmpeg = find_ffmpeg()
            site = _Site(job, settings)
            job, settings, bplan = _add_bumpers(job, settings, site, work)
            if browser.kind != "headless-shell":
                warnings.append(
                    f"capture: {browser.path} has no frame-exact mode; recording in real time "
                    "(install chromium-headless-shell for frame-exact, faster renders)")
        cancel.raise_if_cancelled()

        # Voice while the browser starts (Piper works in a thread; the browser is another process).
        tracker.report("voice", 0.0, "voicing the narration")
        t_voice = time.monotonic()
        video_tmp = work / "video-only.mp4"
        sink = FfmpegSink(mix.build_encode_args(ffmpeg, fps=settings.fps, width=settings.width,
                                                height=settings.height, out=video_tmp), fps=settings.fps, cancel=cancel)
        session = BrowserSession(browser, settings.width, settings.height, settings.fps, sink, cancel=cancel,
                                 device_scale_factor=device_scale_for(settings),
                                 storage_state=load_storage_state(job, settings, site.base_url),
                                 session_asset=settings.session)
        voice_task = asyncio.ensure_future(_voice(job, settings, tracker, cancel, warnings))
        start_task = asyncio.ensure_future(session.start())
        try:
            clips, _ = await asyncio.gather(voice_task, start_task)
        except BaseException:
            t0 = time.monotonic()
            for t in (voice_task, start_task):
                t.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(voice_task, start_task, return_exceptions=True)
            log.debug("voicing and browser start-up stopped in %.3f s", time.monotonic() - t0)
            raise
        tracker.stage_times["voice"] = time.monotonic() - t_voice
        tracker.finish_stage("voice")

        with tracker.stage("plan"):
            voices = [VoiceTiming(c.duration_s, dict(c.marks)) for c in clips]
            if settings.target_s is not None:
                # tighten gaps and holds (never narration) now that the voice lengths are known
                fit = fit_to_target(job.script, settings, voices, settings.target_s)
                job = dataclasses.replace(job, script=fit.script)
                settings = fit.settings
                warnings.extend(fit.notes)
            estimate = plan(job.script, settings, voices)

        # The final audio (narration placed on the plan, music, loudness, AAC) is made while the
        # video is captured, on the core the capture leaves idle: the mix then only copies it.  When
        # the live run leaves the plan (an action that took longer, a camera shot that needed no
        # zoom), the rest of the timeline is predicted again at the next card and the audio started
        # again from that prediction (:class:`_AudioJob`); only a run that leaves it in its last card
        # has its audio made after the capture.
        audio_job = _AudioJob(ffmpeg, settings, job, clips, work, cancel)
        audio_job.start(estimate, "planned")

        with tracker.stage("capture", "replaying the flow in Chromium"):
            await sink.start()
            assert session.page is not None and session.cdp is not None
            clock = await session.start_clock()
            total = max(1, estimate.frame_count)

            def on_frame(n: int) -> None:
                if n % 15 == 0:
                    tracker.report("capture", min(0.99, n / total), f"frame {n} of ~{total}")

            clock.on_frame = on_frame
            performer = Performer(session.page, session.cdp, clock, settings, job, base_url=site.base_url,
                                  cancel=cancel, error_dir=output_dir, error_name=name, session=session)
            steps = performer.steps = StepRecorder() if settings.interactive else None
            watchdog = session.watchdog(lambda: performer.where, error_dir=output_dir, error_name=name)
            try:
                scheduler = Scheduler(job.script, settings, voices)
                performer.before_card = audio_job.follow(scheduler)
                timeline = await watchdog.guard(performer.run(job.script, scheduler))
            except RenderError as exc:
                renumber_error(exc, bplan)  # name the user's card, not the intro-shifted one
                raise
            warnings.extend(performer.stats.warnings)  # unexpected dialogs and downloads
            if steps is not None:
                await steps.end(clock, len(job.script.cards) - 1)
            shots = int(getattr(clock, "screenshots", 0))
            eases = (performer.stats.eases_after_capture, performer.stats.eases_live)
            frames = clock.frame
            await session.close()
            session = None
            await sink.finish()
            sink = None

        with tracker.stage("mix", "mixing narration, captions and chapters"):
            placements = _placements(timeline, clips)
            overlapped = audio_job.matches(timeline)
            await audio_job.drop_stale()
            if overlapped:
                assert audio_job.task is not None
                tracker.report("mix", 0.0, "finishing the audio")
                audio = await audio_job.task
            else:
                await audio_job.drop_all()
                tracker.report("mix", 0.0, "mixing the audio")
                audio = await _final_audio(ffmpeg, settings, job, placements, timeline.duration_s, work / "live",
                                           cancel)
            cards_in = [captions.CaptionCard(card_id=ct.card_id, title=ct.title, start_s=ct.voice_start_s,
                                             voice_duration_s=ct.voice_duration_s,
                                             text=plain_narration(job.script.cards[ct.index].narration),
                                             marks=dict(clip.marks),
                                             narration=job.script.cards[ct.index].narration)
                        for ct, clip in zip(timeline.cards, clips, strict=True)]
            chapter_list = captions.chapters_from_cards(
                [dataclasses.replace(c, start_s=ct.start_s) for c, ct in zip(cards_in, timeline.cards, strict=True)],
                timeline.duration_s)
            meta = work / "chapters.ffmeta"
            captions.write_ffmetadata_chapters(chapter_list, meta, title=job.script.title)
            cues = captions.build_cues(cards_in)
            srt_tmp = work / "captions.srt"
            vtt_tmp = work / "captions.vtt"
            captions.write_srt(cues, srt_tmp)
            captions.write_vtt(cues, vtt_tmp)
            burn_srt = srt_tmp
            burn_line = mix.burn_line_length(settings.width, settings.height)
            if settings.burn_captions and burn_line != captions.MAX_LINE:
                # a narrow frame gets shorter lines (bigger text); the sidecars keep the standard ones
                burn_srt = captions.write_srt(captions.build_cues(cards_in, max_line=burn_line), work / "burn.srt")
            chapters_tmp = work / "chapters.txt"
            chapters_tmp.write_text(captions.youtube_chapters_text(chapter_list), encoding="utf-8")
            timeline_tmp = work / "timeline.json"
            timeline_tmp.write_text(sidecar.timeline_json(timeline, job.script, bplan.content_indexes),
                                    encoding="utf-8")
            mp4_tmp = work / "final.mp4"
            args = mix.build_mux_args(
                ffmpeg, video=video_tmp, narration=audio, out=mp4_tmp, chapters=meta, audio_encoded=True,
                duration_s=timeline.duration_s,
                burn_subtitles=burn_srt if settings.burn_captions else None,
                width=settings.width, height=settings.height, fps=settings.fps, title=job.script.title)

            def mix_progress(f: float) -> None:
                tracker.report("mix", f, "encoding")

            await mix.run_ffmpeg(args, cancel=cancel, on_progress=mix_progress, total_s=timeline.duration_s)
            cancel.raise_if_cancelled()
            extras = await _poster_and_preview(ffmpeg, settings, timeline, bplan, video_tmp, mp4_tmp, work,
                                               cancel)
            cancel.raise_if_cancelled()
            if steps is not None:
                tracker.report("mix", 1.0, "writing the interactive demo")
            demo_files = await _interactive(ffmpeg, settings, job, steps, clips, bplan, work, name, cancel,
                                            demo_media_folder) \
                if steps is not None else None
            cancel.raise_if_cancelled()
            # Publish: every file lands under its final name only when all of them are complete.
            os.replace(mp4_tmp, outs["video"])
            srt = vtt = None
            if settings.captions:
                os.replace(srt_tmp, outs["srt"])
                os.replace(vtt_tmp, outs["vtt"])
                srt, vtt = outs["srt"], outs["vtt"]
            os.replace(chapters_tmp, outs["chapters"])
            os.replace(timeline_tmp, outs["timeline"])
            published: dict[str, Path] = {}
            for kind, tmp_path in extras.items():
                final = output_dir / f"{name}.{kind}{tmp_path.suffix}"
                os.replace(tmp_path, final)
                published[kind] = final
            demo_page: Path | None = None
            demo_media: list[Path] = []
            if demo_files is not None:
                demo_page, demo_media = _publish_interactive(*demo_files, output_dir, name)

        warnings.extend(length_warnings(settings, timeline.duration_s))
        mode: Literal["frame-exact", "realtime"] = "frame-exact" if browser.kind == "headless-shell" else "realtime"
        return RenderResult(
            video=outs["video"], srt=srt, vtt=vtt, chapters_txt=outs["chapters"],
            duration_s=timeline.duration_s, cards=list(timeline.cards),
            stage_times=dict(tracker.stage_times), capture_mode=mode, warnings=warnings,
            timeline=timeline, frames=frames, screenshots=shots, eases_after_capture=eases[0], eases_live=eases[1],
            poster=published.get("poster"), preview=published.get("preview"), audio_overlapped=overlapped,
            audio_restarts=audio_job.restarts,
            chapters=chapter_list, timeline_json=outs["timeline"], interactive=demo_page,
            interactive_media=demo_media)
    except (RenderError, OSError) as exc:
        env = _environment_failure(exc, output_dir)
        if env is not None:
            raise env from None
        raise
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
            # the encoders stop side by side: cancel must end every child within a second
            t0 = time.monotonic()
            stops = [sink.abort()] if sink is not None else []
            if audio_job is not None:
                stops.append(audio_job.drop_all())
            if session is not None:
                stops.append(session.close())
            await asyncio.gather(*stops)
            log.debug("teardown: encoders and browser stopped in %.3f s", time.monotonic() - t0)

        try:
            await _uninterruptible(teardown())
        finally:
            if site is not None:
                site.close()
            shutil.rmtree(work, ignore_errors=True)


async def _uninterruptible(cleanup: Coroutine[Any, Any, None]) -> None:
    """Run a (bounded) clean-up to its end even if the task is cancelled again meanwhile: a second
    Ctrl-C must not leave the browser or an encoder running.  The repeated cancel is re-raised once
    the clean-up is done."""
    task = asyncio.ensure_future(cleanup)
    interrupted = False
    while True:
        try:
            await asyncio.shield(task)
            break
        except asyncio.CancelledError:
            interrupted = True
            if task.done():
                break
    if interrupted:
        raise asyncio.CancelledError()
    task.result()


_NO_SPACE = ("No space left on device", "Disk quota exceeded")
_READ_ONLY = ("Read-only file system",)


def _environment_failure(exc: BaseException, output_dir: Path) -> OutputError | None:
    """The machine's fault, not the job's: a full or read-only disk under the output folder (found
    in an OSError, or in the stderr an encoder failed with).  The CLI exits 3 for it."""
    err = getattr(exc, "errno", None)
    text = str(exc)
    if err in (errno.ENOSPC, errno.EDQUOT) or any(s in text for s in _NO_SPACE):
        return OutputError(f"the disk under {output_dir} is full; nothing was written",
                           hint="free some space (a render needs a few times the video's size) or choose "
                                "another --out")
    if err == errno.EROFS or any(s in text for s in _READ_ONLY):
        return OutputError(f"{output_dir} is on a read-only file system; nothing was written",
                           hint="choose a writable --out")
    return None


def _placements(timeline: Timeline, clips: list[VoiceClip]) -> list[tuple[float, VoiceClip]]:
    return [(ct.voice_start_s, clip) for ct, clip in zip(timeline.cards, clips, strict=True)]


#: how much video may be left when the audio is made again from a new prediction: each attempt costs
#: the capture CPU (the example's audio pass ≈ 4 s of one core), and a prediction made early is
#: likely to move again (measured: 5 restarts at every change made the polished example 15 s slower)
AUDIO_AHEAD_S = 15.0


class _AudioJob:
    """The final audio, made beside the capture from the timeline as it is expected to end.

    It starts from the plan.  Before each card the rest of the timeline is predicted again (the cards
    so far as they ran, the rest as planned: :func:`plan_rest`); when that moves a narration or the
    end, the audio being made is dropped and started again from the prediction.  Why: a live run
    leaves the plan in a few places (a camera shot whose target needs no zoom skips its hold and
    ease-out), and making the audio after the capture cost the polished example ~4 s.  The prediction
    is only used when the finished timeline matches it exactly, so the audio is never placed on a
    guess."""

    def __init__(self, ffmpeg: Path, settings: Settings, job: Job, clips: list[VoiceClip], work: Path,
                 cancel: CancelToken) -> None:
        self.ffmpeg, self.settings, self.job, self.clips = ffmpeg, settings, job, clips
        self.work, self.cancel = work, cancel
        self.task: asyncio.Future[Path] | None = None
        self.placements: list[tuple[float, VoiceClip]] = []
        self.duration_s = 0.0
        self.restarts = 0
        self._stale: list[asyncio.Future[Path]] = []

    def start(self, timeline: Timeline, label: str) -> None:
        if self.task is not None or self._stale:
            self.restarts += 1
        self.stop()
        self.placements = _placements(timeline, self.clips)
        self.duration_s = timeline.duration_s
        self.task = asyncio.ensure_future(_final_audio(
            self.ffmpeg, self.settings, self.job, self.placements, self.duration_s, self.work / label,
            self.cancel))

    def matches(self, timeline: Timeline) -> bool:
        """Whether audio is being made (or made) for exactly this timeline."""
        return (self.task is not None and timeline.duration_s == self.duration_s
                and _placements(timeline, self.clips) == self.placements)

    def stop(self) -> None:
        """Drop the audio being made (its timeline will not happen); awaited in :meth:`drop_stale`."""
        if self.task is not None:
            self.task.cancel()  # its ffmpeg is stopped by run_ffmpeg
            self._stale.append(self.task)
            self.task = None

    def follow(self, scheduler: Scheduler) -> Callable[[int], Awaitable[None]]:
        """The performer's ``before_card`` hook: predict the rest; when it moved, drop the audio being
        made, and make it again once the rest is short (:data:`AUDIO_AHEAD_S`)."""
        async def before_card(index: int) -> None:
            if index == 0:
                return
            predicted = plan_rest(scheduler.fork())
            if self.matches(predicted):
                return
            self.stop()  # a timeline that will not happen: its CPU is the capture's again
            if predicted.duration_s - predicted.cards[index].start_s <= AUDIO_AHEAD_S:
                log.debug("card %d: the timeline left the plan; the audio is made again", index)
                self.start(predicted, f"from-card-{index}")
        return before_card

    async def drop_stale(self) -> None:
        stale, self._stale = self._stale, []
        for t in stale:
            await _discard(t)

    async def drop_all(self) -> None:
        await self.drop_stale()
        if self.task is not None:
            await _discard(self.task)


async def _final_audio(ffmpeg: Path, settings: Settings, job: Job, placements: list[tuple[float, VoiceClip]],
                       duration_s: float, work: Path, cancel: CancelToken) -> Path:
    """The video's whole audio track (AAC in MP4, ``duration_s`` long): the narration placed
    sample-exactly, the music bed levelled against it, loudness normalised."""
    from . import mix
    from .mix.audio import build_narration_track

    work.mkdir(parents=True, exist_ok=True)
    narration = work / "narration.wav"
    await asyncio.to_thread(build_narration_track, placements, duration_s, narration)
    bed = await asyncio.to_thread(resolve_music, settings, job.resolve)
    loudness = None
    if bed is not None:
        bed, loudness = await measure_mix(
            ffmpeg, narration=narration, bed=bed, duration_s=duration_s, target_lufs=settings.loudness_lufs,
            speech_chain=mix.SPEECH_COMPRESSOR, cancel=cancel)
    out = work / "audio.m4a"
    await mix.run_ffmpeg(mix.build_audio_args(ffmpeg, narration=narration, out=out, duration_s=duration_s,
                                              music=bed, loudness=loudness, target_lufs=settings.loudness_lufs),
                         cancel=cancel)
    return out


async def _discard(task: asyncio.Future[Path]) -> None:
    """Stop a background audio job (its ffmpeg is stopped by run_ffmpeg) and forget its result."""
    task.cancel()
    with contextlib.suppress(BaseException):
        await task


async def _poster_and_preview(ffmpeg: Path, settings: Settings, timeline: Timeline, bplan: BumperPlan,
                              clean_video: Path, final_video: Path, work: Path,
                              cancel: CancelToken) -> dict[str, Path]:
    """Poster PNG (from the caption-free capture) and animated preview, in ``work``; keyed by kind."""
    from .mix import preview

    out: dict[str, Path] = {}
    if settings.poster:
        index = preview.poster_card_index(timeline, settings, bplan.content_indexes)
        out["poster"] = await preview.make_poster(ffmpeg, clean_video, preview.poster_time(timeline, settings, index),
                                                  work / "poster.png", cancel)
    if settings.preview != "none":
        kind: Literal["gif", "webp"] = "gif" if settings.preview == "gif" else "webp"
        out["preview"] = await preview.make_preview(
            ffmpeg, final_video, work / f"preview.{kind}", kind=kind,
            seconds=min(settings.preview_s, timeline.duration_s), width=settings.width, height=settings.height,
            cancel=cancel)
    return out


async def _interactive(ffmpeg: Path, settings: Settings, job: Job, steps: StepRecorder, clips: list[VoiceClip],
                       bplan: BumperPlan, work: Path, name: str, cancel: CancelToken,
                       media_folder: bool = True) -> tuple[Path, Path | None]:
    """The click-through demo from the steps the capture recorded (in ``work``; published later)."""
    from .mix import interactive
    from .mix.interactive import build_demo, make_interactive

    demo = build_demo(steps.records, job.script, width=settings.width, height=settings.height,
                      view=viewport_size(settings),
                      voices=[(f"voice:{i}", c.duration_s, dict(c.marks)) for i, c in enumerate(clips)],
                      outro_index=bplan.outro_index, outro=settings.outro, intro_index=bplan.intro_index,
                      intro=settings.intro, end_still=steps.end_record)
    return await make_interactive(ffmpeg, demo, {f"voice:{i}": c.path for i, c in enumerate(clips)},
                                  work / "demo", name=name, cancel=cancel,
                                  inline_limit=interactive.INLINE_LIMIT_BYTES if media_folder else None)


def _publish_interactive(page: Path, media: Path | None, output_dir: Path, name: str) -> tuple[Path, list[Path]]:
    """Move the demo beside the video: its media folder first, so the page never names a missing file."""
    files: list[Path] = []
    if media is not None:
        final_dir = output_dir / f"{name}.demo"
        if final_dir.is_dir():
            shutil.rmtree(final_dir)  # the media of an earlier render of this name
        os.replace(media, final_dir)
        files = sorted(final_dir.iterdir())
    final = output_dir / f"{name}.demo.html"
    os.replace(page, final)
    return final, files


async def check(
    job: Job,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    *,
    upto_card: int | None = None,
    browser: Browser | None = None,
    error_dir: Path | None = None,
    snapshots: bool = False,
) -> CheckResult:
    """Run the flow silently (no voice, no video) and raise RenderError at the first failing action.
    With ``snapshots``, the result holds a JPEG of the page right after each card's first action."""
    cancel = cancel or CancelToken()
    report = on_progress or _noop
    settings: Settings = job.effective_settings()
    browser = browser or find_browser()
    site = _Site(job, settings)
    try:
        storage_state = load_storage_state(job, settings, site.base_url)
    except BaseException:
        site.close()
        raise
    session = BrowserSession(browser, settings.width, settings.height, settings.fps, NullSink(),
                             capture=False, cancel=cancel, device_scale_factor=device_scale_for(settings),
                             storage_state=storage_state, session_asset=settings.session)
    try:
        await session.start()
        await session.start_clock()
        assert session.clock is not None and session.page is not None and session.cdp is not None
        n_actions = sum(len(c.actions) for c in job.script.cards)
        performer = Performer(session.page, session.cdp, session.clock, settings, job,
                              base_url=site.base_url, cancel=cancel, error_dir=error_dir, error_name="check",
                              session=session)
        stills: dict[str, bytes] = {}
        if snapshots:
            clock = session.clock

            async def still(_index: int, card_id: str) -> None:
                data = await clock.snapshot()
                if data:
                    stills[card_id] = data

            performer.on_card_shown = still
        silent = [VoiceTiming(0.0) for _ in job.script.cards]
        report(Progress("check", 0.0, f"running {n_actions} actions"))
        watchdog = session.watchdog(lambda: performer.where, error_dir=error_dir, error_name="check")
        timeline = await watchdog.guard(
            performer.run(job.script, Scheduler(job.script, settings, silent), upto_card=upto_card))
        report(Progress("check", 1.0, "flow ran to the end"))
        return CheckResult(performer.stats.actions_run, timeline.duration_s, list(performer.stats.warnings),
                           timeline, stills)
    except asyncio.CancelledError:
        cancel.cancel("cancelled")
        raise
    except Exception as exc:
        converted = _as_cancel(exc, cancel)
        if converted is exc:
            raise
        raise converted from None
    finally:
        try:
            await _uninterruptible(session.close())
        finally:
            site.close()
