"""Renders and card previews: render the project locally or in the cloud (with its history record),
check a card in a headless browser, and voice a card's narration."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.core.bundle import RenderSettings
from app.core.errors import Cancelled, Problem, RenderError, ScriptError
from app.core.render import CheckResult
from app.core.script import Script, plain_narration
from app.core.voice.base import VoiceClip
from app.workbench import services
from app.workbench.cloud_jobs import CloudJob, CloudJobStore
from app.workbench.services import OpFactory
from app.workbench.sessions import SessionStore
from app.workbench.storage import AppSettings, Project, RenderRecord

from .. import qt
from ..card_editor import CardEditor
from ..document import ScriptDocument
from ..ops import Op, ProgressView, error_text, show_error
from ..qt import QObject, QUrl, QWidget, Signal
from ..render_panel import RenderPanel
from .cloud_session import CloudSession
from .projects import ProjectController


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
        #: the window is closing: a cloud render stops watching its job, and the job renders on
        self.detached = False
        #: the cloud jobs an in-app render is following right now (the Jobs view leaves them to it)
        self.watching: set[str] = set()

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

    def play_voice(self, row: int) -> Op[VoiceClip] | None:
        if row < 0:
            return None
        card = self.doc.cards.card(row)
        narration = str(card.get("narration") or "")
        if not plain_narration(narration):
            self.message.emit("This card has no narration to voice")
            return None
        voice = services.voice_settings_for(self.doc.data.get("settings"), self.settings)
        op: Op[VoiceClip] = Op(self.window, services.voice_card(narration, voice), title="Voice preview",
                               trigger=self.editor.play_button, view=self.view)

        def played(clip: VoiceClip) -> None:
            self.doc.measured[(str(card.get("id")), plain_narration(narration))] = float(clip.duration_s)
            self.editor.refresh_stats()
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
        op: Op[CheckResult] = Op(self.window, services.check(job, row, self._sessions()), title=f"Check card {row + 1}",
                                 trigger=self.editor.check_button, view=self.view)
        self.editor.check_result.setText("Checking in a headless browser…")

        def ok(res: CheckResult) -> None:
            self.editor.show_failure(None, "")
            text = f"✔ {res.actions_run} action(s) ran fine in {res.duration_s:.1f} s"
            if res.warnings:
                text += "\n" + "\n".join(f"⚠ {w}" for w in res.warnings)
            self.editor.check_result.setText(text)

        def failed(exc: BaseException) -> bool:
            if isinstance(exc, RenderError) and exc.card_index is not None:
                self.editor.show_failure(exc.card_index, exc.message)
            self.editor.check_result.setText(f"✘ {error_text(exc)}")
            return False  # the dialog too

        op.success(ok).failure(failed)
        op.run()
        return op

    # ------------------------------------------------------------------ render

    def start_render(self) -> Op[Any] | None:
        project = self.projects.project
        if project is None:
            return None
        self.show_render.emit()
        script = self._valid_script("Render")
        if script is None:
            self.render_panel.set_status("Draft", "fix the problems shown on the cards first")
            return None
        rs = self.render_panel.current_settings()
        render = RenderSettings(width=rs.width, height=rs.height, fps=rs.fps, captions=rs.captions,
                                burn_captions=rs.burn_captions)
        pdir = self.projects.store.project_dir(project.id)
        job = services.make_job(script, pdir, render)
        out = _new_render_dir(pdir)
        cloud = rs.target == "cloud"
        if cloud and not self.cloud.signed_in:
            self.render_panel.set_status("Draft", "sign in (File › Sign in…) to render in the cloud")
            return None
        record = RenderRecord(started=time.time(), status="Rendering", target=rs.target)
        project.data.history.append(record)
        self.render_panel.set_history(project.data.history)
        self.editor.show_failure(None, "")
        self.projects.save_now()
        factory: OpFactory[Any]
        if cloud:
            assert self.cloud.client is not None
            entry = CloudJob(job_id="pending", project_id=project.id, project_name=project.name,
                             script=script.title or project.name, account=self.cloud.email or "",
                             format=f"{rs.width}×{rs.height} {rs.fps} fps")

            def on_job(job_rec: CloudJob) -> None:
                if record.job_id != job_rec.job_id:
                    record.job_id = job_rec.job_id
                    self.projects.save(project)
                if job_rec.terminal:
                    self.watching.discard(job_rec.job_id)
                else:
                    self.watching.add(job_rec.job_id)
                self.job_changed.emit(job_rec)

            factory = services.render_cloud(self.cloud.client, job, out, self._sessions(), jobs=self.cloud_jobs,
                                            entry=entry, on_job=on_job, keep_job=lambda: self.detached)
        else:
            factory = services.render_local(job, out, self._sessions())
        op: Op[Any] = Op(self.window, factory, title="Cloud render" if cloud else "Render",
                         trigger=self.render_panel.render_button, view=self.render_panel)

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
            if res.warnings:
                detail += "\n" + "\n".join(f"⚠ {w}" for w in res.warnings)
            record.output = str(video)
            self.render_panel.show_result(video, services.record_chapters(record), record.duration_s)
            self.render_panel.set_status("Complete", detail)
            self.render_panel.stage.setText("Done")
            self.projects.save(project)

        def failed(exc: BaseException) -> bool:
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
            return isinstance(exc, Cancelled)

        op.success(done).failure(failed)
        op.run()
        self.render_op = op
        return op

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
                                                                                  self.cloud_jobs),
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
        if self.voice_player is not None:
            self.voice_player.stop()
            self.voice_player.setSource(QUrl())


def _new_render_dir(project_dir: Path) -> Path:
    """A fresh ``renders/<time>`` folder name for one render's outputs."""
    out = project_dir / "renders" / time.strftime("%Y%m%d-%H%M%S")
    n = 1
    while out.exists():
        out = out.with_name(f"{out.name.split('_')[0]}_{n}")
        n += 1
    return out
