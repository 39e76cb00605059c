"""Renders and card previews: render the project locally or in the cloud (with its history record),
check a card in a headless browser, voice a card's narration, and render one card alone (small) to
play it in the card editor."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.bundle import Job, RenderSettings
from app.core.errors import Cancelled, Problem, RenderError, ScriptError
from app.core.plan.presets import FORMATS
from app.core.plan.sidecar import VideoTimeline
from app.core.render import CheckResult
from app.core.script import Script, plain_narration
from app.core.voice.base import VoiceClip
from app.workbench import services
from app.workbench.cloud_jobs import CloudJob, CloudJobStore
from app.workbench.formats import format_label, script_digest
from app.workbench.services import OpFactory
from app.workbench.sessions import SessionStore
from app.workbench.storage import AppSettings, Project, RenderRecord
from app.workbench.storyboard import thumbnail_dir

from .. import qt
from ..card_editor import CardEditor
from ..document import ScriptDocument
from ..ops import Op, ProgressView, error_text, show_error
from ..qt import QObject, QTimer, QUrl, QWidget, Signal
from ..render_panel import RenderPanel
from .cloud_session import CloudSession
from .projects import ProjectController

if TYPE_CHECKING:  # Playwright loads when a preview needs it
    from app.core.capture.launch import WarmBrowser
    from app.core.preview import PreparedPreview


#: set to 0 to start no browser ahead of "Preview card"
WARMUP_ENV = "REELWRIGHT_PREVIEW_WARMUP"


#: how long the picked card must stay picked before its preview is prepared
PREPARE_DELAY_MS = 400


def _warmup_enabled() -> bool:
    return os.environ.get(WARMUP_ENV, "1") != "0"


class RenderController(QObject):
    message = Signal(str)
    #: the Render tab should come to the front
    show_render = Signal()
    #: a cloud job of an in-app render was recorded or changed state (its CloudJob)
    job_changed = Signal(object)

    def __init__(self, window: QWidget, view: ProgressView, *, projects: ProjectController,
                 cloud: CloudSession, settings: Any, doc: ScriptDocument, editor: CardEditor,
                 render_panel: RenderPanel) -> None:
        super().__init__(window)
        self.window, self.view = window, view
        self.projects, self.cloud, self._settings = projects, cloud, settings
        self.doc, self.editor, self.render_panel = doc, editor, render_panel
        self.voice_player: Any = None
        self._voice_audio: Any = None
        self.render_op: Op[Any] | None = None
        #: the job the last render started with (what it renders: the tests read it)
        self.last_job: Job | None = None
        self.last_clip: VoiceClip | None = None
        # the storyboard: thumbnails live in the project folder; picking a card seeks the player to it
        projects.loaded.connect(self._project_loaded)
        # lengths the voice cache knows (a render's clips, the intro's and outro's too) reach the storyboard
        render_panel.formats.voices_found.connect(editor.storyboard.replan)
        editor.cards.selectionModel().currentChanged.connect(
            lambda cur, _prev: render_panel.seek_to_card(cur.row()))
        #: the browser kept between card previews (started when a card is picked, closed after a few idle
        #: minutes and with the window): a preview then starts no browser.  Created on first use (Playwright)
        self.warm: WarmBrowser | None = None
        self.warm_closing: asyncio.Future[None] | None = None
        #: the flow replayed up to the picked card, waiting for "Preview card" (see app.core.preview)
        self.prepared: PreparedPreview | None = None
        self._preparing: asyncio.Task[None] | None = None
        # picking a card prepares its preview, once the selection has rested (arrowing through the list
        # replays nothing)
        self._prepare_timer = QTimer(self)
        self._prepare_timer.setSingleShot(True)
        self._prepare_timer.setInterval(PREPARE_DELAY_MS)
        self._prepare_timer.timeout.connect(self.prepare_preview)
        editor.cards.selectionModel().currentChanged.connect(lambda cur, _prev: self._prepare_timer.start())
        # an edit keeps it when it can (the card's own narration), else replays again once typing rests
        doc.changed.connect(self._prepare_timer.start)
        #: the window is closing: a cloud render stops watching its job, and the job renders on
        self.detached = False
        #: the cloud jobs an in-app render is following right now (the Jobs view leaves them to it)
        self.watching: set[str] = set()

    def _project_loaded(self, project: Any) -> None:
        self.editor.storyboard.set_folder(self._thumbnails(project))
        if not any(r.status == "Complete" and r.output for r in project.data.history):
            self.render_panel.show_timeline(VideoTimeline(0.0, ()))  # not the previous project's video

    def _thumbnails(self, project: Any) -> Path:
        return thumbnail_dir(self.projects.store.project_dir(project.id))

    @property
    def cloud_jobs(self) -> CloudJobStore:
        """The app's list of cloud jobs, in the data folder (read fresh each time: restores swap it)."""
        return CloudJobStore(self.projects.store.root)

    def detach_cloud(self) -> None:
        """Before the window closes: cancelling its ops must not cancel a cloud job mid-render."""
        self.detached = True

    @property
    def settings(self) -> AppSettings:
        settings: AppSettings = self._settings()
        return settings

    def _sessions(self) -> SessionStore:
        """The library's saved sessions: a script naming one gets a private copy for the run."""
        return SessionStore(self.projects.store.root)

    def _valid_script(self, title: str) -> Script | None:
        self.doc.revalidate()
        if self.doc.script is None:
            probs = self.doc.problems
            first = next((p.card_index for p in probs if p.card_index is not None), None)
            if first is not None:
                self.editor.select_card(first)
            show_error(self.window, title, ScriptError(probs or [Problem("script", "the script has no cards")]))
            return None
        return self.doc.script

    # ------------------------------------------------------------------ card previews

    def play_voice(self, row: int, lang: str | None = None, trigger: Any = None) -> Op[VoiceClip] | None:
        """Voice a card's narration: the base narration, or its ``lang`` translation with that language's
        voice (the Languages view's "Play voice")."""
        if row < 0:
            return None
        card = self.doc.cards.card(row)
        raw_settings = self.doc.data.get("settings")
        base = services.base_language(raw_settings)
        if lang is None or lang == base:
            narration = str(card.get("narration") or "")
            voice = services.voice_settings_for(raw_settings, self.settings)
        else:
            narration = str((card.get("narration_i18n") or {}).get(lang) or "")
            voice = services.voice_settings_for_language(raw_settings, lang, self.settings)
        if not plain_narration(narration):
            self.message.emit("This card has no narration to voice" if lang in (None, base)
                              else f"This card has no '{lang}' narration to voice yet")
            return None
        op: Op[VoiceClip] = Op(self.window, services.voice_card(narration, voice),
                               title="Voice preview" if lang in (None, base) else f"Voice preview ({lang})",
                               trigger=trigger if trigger is not None else self.editor.play_button, view=self.view)

        def played(clip: VoiceClip) -> None:
            self.last_clip = clip
            if lang in (None, base):
                self.doc.measured[(str(card.get("id")), plain_narration(narration))] = float(clip.duration_s)
                self.editor.refresh_stats()
                self.editor.storyboard.replan()  # the measured length replaces the estimate
            if qt.have_multimedia():
                if self.voice_player is None:
                    self.voice_player = qt.QMediaPlayer(self)
                    self._voice_audio = qt.QAudioOutput(self)
                    self.voice_player.setAudioOutput(self._voice_audio)
                self.voice_player.setSource(QUrl.fromLocalFile(str(clip.path)))
                self.voice_player.play()

        op.success(played)
        op.run()
        return op

    def check_card(self, row: int) -> Op[CheckResult] | None:
        project = self.projects.project
        if row < 0 or project is None:
            return None
        script = self._valid_script("Check in browser")
        if script is None:
            return None
        job = services.make_job(script, self.projects.store.project_dir(project.id))
        factory = services.check(job, row, self._sessions(), thumbnails=self._thumbnails(project))
        op: Op[CheckResult] = Op(self.window, factory, title=f"Check card {row + 1}",
                                 trigger=self.editor.check_button, view=self.view)
        self.editor.check_result.setText("Checking in a headless browser…")

        def ok(res: CheckResult) -> None:
            self.editor.show_failure(None, "")
            text = f"✔ {res.actions_run} action(s) ran fine in {res.duration_s:.1f} s"
            if res.warnings:
                text += "\n" + "\n".join(f"⚠ {w}" for w in res.warnings)
            self.editor.check_result.setText(text)
            self.editor.storyboard.reload_thumbnails()

        def failed(exc: BaseException) -> bool:
            if isinstance(exc, RenderError) and exc.card_index is not None:
                self.editor.show_failure(exc.card_index, exc.message)
            self.editor.check_result.setText(f"✘ {error_text(exc)}")
            return False  # the dialog too

        op.success(ok).failure(failed)
        op.run()
        return op

    def _preview_job(self, script: Script) -> tuple[Job, Path] | None:
        project = self.projects.project
        if project is None:
            return None
        rs = self.render_panel.current_settings()
        pdir = self.projects.store.project_dir(project.id)
        return services.make_job(script, pdir, RenderSettings(width=rs.width, height=rs.height, fps=rs.fps)), pdir

    def _warm(self) -> WarmBrowser:
        if self.warm is None:
            from app.core.capture.launch import WarmBrowser

            self.warm = WarmBrowser()
        return self.warm

    def prepare_preview(self) -> None:
        """Get the picked card's preview going in the background: the browser started and the flow
        replayed up to the card, waiting there, so "Preview card" only voices and films the card
        (a picked card is the sign a preview may follow).  Quiet: an invalid script or a missing
        browser waits for the preview itself to be named.  ``REELWRIGHT_PREVIEW_WARMUP=0`` turns it
        off (the browser holds ~150 MB while it waits): each preview then starts its own browser and
        replays the flow after the click."""
        if not _warmup_enabled() or self.detached:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no app loop running (a script driving the window): nothing to run it on
            return
        row = self.editor.current_row()
        script = self.doc.script
        made = self._preview_job(script) if script is not None and row >= 0 else None
        if made is None or script is None or row >= len(script.cards):
            return
        job, pdir = made
        out = services.preview_path(pdir, script.cards[row].id)
        if self.prepared is not None and self.prepared.fits(job, row, out, scale=0.5, draw="encoder"):
            return
        if self._preparing is not None and not self._preparing.done():
            self._preparing.cancel()

        async def replace() -> None:
            old, self.prepared = self.prepared, None
            if old is not None:
                await old.discard()
            self.prepared = services.prepare_preview(job, row, out, self._warm())
            if self.prepared is None:  # not prepared ahead: at least have the browser running
                await services.warm_up_preview(job, self._warm())

        self._preparing = asyncio.ensure_future(replace())

    def _take_prepared(self) -> PreparedPreview | None:
        prepared, self.prepared = self.prepared, None
        if self._preparing is not None and not self._preparing.done():
            self._preparing.cancel()  # (a replacement not yet started: the preview starts its own)
        return prepared

    def stop_warm(self) -> None:
        """The window is closing: close the prepared preview and the kept browser on the app's loop
        (the app awaits it before it ends); with no loop running, end their processes now."""
        self._prepare_timer.stop()
        if self.warm is None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # (a script or test closing the window outside the loop)
            if self._preparing is not None:
                self._preparing.cancel()
            if self.prepared is not None:
                self.prepared.abandon()  # its run ends (cancelled) whenever the loop runs again
            self.prepared = None
            self.warm.kill()
            return
        self.warm_closing = asyncio.ensure_future(self.close_warm())

    async def close_warm(self) -> None:
        """Close the prepared preview and the preview's kept browser (the window is closing)."""
        self._prepare_timer.stop()
        if self._preparing is not None and not self._preparing.done():
            self._preparing.cancel()
            with contextlib.suppress(BaseException):
                await self._preparing
        prepared, self.prepared = self.prepared, None
        if prepared is not None:
            await prepared.discard()
        if self.warm is not None:
            await self.warm.close()

    def preview_card(self, row: int) -> Op[services.PreviewOutcome] | None:
        """Render card ``row`` alone, small, and play it in the editor (progress and cancel in place)."""
        project = self.projects.project
        if row < 0 or project is None:
            return None
        script = self._valid_script("Preview card")
        if script is None:
            return None
        made = self._preview_job(script)
        if made is None:
            return None
        job, pdir = made
        out = services.preview_path(pdir, script.cards[row].id)
        preview = self.editor.preview
        preview.release()  # the player lets go of the old file before the new one replaces it
        op: Op[services.PreviewOutcome] = Op(
            self.window, services.preview_card(job, row, out, self._sessions(),
                                               warm=self._warm() if _warmup_enabled() else None,
                                               prepared=self._take_prepared()),
            title=f"Preview of card {row + 1}",
            trigger=self.editor.preview_button, view=preview)

        def done(outcome: services.PreviewOutcome) -> None:
            res = outcome.result
            self.editor.show_failure(None, "")
            text = (f"Card {row + 1} '{res.card.title}': {res.duration_s:.1f} s at {res.width}×{res.height}, "
                    f"made in {outcome.elapsed_s:.1f} s")
            if res.warnings:
                text += "\n" + "\n".join(f"⚠ {w}" for w in res.warnings)
            preview.show_video(res.video, text)
            self.prepare_preview()  # the next preview of this card (after an edit of its narration, say)

        def failed(exc: BaseException) -> bool:
            if isinstance(exc, Cancelled):
                preview.show_message("Preview cancelled")
                return True
            if isinstance(exc, RenderError) and exc.card_index is not None:
                self.editor.show_failure(exc.card_index, exc.message)
            preview.show_message(f"✘ {error_text(exc)}")
            return False  # the dialog too

        op.success(done).failure(failed)
        op.run()
        return op

    # ------------------------------------------------------------------ render

    def render_as(self, format_name: str) -> Op[Any] | None:
        """Render once in another format (a preset name); the script keeps its own format."""
        return self.start_render(format_name)

    def build_job(self, script: Script, project_dir: Path, format_name: str | None = None) -> Job:
        """The job a render runs: the script as saved — its format, purpose, target, captions, poster
        and preview are all in ``script.settings`` — with, for a one-off "Render as…", the size of
        that format as the job's render override (the script is not changed)."""
        render = RenderSettings()
        if format_name is not None:
            f = FORMATS[format_name]
            render = RenderSettings(width=f.width, height=f.height)
        return services.make_job(script, project_dir, render)

    def start_render(self, format_name: str | None = None, *, languages: list[str] | None = None,
                     trigger: Any = None) -> Op[Any] | None:
        """Render the video; ``format_name`` renders once in another format ("Render as…");
        ``languages`` (from the Languages view) renders one video per language (``video.<lang>.mp4``),
        or the one language given, with that language's narration and voice."""
        project = self.projects.project
        if project is None:
            return None
        self.show_render.emit()
        script = self._valid_script("Render")
        if script is None:
            self.render_panel.set_status("Draft", "fix the problems shown on the cards first")
            return None
        if languages is not None and languages != [script.settings.language]:
            return self._render_languages(script, languages, trigger)
        pdir = self.projects.store.project_dir(project.id)
        return self._render_job(project, script, self.build_job(script, pdir, format_name))

    def _render_job(self, project: Project, script: Script, job: Job, *, language: str | None = None,
                    trigger: Any = None) -> Op[Any] | None:
        """Render one job here or in the cloud, with a history record that follows it to the end.

        A cloud job is entered in the Cloud jobs list as soon as it is submitted, keeps rendering when
        the window closes, and comes back through Fetch, whichever door (Render, Languages…) started it."""
        rs = self.render_panel.current_settings()
        pdir = self.projects.store.project_dir(project.id)
        self.last_job = job
        eff = job.effective_settings()
        out = _new_render_dir(pdir)
        cloud = rs.target == "cloud"
        if cloud and not self.cloud.signed_in:
            self.render_panel.set_status("Draft", "sign in (Cloud › Sign in…) to render in the cloud")
            return None
        record = RenderRecord(started=time.time(), status="Rendering", target=rs.target,
                              format=format_label(eff.width, eff.height, eff.fps),
                              script_digest=None if language else script_digest(self.doc.data))
        project.data.history.append(record)
        self.render_panel.set_history(project.data.history)
        self.editor.show_failure(None, "")
        self.projects.save_now()
        factory: OpFactory[Any]
        if cloud:
            assert self.cloud.client is not None
            title = script.title or project.name
            entry = CloudJob(job_id="pending", project_id=project.id, project_name=project.name,
                             script=f"{title} ({language})" if language else title,
                             account=self.cloud.email or "", format=format_label(eff.width, eff.height, eff.fps))

            factory = services.render_cloud(self.cloud.client, job, out, self._sessions(), jobs=self.cloud_jobs,
                                            entry=entry, on_job=lambda rec: self._job_heard(project, record, rec),
                                            keep_job=lambda: self.detached, thumbnails=self._thumbnails(project))
        else:
            factory = services.render_local(job, out, self._sessions(), thumbnails=self._thumbnails(project))
        op: Op[Any] = Op(self.window, factory,
                         title=("Cloud render" if cloud else "Render") + (f" ({language})" if language else ""),
                         trigger=trigger if trigger is not None else self.render_panel.render_button,
                         view=self.render_panel)

        def done(outcome: services.CloudOutcome | services.RenderOutcome) -> None:
            if isinstance(outcome, services.CloudOutcome):
                self.watching.discard(outcome.render.job_id)
                self.finish_cloud(project, record, outcome)
                return
            record.status = "Complete"
            record.elapsed_s = float(outcome.elapsed_s)
            res = outcome.result
            video = Path(res.video)
            record.duration_s = float(res.duration_s)
            record.chapters = list(res.chapters)
            detail = (f"{video.name}, {res.duration_s:.1f} s of video in {outcome.elapsed_s:.1f} s "
                      f"({res.capture_mode} capture)")
            if res.interactive is not None:
                detail += f"\ninteractive demo: {res.interactive.name}"
            if res.warnings:
                detail += "\n" + "\n".join(f"⚠ {w}" for w in res.warnings)
            record.output = str(video)
            self.render_panel.show_result(video, services.record_chapters(record), record.duration_s)
            self.editor.storyboard.reload_thumbnails()
            self.render_panel.set_status("Complete", detail)
            self.render_panel.formats.refresh_summary()  # the voiced clips now give exact lengths
            self.render_panel.stage.setText("Done")
            self.projects.save(project)

        def failed(exc: BaseException) -> bool:
            expired = False
            if record.job_id is not None:
                self.watching.discard(record.job_id)
            if isinstance(exc, Cancelled) and self.detached and record.job_id is not None:
                # the window closed: the job renders on in the cloud; the record stays "Rendering"
                # until the Cloud jobs view fetches it (or sees it fail)
                self.projects.save(project)
                return True
            if isinstance(exc, Cancelled):
                record.status = "Cancelled"
                self.render_panel.set_status("Cancelled", "nothing was written")
                self.render_panel.stage.setText("Cancelled")
            elif self.cloud.handle_expired(exc):  # the Account dialog offers sign-in; the script is untouched
                expired = True
                record.status = "Failed"
                record.error = "the cloud session expired: sign in again and render again"
                self.render_panel.set_status("Failed", record.error)
                self.render_panel.stage.setText("Failed")
            else:
                record.status = "Failed"
                record.error = error_text(exc)
                if isinstance(exc, RenderError):
                    record.card_index = exc.card_index
                    if exc.card_index is not None:
                        self.editor.show_failure(exc.card_index, exc.message)
                self.render_panel.set_status("Failed", record.error)
                self.render_panel.stage.setText("Failed")
            self.projects.save(project)
            return isinstance(exc, Cancelled) or expired

        op.success(done).failure(failed)
        op.run()
        self.render_op = op
        return op

    def _render_languages(self, script: Script, languages: list[str], trigger: Any) -> Op[Any] | None:
        from app.core.languages import job_for_language

        project = self.projects.project
        assert project is not None
        rs = self.render_panel.current_settings()
        pdir = self.projects.store.project_dir(project.id)
        job = self.build_job(script, pdir)  # the script's own format (see build_job)
        eff = job.effective_settings()
        try:  # every translation is checked before anything starts
            for lang in languages:
                job_for_language(job, lang)
        except ScriptError as exc:
            show_error(self.window, "Render languages", exc)
            self.render_panel.set_status("Draft", "translate every card first (Script › Languages…)")
            return None
        cloud = rs.target == "cloud"
        if cloud and len(languages) == 1:  # the same cloud job as Render's, in the Cloud jobs list
            return self._render_job(project, script, job_for_language(job, languages[0]), language=languages[0],
                                    trigger=trigger)
        if cloud:
            return self._render_languages_cloud(project, script, job, languages, trigger)
        out = _new_render_dir(pdir)
        record = RenderRecord(started=time.time(), status="Rendering", target=rs.target,
                              format=format_label(eff.width, eff.height, eff.fps))
        project.data.history.append(record)
        self.render_panel.set_history(project.data.history)
        self.editor.show_failure(None, "")
        self.projects.save_now()
        factory: OpFactory[Any] = services.render_languages_local(job, out, languages, self._sessions())
        names = ", ".join(languages)
        op: Op[Any] = Op(self.window, factory, title=f"Render ({names})",
                         trigger=trigger if trigger is not None else self.render_panel.render_button,
                         view=self.render_panel)

        def done(outcome: services.LanguagesOutcome) -> None:
            record.status = "Complete"
            record.elapsed_s = float(outcome.elapsed_s)
            first = next(iter(outcome.results.values()))
            video = Path(first.video)
            record.duration_s = float(first.duration_s)
            record.chapters = list(first.chapters)
            detail = "; ".join(f"{Path(r.video).name} {r.duration_s:.1f} s" for r in outcome.results.values())
            detail += f" in {outcome.elapsed_s:.1f} s"
            record.output = str(video)
            self.last_language_outcome = outcome
            self.render_panel.show_result(video, services.record_chapters(record), record.duration_s)
            self.render_panel.set_status("Complete", detail)
            self.render_panel.stage.setText("Done")
            self.projects.save(project)

        def failed(exc: BaseException) -> bool:
            record.status = "Cancelled" if isinstance(exc, Cancelled) else "Failed"
            if not isinstance(exc, Cancelled):
                record.error = error_text(exc)
                if isinstance(exc, RenderError) and exc.card_index is not None:
                    record.card_index = exc.card_index
                    self.editor.show_failure(exc.card_index, exc.message)
            self.render_panel.set_status(record.status, record.error or "nothing was written")
            self.render_panel.stage.setText(record.status)
            self.projects.save(project)
            return isinstance(exc, Cancelled)

        op.success(done).failure(failed)
        op.run()
        self.render_op = op
        return op

    def _job_heard(self, project: Project, record: RenderRecord, job_rec: CloudJob) -> None:
        """A cloud job this app submitted changed: its history record learns the job id, the poller
        watches it until it ends, and the Cloud jobs view hears of it."""
        if record.job_id != job_rec.job_id:
            record.job_id = job_rec.job_id
            self.projects.save(project)
        if job_rec.terminal:
            self.watching.discard(job_rec.job_id)
        else:
            self.watching.add(job_rec.job_id)
        self.job_changed.emit(job_rec)

    def _render_languages_cloud(self, project: Project, script: Script, job: Job, languages: list[str],
                                trigger: Any) -> Op[Any] | None:
        """Every language in the cloud at once, as one fan-out cloud job (one variant per language): one
        entry in the Cloud jobs list, one history record per language, each language's outputs downloaded
        into ``renders/<time>/<variant>/`` when the job ends."""
        if not self.cloud.signed_in or self.cloud.client is None:
            self.render_panel.set_status("Draft", "sign in (Cloud › Sign in…) to render in the cloud")
            return None
        eff = job.effective_settings()
        fmt = format_label(eff.width, eff.height, eff.fps)
        out = _new_render_dir(self.projects.store.project_dir(project.id))
        records: dict[str, RenderRecord] = {}
        for lang in languages:
            records[lang] = RenderRecord(started=time.time(), status="Rendering", target="cloud", format=fmt)
            project.data.history.append(records[lang])
        self.render_panel.set_history(project.data.history)
        self.editor.show_failure(None, "")
        self.projects.save_now()
        entry = CloudJob(job_id="pending", project_id=project.id, project_name=project.name,
                         script=script.title or project.name, account=self.cloud.email or "", format=fmt)

        def on_job(job_rec: CloudJob) -> None:
            for record in records.values():
                if record.job_id != job_rec.job_id:
                    record.job_id = job_rec.job_id
            self._job_heard(project, next(iter(records.values())), job_rec)

        def on_language(lang: str, result: services.CloudOutcome | BaseException) -> None:
            record = records[lang]
            if record.job_id is not None:
                self.watching.discard(record.job_id)
            if isinstance(result, services.CloudOutcome):
                self.finish_cloud(project, record, result)
                return
            if isinstance(result, Cancelled):
                if self.detached and record.job_id is not None:
                    self.projects.save(project)  # renders on; the Cloud jobs view fetches it
                    return
                record.status = "Cancelled"
            else:
                record.status = "Failed"
                record.error = f"{lang}: {error_text(result)}"
            self.projects.save(project)

        factory = services.render_cloud_languages(
            self.cloud.client, job, out, languages, self._sessions(), jobs=self.cloud_jobs, entry=entry,
            on_job=on_job, keep_job=lambda: self.detached, on_language=on_language,
            thumbnails=self._thumbnails(project))
        names = ", ".join(languages)
        op: Op[Any] = Op(self.window, factory, title=f"Cloud render ({names})",
                         trigger=trigger if trigger is not None else self.render_panel.render_button,
                         view=self.render_panel)

        def done(outcome: services.CloudLanguagesOutcome) -> None:
            self.last_language_outcome = outcome
            parts = [f"{lang}: {o.render.video.parent.name}/{o.render.video.name}"
                     for lang, o in outcome.results.items()]
            parts[0] = f"cloud job {outcome.job_id}: {parts[0]}" if parts else f"cloud job {outcome.job_id}"
            parts += [f"{lang} failed: {error_text(exc)}" for lang, exc in outcome.failed.items()]
            status = "Failed" if outcome.failed else "Complete"
            self.render_panel.set_status(status, "; ".join(parts) + f" in {outcome.elapsed_s:.1f} s")
            self.render_panel.stage.setText("Done" if not outcome.failed else status)
            self.render_panel.set_history(project.data.history)

        def failed(exc: BaseException) -> bool:
            status = "Cancelled" if isinstance(exc, Cancelled) else "Failed"
            self.render_panel.set_status(status, "nothing was written" if status == "Cancelled" else error_text(exc))
            self.render_panel.stage.setText(status)
            self.render_panel.set_history(project.data.history)
            return isinstance(exc, Cancelled)

        op.success(done).failure(failed)
        op.run()
        self.render_op = op
        return op

    last_language_outcome: Any = None

    # ------------------------------------------------------------------ cloud results

    def finish_cloud(self, project: Project, record: RenderRecord, outcome: services.CloudOutcome) -> None:
        """A cloud job's outputs are here: complete its history record and, when its project is the
        open one, show the video.  The in-app render and the Jobs view's Fetch both end here."""
        record.status = "Complete"
        record.error = None
        record.job_id = outcome.render.job_id
        record.elapsed_s = float(outcome.elapsed_s)
        video, status = outcome.render.video, outcome.render.status
        record.duration_s = float(status.duration_s or 0.0)
        record.chapters = list(status.chapters)
        record.output = str(video)
        if self.projects.project is project:
            self.editor.storyboard.reload_thumbnails()  # taken from the video that came back
            detail = (f"{video.name} from cloud job {outcome.render.job_id}, "
                      f"{record.duration_s:.1f} s of video in {outcome.elapsed_s:.1f} s")
            self.render_panel.show_result(video, services.record_chapters(record), record.duration_s)
            self.render_panel.set_status("Complete", detail)
            self.render_panel.stage.setText("Done")
        self.projects.save(project)

    def owning_project(self, job: CloudJob) -> Project | None:
        """The project a job's outputs go into: the one that submitted it, else the open one."""
        current = self.projects.project
        if job.project_id is None or (current is not None and current.id == job.project_id):
            return current
        return next((p for p in self.projects.store.list_projects() if p.id == job.project_id), current)

    def fetch_job(self, job: CloudJob, trigger: Any = None) -> Op[services.CloudOutcome] | None:
        """Download a finished job into its project's render history, as a finished cloud render does."""
        project = self.owning_project(job)
        client = self.cloud.client
        if project is None or client is None or not self.cloud.signed_in:
            self.message.emit("Sign in to fetch cloud jobs" if project is not None else "Open a project first")
            return None
        record = next((r for r in project.data.history if r.job_id == job.job_id), None)
        if record is None:
            record = RenderRecord(started=job.submitted, status="Rendering", target="cloud", job_id=job.job_id)
            project.data.history.append(record)
        out = _new_render_dir(self.projects.store.project_dir(project.id))
        op: Op[services.CloudOutcome] = Op(self.window, services.fetch_cloud_job(client, job.job_id, out,
                                                                                  self.cloud_jobs,
                                                                                  self._thumbnails(project)),
                                           title=f"Fetch cloud job {job.job_id}", trigger=trigger, view=self.view)

        def done(outcome: services.CloudOutcome) -> None:
            self.finish_cloud(project, record, outcome)
            rec = self.cloud_jobs.get(job.job_id)
            if rec is not None:
                self.job_changed.emit(rec)

        op.success(done)
        op.run()
        return op

    def job_ended(self, job: CloudJob) -> None:
        """A job the Jobs view saw fail or be cancelled: its history record (if any) says so too."""
        if job.status not in ("Failed", "Cancelled") or job.project_id is None:
            return
        project = self.owning_project(job)
        if project is None or project.id != job.project_id:
            return
        record = next((r for r in project.data.history if r.job_id == job.job_id), None)
        if record is not None and record.status == "Rendering":
            record.status = job.status
            record.error = job.error
            self.projects.save(project)

    def release_media(self) -> None:
        self.editor.preview.release()
        if self.voice_player is not None:
            qt.release_player(self.voice_player)


def _new_render_dir(project_dir: Path) -> Path:
    """A fresh ``renders/<time>`` folder name for one render's outputs."""
    out = project_dir / "renders" / time.strftime("%Y%m%d-%H%M%S")
    n = 1
    while out.exists():
        out = out.with_name(f"{out.name.split('_')[0]}_{n}")
        n += 1
    return out
