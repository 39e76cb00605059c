"""The Cloud jobs view's logic: keep the list (``app.workbench.cloud_jobs``) in step with the cloud, run
fetch / cancel / share as ops, and tell the user when a job ends while the app is open."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from app.workbench import services
from app.workbench.cloud_jobs import QUOTA_PREFIX, CloudJob

from ..jobs_panel import JobsPanel
from ..ops import Op, ProgressView, error_text
from ..qt import QDesktopServices, QGuiApplication, QObject, QStyle, QSystemTrayIcon, QTimer, QUrl, QWidget, Signal
from .cloud_session import CloudSession
from .projects import ProjectController
from .renders import RenderController

log = logging.getLogger(__name__)

#: how often the cloud is asked while one of the user's jobs is unfinished
POLL_MS = 3000


class CloudJobsController(QObject):
    message = Signal(str)
    #: a job ended while the app was open: (job, how the user was told: "tray" or "status bar")
    notified = Signal(object, str)
    #: the user clicked a notification: bring the Cloud jobs view to the front
    show_jobs = Signal()

    def __init__(self, window: QWidget, view: ProgressView, *, panel: JobsPanel, cloud: CloudSession,
                 renders: RenderController, projects: ProjectController) -> None:
        super().__init__(window)
        self.window, self.view, self.panel = window, view, panel
        self.cloud, self.renders, self.projects = cloud, renders, projects
        self.poll_op: Op[services.JobsPoll] | None = None
        self.tray: QSystemTrayIcon | None = None
        #: jobs the user was already told about (one notification per job)
        self._told: set[str] = set()
        #: the system's file manager / player; a test may put a recorder here
        self.open_url: Any = QDesktopServices.openUrl
        self.last_share: services.ShareLink | None = None
        self.last_shared: services.SharedVideos | None = None
        self.timer = QTimer(self)
        self.timer.setObjectName("jobsPollTimer")
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

        panel.refresh_requested.connect(lambda: self.refresh(full=True))
        panel.fetch_requested.connect(self.fetch)
        panel.cancel_requested.connect(self.cancel)
        panel.share_requested.connect(self.share)
        panel.share_variant_requested.connect(self.share)
        panel.open_requested.connect(self.open_video)
        panel.reveal_requested.connect(self.reveal)
        cloud.changed.connect(self._signed_in)
        renders.job_changed.connect(self._job_changed)
        self.reload()

    # ------------------------------------------------------------------ the list

    def jobs(self) -> list[CloudJob]:
        return self.renders.cloud_jobs.jobs()

    def reload(self) -> None:
        """Show the list as stored (cheap: no cloud call)."""
        store = self.renders.cloud_jobs
        jobs = store.jobs()
        self.panel.watching = set(self.renders.watching)
        self.panel.set_jobs(jobs)
        if store.problem:
            self.panel.notice.setText(store.problem)

    def active(self) -> list[CloudJob]:
        return [j for j in self.jobs() if not j.terminal]

    def _signed_in(self, email: str | None) -> None:
        self.panel.set_account(email, polling=True)
        if email is not None:
            self.refresh(full=True)

    def tick(self) -> None:
        """The poll timer: ask about unfinished jobs while signed in (one request round at a time)."""
        if self.cloud.signed_in and self.poll_op is None and self.active():
            self.refresh(full=False)

    def refresh(self, full: bool = True) -> Op[services.JobsPoll] | None:
        """``full``: every job of the account (adds jobs submitted elsewhere); else the unfinished ones."""
        client = self.cloud.client
        if client is None or not self.cloud.signed_in or self.poll_op is not None:
            return None
        op: Op[services.JobsPoll] = Op(self.window, services.poll_cloud_jobs(client, self.renders.cloud_jobs,
                                                                            full=full),
                                       title="Cloud jobs", trigger=self.panel.refresh_button if full else None,
                                       view=self.view if full else None)
        self.poll_op = op

        def done(result: services.JobsPoll) -> None:
            self.poll_op = None
            self.reload()
            if full:
                self.panel.notice.setText(f"Checked {time.strftime('%H:%M:%S')}")
            for job in result.changed:
                self.renders.job_ended(job)
                self._maybe_tell(job)

        def failed(exc: BaseException) -> bool:
            self.poll_op = None
            self.panel.notice.setText(f"Could not read your cloud jobs: {error_text(exc)}")
            log.info("cloud jobs poll failed: %s", exc)
            return True  # a background check never pops up a dialog

        op.success(done).failure(failed)
        op.run()
        return op

    def _job_changed(self, job: CloudJob) -> None:
        self.reload()
        self._maybe_tell(job)

    # ------------------------------------------------------------------ notifications

    def _maybe_tell(self, job: CloudJob) -> None:
        # finished or failed; a cancel is the user's own doing (the list shows it)
        if job.status not in ("Complete", "Failed") or job.job_id in self._told:
            return
        self._told.add(job.job_id)
        self.notify(job)

    def notify(self, job: CloudJob) -> str:
        """Tell the user a job ended: a desktop notification where the desktop has a tray, else the
        status bar (and the log).  Returns which."""
        if job.status == "Complete":
            title, text = "Cloud render finished", f"'{job.label}' is ready to fetch"
        elif job.status == "Failed" and job.error and job.error.startswith(QUOTA_PREFIX):
            title, text = "Cloud render not started: quota reached", f"'{job.label}': {job.error}"
        elif job.status == "Failed":
            title, text = "Cloud render failed", f"'{job.label}' failed: {job.error or 'unknown error'}"
        else:
            title, text = f"Cloud render {job.status.lower()}", f"'{job.label}' was {job.status.lower()}"
        log.info("%s: %s (cloud job %s)", title, text, job.job_id)
        via = "status bar"
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self.tray is None:
                icon = self.window.windowIcon()
                if icon.isNull():
                    icon = self.window.style().standardIcon(QStyle.StandardPixmap.SP_ComputerIcon)
                self.tray = QSystemTrayIcon(icon, self)
                self.tray.setToolTip("Reelwright")
                self.tray.messageClicked.connect(self._show_jobs)
            self.tray.show()
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 10000)
            via = "tray"
        self.message.emit(f"{title}: {text}")
        self.notified.emit(job, via)
        return via

    def _show_jobs(self) -> None:
        self.show_jobs.emit()

    # ------------------------------------------------------------------ actions on one job

    def _busy(self, job_id: str, busy: bool) -> None:
        if busy:
            self.panel.busy.add(job_id)
        else:
            self.panel.busy.discard(job_id)
        self.panel.update_actions()

    def fetch(self, job: CloudJob) -> Op[services.CloudOutcome] | None:
        op = self.renders.fetch_job(job, trigger=self.panel.fetch_button)
        if op is None:
            return None
        self._busy(job.job_id, True)

        def finished(_r: Any) -> None:
            self._busy(job.job_id, False)
            self.reload()
            rec = self.renders.cloud_jobs.get(job.job_id)
            if rec is not None and rec.output:
                self.panel.notice.setText(f"Fetched into {rec.project_name or 'the open project'}: {rec.output}")

        op.done.connect(finished)
        op.errored.connect(finished)
        return op

    def cancel(self, job: CloudJob) -> Op[Any] | None:
        client = self.cloud.client
        if client is None:
            return None
        op: Op[Any] = Op(self.window, services.cancel_cloud_job(client, job.job_id),
                         title=f"Cancel cloud job {job.job_id}", trigger=self.panel.cancel_button, view=self.view)
        self._busy(job.job_id, True)

        def done(st: Any) -> None:
            self._busy(job.job_id, False)
            self.renders.cloud_jobs.apply_status(st)
            self.panel.notice.setText(f"Asked the cloud to stop '{job.label}'; it stops within a few seconds")
            self.reload()

        def failed(exc: BaseException) -> bool:
            self._busy(job.job_id, False)
            return False

        op.success(done).failure(failed)
        op.run()
        return op

    def share(self, job: CloudJob, variant: str | None = None) -> Op[services.SharedVideos] | None:
        """Copy a share link: the job's video, a fan-out variant's (``variant``), or one line per variant
        (``services.ALL_VARIANTS``)."""
        client = self.cloud.client
        if client is None:
            return None
        op: Op[services.SharedVideos] = Op(self.window, services.share_cloud_job(client, job.job_id, variant=variant),
                                           title="Share link", trigger=self.panel.share_button, view=self.view)

        def done(shared: services.SharedVideos) -> None:
            self.last_share = shared.first
            self.last_shared = shared
            QGuiApplication.clipboard().setText(shared.text)
            # the real end of the link (the signing credentials may end it before the time asked)
            if len(shared.links) > 1:
                what = f"{len(shared.links)} share links to '{job.label}' (one line per variant)"
            elif shared.fan_out:
                what = f"Share link to the {shared.links[0][0]} video of '{job.label}'"
            else:
                what = f"Share link to '{job.label}'"
            self.panel.notice.setText(f"{what} copied to the clipboard; "
                                      f"{'it' if len(shared.links) == 1 else 'each'} {shared.until_text()}")

        op.success(done)
        op.run()
        return op

    def _video(self, job: CloudJob) -> Path | None:
        rec = self.renders.cloud_jobs.get(job.job_id) or job
        if rec.output and Path(rec.output).is_file():
            return Path(rec.output)
        self.panel.notice.setText(f"The video of '{job.label}' is not on this computer (moved or deleted?): "
                                  "fetch it again")
        return None

    def open_video(self, job: CloudJob) -> None:
        """Play a fetched video in the Render view (opening its project first)."""
        video = self._video(job)
        if video is None:
            return
        project = self.renders.owning_project(job)
        if project is not None and (self.projects.project is None or self.projects.project.id != project.id):
            self.projects.open(project.id)
        current = self.projects.project
        record = next((r for r in current.data.history if r.job_id == job.job_id), None) if current else None
        chapters = services.record_chapters(record) if record is not None else []
        rp = self.renders.render_panel
        # the player may have it already (a fetch shows what it fetched): loading it again mid-load
        # only races Qt Multimedia's decoder threads
        if rp.player is None or rp.player.source() != QUrl.fromLocalFile(str(video)):
            rp.show_result(video, chapters, record.duration_s or 0.0 if record else 0.0)
        self.renders.show_render.emit()

    def reveal(self, job: CloudJob) -> None:
        video = self._video(job)
        if video is not None:
            self.open_url(QUrl.fromLocalFile(str(video.parent)))

    def shutdown(self) -> None:
        """The window is closing: stop polling, take the tray icon away."""
        self.timer.stop()
        if self.tray is not None:
            self.tray.hide()
