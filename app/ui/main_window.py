"""The main window: library | project (ordered files, prompt, draft) | script cards / render.

It owns the store, the open project and its script document, autosaves (≤ 1 s of typing can be lost),
and starts every long operation through :class:`~app.ui.ops.Op`.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from pathlib import Path
from typing import Any

from app.core.errors import Problem, RenderError, ScriptError
from app.core.script import plain_narration
from app.workbench.storage import (
    AppSettings,
    Project,
    ProjectData,
    ProjectRenderSettings,
    Store,
    load_settings,
    save_settings,
)

from . import qt, services
from .card_editor import CardEditor
from .document import ScriptDocument
from .library_panel import LibraryPanel
from .ops import Op, error_text, show_error
from .project_panel import ProjectPanel
from .qt import (
    QAction,
    QByteArray,
    QCloseEvent,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QKeySequence,
    QMainWindow,
    QMessageBox,
    QSplitter,
    Qt,
    QTabWidget,
    QTimer,
    QUndoCommand,
    QUrl,
)
from .render_panel import RenderPanel
from .widgets import LogPanel, OpBar

log = logging.getLogger(__name__)

#: autosave delay after the last edit: well under the promised 1 s of loss
AUTOSAVE_MS = 400


class _ReplaceScriptCommand(QUndoCommand):
    """Drafting replaces the whole script; undo brings the previous one back."""

    def __init__(self, doc: ScriptDocument, new: dict[str, Any], text: str) -> None:
        super().__init__(text)
        self.doc, self.old, self.new = doc, doc.to_data(), copy.deepcopy(new)

    def _apply(self, data: dict[str, Any]) -> None:
        self.doc.data = copy.deepcopy(data)
        self.doc.data.setdefault("cards", [])
        self.doc.cards.reset_from(self.doc.data["cards"])

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class MainWindow(QMainWindow):
    def __init__(self, store: Store, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.store = store
        self.settings = settings or load_settings(store.root)
        self.project: Project | None = None
        self._loading_project = False
        self.setWindowTitle("Reelwright")
        self.resize(1500, 900)

        self.op_bar = OpBar()
        self.statusBar().addPermanentWidget(self.op_bar)
        self.doc = ScriptDocument(self)
        self.library = LibraryPanel(store, self.op_bar)
        self.library.setObjectName("libraryPanel")
        self.project_panel = ProjectPanel()
        self.project_panel.setObjectName("projectPanel")
        self.project_panel.picked.resolve_ids = self.library.files_by_ids
        self.editor = CardEditor(self.doc)
        self.editor.setObjectName("cardEditor")
        self.render_panel = RenderPanel()
        self.render_panel.setObjectName("renderPanel")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.addTab(self.editor, "Script")
        self.tabs.addTab(self.render_panel, "Render")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.library)
        self.splitter.addWidget(self.project_panel)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setStretchFactor(2, 6)
        self.splitter.setSizes([380, 290, 930])
        self.setCentralWidget(self.splitter)

        self.log_panel = LogPanel()
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("logDock")
        self.log_dock.setWidget(self.log_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.log_dock.hide()

        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_now)
        self._voice_player: Any = None
        self._cloud = []

        self._build_menus()
        self._wire()
        self._restore_layout()

    # ------------------------------------------------------------------ construction

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None, name: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        if name:
            act.setObjectName(name)
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self._action(f, "New project…", self.new_project, QKeySequence.StandardKey.New)
        self._action(f, "Import files…", self.library.choose_files, QKeySequence.StandardKey.Open)
        self._action(f, "Import folder…", self.library.choose_folder, "Ctrl+Shift+O")
        f.addSeparator()
        self._action(f, "Export backup…", self.export_backup, name="exportBackup")
        self._action(f, "Restore backup…", self.restore_backup, name="restoreBackup")
        f.addSeparator()
        self.sign_in_action = self._action(f, "Sign in…", self.sign_in, name="signIn")
        if not services.cloud_available():
            self.sign_in_action.setEnabled(False)
            self.sign_in_action.setToolTip("Cloud rendering is not available in this build yet")
            self.sign_in_action.setStatusTip("Cloud rendering is not available in this build yet")
        f.setToolTipsVisible(True)
        self._action(f, "Settings…", self.open_settings, QKeySequence.StandardKey.Preferences, name="settings")
        f.addSeparator()
        self._action(f, "Quit", self.close, QKeySequence.StandardKey.Quit)

        e = mb.addMenu("&Edit")
        undo = self.doc.undo_stack.createUndoAction(self, "Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.doc.undo_stack.createRedoAction(self, "Redo")
        redo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Redo), QKeySequence("Ctrl+Y")])
        e.addAction(undo)
        e.addAction(redo)
        self.undo_action, self.redo_action = undo, redo
        e.addSeparator()
        self._action(e, "Undo library delete", self.library.undo_delete, "Ctrl+Shift+Z")
        self._action(e, "Find in library", lambda: self.library.search.setFocus(), QKeySequence.StandardKey.Find)

        s = mb.addMenu("&Script")
        self._action(s, "Draft script", self.draft, "Ctrl+D")
        self._action(s, "Add card", self.editor.add_card, "Ctrl+Shift+N")
        self._action(s, "Play card voice", lambda: self.play_voice(self.editor.current_row()), "Ctrl+P")
        self._action(s, "Check card in browser", lambda: self.check_card(self.editor.current_row()), "Ctrl+K")
        self._action(s, "Video settings…", self.open_video_settings, "Ctrl+Shift+V", name="videoSettings")
        s.addSeparator()
        self._action(s, "Render video", self.start_render, "Ctrl+R")
        self._action(s, "Export script JSON…", self.export_script)

        v = mb.addMenu("&View")
        self._action(v, "Script", lambda: self.tabs.setCurrentIndex(0), "Ctrl+1")
        self._action(v, "Render", lambda: self.tabs.setCurrentIndex(1), "Ctrl+2")
        log_act = self.log_dock.toggleViewAction()
        log_act.setText("Show log")
        log_act.setShortcut(QKeySequence("Ctrl+L"))
        v.addAction(log_act)

        h = mb.addMenu("&Help")
        self._action(h, "Open the example project", self.open_example, name="openExample")
        self._action(h, "About Reelwright", self.about, name="about")

    def _wire(self) -> None:
        self.library.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.library.add_to_project.connect(self.add_files_to_project)
        self.library.files_changed.connect(self._library_changed)
        p = self.project_panel
        p.project_chosen.connect(self.open_project)
        p.new_project.connect(self.new_project)
        p.rename_project.connect(self.rename_project)
        p.duplicate_project.connect(self.duplicate_project)
        p.delete_project.connect(self.delete_project)
        p.draft_requested.connect(self.draft)
        p.edited.connect(self._edited)
        self.doc.changed.connect(self._edited)
        self.editor.play_voice.connect(self.play_voice)
        self.editor.check_card.connect(self.check_card)
        self.render_panel.render_requested.connect(self.start_render)
        self.render_panel.settings_changed.connect(self._edited)
        self.render_panel.video_settings_requested.connect(self.open_video_settings)

    # ------------------------------------------------------------------ startup

    def start(self) -> None:
        """Load the library and reopen the last project (problems are reported, never fatal)."""
        self.library.reload()
        projects = self.store.list_projects()
        problems = list(dict.fromkeys(self.store.problems))
        if not projects:
            projects = [self.store.create_project("My first video")]
        wanted = self.settings.last_project
        current = next((p for p in projects if p.id == wanted), projects[-1])
        self._refresh_project_list(current.id)
        self._load_project(current)
        if problems:
            msg = "\n".join(problems)
            log.warning("startup problems:\n%s", msg)
            box = QMessageBox(QMessageBox.Icon.Warning, "Some records were skipped",
                              "Reelwright skipped records it could not read:\n\n" + msg,
                              QMessageBox.StandardButton.Ok, self)
            box.setObjectName("startupProblems")
            box.setModal(False)
            QTimer.singleShot(0, box.show)
            self.store.problems.clear()

    def _refresh_project_list(self, current: int | None) -> None:
        self.project_panel.set_projects([(p.id, p.name) for p in self.store.list_projects()], current)
        self.store.problems.clear()

    # ------------------------------------------------------------------ projects

    def _load_project(self, project: Project) -> None:
        self._loading_project = True
        try:
            self.project = project
            d = project.data
            files = [f for f in self.library.files_by_ids(d.files) if f is not None]
            self.project_panel.picked.set_files(files)
            self.project_panel.prompt.setPlainText(d.prompt)
            self.project_panel.set_drafter(d.drafter)
            self.doc.load(d.script)
            self.render_panel.load_settings(d.render)
            self.render_panel.set_history(d.history)
            last_ok = next((r for r in reversed(d.history) if r.status == "Complete" and r.output), None)
            if last_ok and last_ok.output and Path(last_ok.output).is_file():
                chapters = services.record_chapters(last_ok)
                self.render_panel.show_result(Path(last_ok.output), chapters, last_ok.duration_s or 0.0,
                                              load=self.render_panel.isVisible())
            self.editor.select_card(min(d.selected_card, max(0, self.doc.cards.rowCount() - 1)))
            self.settings.last_project = project.id
            self.setWindowTitle(f"{project.name} — Reelwright")
        finally:
            self._loading_project = False

    def open_project(self, project_id: int) -> None:
        self.save_now()
        for p in self.store.list_projects():
            if p.id == project_id:
                self._load_project(p)
                return

    def new_project(self) -> None:
        name, ok = QInputDialog.getText(self, "New project", "Project name:", text="Untitled video")
        if ok and name.strip():
            self.create_project(name.strip())

    def create_project(self, name: str, data: ProjectData | None = None) -> Project:
        self.save_now()
        if data is None:  # a new project starts from the app's defaults (Settings)
            s = self.settings
            render = ProjectRenderSettings(width=s.width, height=s.height, fps=s.fps)
            data = ProjectData(drafter=s.drafter, render=render)
        p = self.store.create_project(name, data)
        self._refresh_project_list(p.id)
        self._load_project(p)
        return p

    def rename_project(self) -> None:
        if self.project is None:
            return
        name, ok = QInputDialog.getText(self, "Rename project", "Project name:", text=self.project.name)
        if ok and name.strip():
            self.project.name = name.strip()
            self.save_now()
            self._refresh_project_list(self.project.id)
            self.setWindowTitle(f"{self.project.name} — Reelwright")

    def duplicate_project(self) -> None:
        if self.project is None:
            return
        self.save_now()
        copy_ = self.store.duplicate_project(self.project)
        self._refresh_project_list(copy_.id)
        self._load_project(copy_)

    def delete_project(self, confirm: bool = True) -> None:
        if self.project is None:
            return
        if confirm and QMessageBox.question(self, "Delete project",
                                            f"Delete the project “{self.project.name}” and its renders? "
                                            "Library files are kept.") != QMessageBox.StandardButton.Yes:
            return
        self.store.delete_project(self.project.id)
        self.project = None
        projects = self.store.list_projects() or [self.store.create_project("My first video")]
        self._refresh_project_list(projects[-1].id)
        self._load_project(projects[-1])

    def add_files_to_project(self, files: list[Any]) -> None:
        n = self.project_panel.picked.append_files(files)
        self.statusBar().showMessage(f"Added {n} file(s) to the project", 4000)

    def _library_changed(self) -> None:
        # a file deleted from the library leaves the project's selection too
        if self.project is None:
            return
        live = {f.id for f in self.library.model.files()}
        picked = self.project_panel.picked
        for row in range(picked.rowCount() - 1, -1, -1):
            if picked.ids()[row] not in live:
                picked.removeRows(row, 1)

    # ------------------------------------------------------------------ autosave

    def _edited(self) -> None:
        # save AUTOSAVE_MS after the first unsaved edit, not after the last one: restarting the timer
        # on every keystroke would never save while someone keeps typing
        if not self._loading_project and not self._autosave.isActive():
            self._autosave.start()

    def collect(self) -> None:
        """Copy the widgets' state into the project record."""
        if self.project is None:
            return
        d = self.project.data
        d.files = self.project_panel.picked.ids()
        d.prompt = self.project_panel.prompt.toPlainText()
        d.drafter = self.project_panel.current_drafter()
        d.script = self.doc.to_data() if not self.doc.is_empty() or d.script else None
        d.render = self.render_panel.current_settings()
        d.selected_card = max(0, self.editor.current_row())

    def save_now(self) -> None:
        self._autosave.stop()
        if self.project is None:
            return
        self.collect()
        self.store.save_project(self.project)

    # ------------------------------------------------------------------ operations

    def draft(self) -> Op[Any] | None:
        files = self.project_panel.picked.files()
        prompt = self.project_panel.prompt.toPlainText()
        if not files and not prompt.strip():
            self.statusBar().showMessage("Pick some files or write a prompt first", 6000)
            return None
        drafter = self.project_panel.current_drafter()
        settings = services.default_script_settings(self.settings, self.doc.to_data().get("settings"))
        op = Op(self, services.draft(self.store, files, prompt, drafter, self.settings, settings), title="Draft",
                trigger=self.project_panel.draft_button, view=self.op_bar)
        op.success(self._drafted)
        op.run()
        return op

    def _drafted(self, result: Any) -> None:
        script = getattr(result, "script", result)
        data = script.model_dump(mode="json") if hasattr(script, "model_dump") else dict(script)
        # keep the project's own settings (site, voice) when the drafter did not choose them
        old = self.doc.to_data().get("settings") or {}
        if old.get("site") and not data.get("settings", {}).get("site") and not data.get("settings", {}).get(
                "base_url"):
            data.setdefault("settings", {})["site"] = old["site"]
        self.doc.undo_stack.push(_ReplaceScriptCommand(self.doc, data, "Draft script"))
        self.editor.select_card(0)
        self.tabs.setCurrentWidget(self.editor)
        warnings = list(getattr(result, "warnings", []) or [])
        n = self.doc.cards.rowCount()
        self.statusBar().showMessage(f"Drafted {n} card(s)" + (f", {len(warnings)} warning(s) — see the log"
                                                               if warnings else ""), 8000)
        for w in warnings:
            log.warning("draft: %s", w)
        self.save_now()

    def _valid_script(self, title: str) -> Any:
        self.doc.revalidate()
        if self.doc.script is None:
            probs = self.doc.problems
            first = next((p.card_index for p in probs if p.card_index is not None), None)
            if first is not None:
                self.editor.select_card(first)
            show_error(self, title, ScriptError(probs or [Problem("script", "the script has no cards")]))
            return None
        return self.doc.script

    def play_voice(self, row: int) -> Op[Any] | None:
        if row < 0:
            return None
        card = self.doc.cards.card(row)
        narration = str(card.get("narration") or "")
        if not plain_narration(narration):
            self.statusBar().showMessage("This card has no narration to voice", 5000)
            return None
        voice = services.voice_settings_for(self.doc.data.get("settings"), self.settings)
        op = Op(self, services.voice_card(narration, voice), title="Voice preview",
                trigger=self.editor.play_button, view=self.op_bar)

        def played(clip: Any) -> None:
            self.doc.measured[(str(card.get("id")), plain_narration(narration))] = float(clip.duration_s)
            self.editor._refresh_stats()
            if qt.have_multimedia():
                if self._voice_player is None:
                    self._voice_player = qt.QMediaPlayer(self)
                    self._voice_audio = qt.QAudioOutput(self)
                    self._voice_player.setAudioOutput(self._voice_audio)
                self._voice_player.setSource(QUrl.fromLocalFile(str(clip.path)))
                self._voice_player.play()

        op.success(played)
        op.run()
        return op

    def check_card(self, row: int) -> Op[Any] | None:
        if row < 0 or self.project is None:
            return None
        script = self._valid_script("Check in browser")
        if script is None:
            return None
        job = services.make_job(script, self.store.project_dir(self.project.id))
        op = Op(self, services.check(job, row), title=f"Check card {row + 1}",
                trigger=self.editor.check_button, view=self.op_bar)
        self.editor.check_result.setText("Checking in a headless browser…")

        def ok(res: Any) -> None:
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

    def start_render(self) -> Op[Any] | None:
        if self.project is None:
            return None
        self.tabs.setCurrentWidget(self.render_panel)
        script = self._valid_script("Render")
        if script is None:
            self.render_panel.set_status("Draft", "fix the problems shown on the cards first")
            return None
        rs = self.render_panel.current_settings()
        from app.core.bundle import RenderSettings

        render = RenderSettings(width=rs.width, height=rs.height, fps=rs.fps, captions=rs.captions,
                                burn_captions=rs.burn_captions)
        pdir = self.store.project_dir(self.project.id)
        job = services.make_job(script, pdir, render)
        out = pdir / "renders" / time.strftime("%Y%m%d-%H%M%S")
        n = 1
        while out.exists():
            out = out.with_name(f"{out.name.split('_')[0]}_{n}")
            n += 1
        from app.workbench.storage import RenderRecord

        cloud = rs.target == "cloud"
        if cloud and (not self._cloud or self.cloud_email is None):
            self.render_panel.set_status("Draft", "sign in (File › Sign in…) to render in the cloud")
            return None
        record = RenderRecord(started=time.time(), status="Rendering", target=rs.target)
        project = self.project
        project.data.history.append(record)
        self.render_panel.set_history(project.data.history)
        self.editor.show_failure(None, "")
        self.save_now()
        factory = services.render_cloud(self._cloud[0], job, out) if cloud else services.render_local(job, out)
        op = Op(self, factory, title="Cloud render" if cloud else "Render",
                trigger=self.render_panel.render_button, view=self.render_panel)

        def done(outcome: Any) -> None:
            if isinstance(outcome, services.CloudOutcome):
                video, status = outcome.render.video, outcome.render.status
                duration = float(status.duration_s or 0.0)
                record.status = "Complete"
                record.output, record.duration_s, record.elapsed_s = str(video), duration, outcome.elapsed_s
                record.chapters = list(status.chapters)
                self.render_panel.show_result(video, services.record_chapters(record), duration)
                self.render_panel.set_status("Complete", f"{video.name} from cloud job {outcome.render.job_id}, "
                                                         f"{duration:.1f} s of video in {outcome.elapsed_s:.1f} s")
                self.render_panel.stage.setText("Done")
                self._finish_record(project)
                return
            res = outcome.result
            record.status = "Complete"
            record.output = str(res.video)
            record.duration_s = float(res.duration_s)
            record.elapsed_s = float(outcome.elapsed_s)
            record.chapters = list(res.chapters)
            self.render_panel.show_result(Path(res.video), services.record_chapters(record), float(res.duration_s))
            detail = f"{Path(res.video).name}, {res.duration_s:.1f} s of video in {outcome.elapsed_s:.1f} s " \
                     f"({res.capture_mode} capture)"
            if res.warnings:
                detail += "\n" + "\n".join(f"⚠ {w}" for w in res.warnings)
            self.render_panel.set_status("Complete", detail)
            self.render_panel.stage.setText("Done")
            self._finish_record(project)

        def failed(exc: BaseException) -> bool:
            from app.core.errors import Cancelled

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
            self._finish_record(project)
            return isinstance(exc, Cancelled)

        op.success(done).failure(failed)
        op.run()
        self.render_op = op
        return op

    def _finish_record(self, project: Project) -> None:
        if self.project is project:
            self.render_panel.set_history(project.data.history)
            self.save_now()
        else:
            self.store.save_project(project)

    def export_script(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export script", "script.json", "Script (*.json)")
        if name:
            from app.core.infra.fs import atomic_write

            atomic_write(Path(name), self.doc.to_json())

    # ------------------------------------------------------------------ backup, settings, about, cloud

    def export_backup(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export backup", str(Path.home() / "reelwright-backup.zip"),
                                              "Backup (*.zip)")
        if name:
            self.run_export_backup(Path(name))

    def run_export_backup(self, path: Path) -> Op[Any]:
        import asyncio

        from app.workbench.storage import export_backup

        self.save_now()

        async def op_fn(on_progress: Any, cancel: Any) -> Path:
            return await asyncio.to_thread(export_backup, self.store, path)

        op = Op(self, op_fn, title="Export backup", view=self.op_bar, cancellable=False)
        op.success(lambda p: self.statusBar().showMessage(f"Backup written to {p}", 8000))
        op.run()
        return op

    def restore_backup(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Restore backup", str(Path.home()), "Backup (*.zip)")
        if not name:
            return
        if QMessageBox.question(self, "Restore backup", "Replace the library and all projects with the "
                                "backup's? The current data folder is kept beside it.") \
                != QMessageBox.StandardButton.Yes:
            return
        self.run_restore_backup(Path(name))

    def run_restore_backup(self, path: Path) -> None:
        from app.workbench.storage import StorageError, restore_backup

        self.save_now()
        root = self.store.root
        self.store.close()
        try:
            kept = restore_backup(path, root)
        except StorageError as exc:
            self.store = Store(root)
            show_error(self, "Restore backup", exc)
            return
        self.store = Store(root)
        self.library.store = self.store
        self.project = None
        self.settings = load_settings(root)
        self.start()
        self.statusBar().showMessage(f"Backup restored; the previous data is in {kept}", 10000)

    def open_settings(self) -> None:
        from .settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.settings, self.store.root, self)
        if dlg.exec():
            self.settings = dlg.result_settings()
            save_settings(self.store.root, self.settings)

    video_settings_dialog: Any = None

    def open_video_settings(self) -> Any:
        """The script's camera, music, intro/outro, poster and preview settings (non-modal; every change is
        an undo step of the script)."""
        from .video_settings import VideoSettingsDialog

        if self.video_settings_dialog is None:
            def audio() -> list[tuple[str, Path]]:
                return [(f.name, self.store.blob_path(f.sha256)) for f in self.library.model.files()
                        if f.kind == "audio"]

            def project_dir() -> Path | None:
                return self.store.project_dir(self.project.id) if self.project is not None else None

            self.video_settings_dialog = VideoSettingsDialog(self.doc, audio, project_dir, self)
        self.video_settings_dialog.show()
        self.video_settings_dialog.raise_()
        self.video_settings_dialog.activateWindow()
        return self.video_settings_dialog

    def open_example(self) -> None:
        """Open the bundled example project (creating it again if it was deleted)."""
        from .example import EXAMPLE_NAME, create_example_project

        self.save_now()
        project = next((p for p in self.store.list_projects() if p.name == EXAMPLE_NAME), None)
        if project is None:
            try:
                project = create_example_project(self.store)
            except (OSError, ValueError) as exc:
                show_error(self, "Open the example", exc)
                return
            self.library.reload()
        self._refresh_project_list(project.id)
        self._load_project(project)

    def about(self) -> None:
        QMessageBox.about(self, "About Reelwright", about_text())

    # -- cloud

    _cloud: list[Any]  # [CloudClient] once created (a list so an op can fill it in)
    cloud_email: str | None = None

    def sign_in(self) -> None:
        """Sign in (or, when signed in, sign out) through the cloud client."""
        if self.cloud_email is not None:
            self.sign_out()
            return
        from .sign_in import SignInDialog

        dlg = SignInDialog(self)
        dlg.accepted.connect(lambda: self.run_sign_in(dlg.email.text().strip(), dlg.password.text()))
        dlg.open()
        self.sign_in_dialog = dlg

    def run_sign_in(self, email: str, password: str) -> Op[Any]:
        op = Op(self, services.cloud_sign_in(self._cloud, email, password), title="Sign in",
                trigger=self.sign_in_action, view=self.op_bar)

        def ok(_session: Any) -> None:
            self._signed_in(email)
            warning = getattr(self._cloud[0], "store_warning", None)
            if warning:
                self.statusBar().showMessage(str(warning), 15000)

        op.success(ok)
        op.run()
        return op

    def _signed_in(self, email: str | None) -> None:
        self.cloud_email = email
        signed = email is not None
        self.render_panel.set_cloud_enabled(signed)
        self.sign_in_action.setText(f"Sign out ({email})" if signed else "Sign in…")
        if signed:
            self.statusBar().showMessage(f"Signed in as {email}; cloud rendering is available", 8000)

    def sign_out(self) -> None:
        client = self._cloud[0] if self._cloud else None
        if client is None:
            self._signed_in(None)
            return

        async def op_fn(on_progress: Any, cancel: Any) -> None:
            await client.sign_out()

        Op(self, op_fn, title="Sign out", view=self.op_bar, cancellable=False).success(
            lambda _r: self._signed_in(None)).run()

    def restore_cloud_session(self) -> Op[Any] | None:
        """After the first paint: reuse a saved session, quietly (no cloud configured is not an error)."""
        if not services.cloud_available():
            return None

        async def op_fn(on_progress: Any, cancel: Any) -> str | None:
            client = await asyncio.to_thread(services.make_cloud_client)
            self._cloud[:] = [client]
            return client.username  # type: ignore[no-any-return]

        def restored(user: str | None) -> None:
            if user is not None:
                self._signed_in(user)

        def no_session(exc: BaseException) -> bool:
            log.info("no cloud session: %s", exc)
            return True  # not an error worth a dialog

        op = Op(self, op_fn, title="Cloud session", cancellable=False)
        op.success(restored).failure(no_session)
        op.run()
        return op

    # ------------------------------------------------------------------ layout and closing

    def _restore_layout(self) -> None:
        s = self.settings
        if s.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(s.window_geometry.encode()))
        if s.window_state:
            self.restoreState(QByteArray.fromBase64(s.window_state.encode()))

    def save_layout(self) -> None:
        self.settings.window_geometry = bytes(self.saveGeometry().toBase64().data()).decode()
        self.settings.window_state = bytes(self.saveState().toBase64().data()).decode()
        save_settings(self.store.root, self.settings)

    def closeEvent(self, event: QCloseEvent) -> None:
        for op in list(Op.running):
            op.cancel()
        self.release_media()
        self.save_now()
        self.save_layout()
        self.log_panel.detach()
        event.accept()

    def release_media(self) -> None:
        """Stop every media player and drop its file: Qt Multimedia decodes on its own threads, and a
        window that goes away with a video still loaded must not leave them posting frames to it."""
        for player in (self.render_panel.player, self._voice_player, self.library.player):
            if player is not None:
                player.stop()
                player.setSource(QUrl())


def about_text() -> str:
    import platform
    from importlib import metadata

    import app

    from .qt import QT_VERSION

    def ver(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "not installed"

    rows = [("Reelwright", app.__version__), ("Python", platform.python_version()), ("Qt", QT_VERSION),
            ("PySide6", ver("PySide6-Essentials")), ("Playwright", ver("playwright")),
            ("Piper TTS", ver("piper-tts")), ("pydantic", ver("pydantic"))]
    table = "".join(f"<tr><td>{k}</td><td>&nbsp;{v}</td></tr>" for k, v in rows)
    return (f"<h3>Reelwright {app.__version__}</h3><p>Narrated product-demo videos from a browser flow and "
            f"its documents.</p><table>{table}</table><p>License: GPL-3.0-or-later</p>")
