"""The main window: library | project (ordered files, prompt, draft) | script cards / render.

It builds the panels and menus and connects them to the controllers (``app/ui/controllers``) that own
each concern: projects and autosave, renders and card previews, the cloud session, backups.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from app.workbench import services
from app.workbench.storage import AppSettings, Project, Store, load_settings, save_settings

from . import qt, update_notice
from .card_editor import CardEditor
from .controllers.backup import BackupController
from .controllers.cloud_jobs import CloudJobsController
from .controllers.cloud_session import CloudSession
from .controllers.projects import ProjectController
from .controllers.recording import RecordController
from .controllers.renders import RenderController
from .document import ScriptDocument
from .jobs_panel import JobsPanel
from .library_panel import LibraryPanel
from .ops import Op
from .project_panel import ProjectPanel
from .qt import (
    QAction,
    QByteArray,
    QCloseEvent,
    QDockWidget,
    QKeySequence,
    QMainWindow,
    QMessageBox,
    QSplitter,
    Qt,
    QTabWidget,
    QTimer,
)
from .render_panel import RenderPanel
from .widgets import LogPanel, OpBar

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, store: Store, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.store = store
        self.settings = settings or load_settings(store.root)
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
        self.render_panel = RenderPanel(self.doc)
        self.render_panel.setObjectName("renderPanel")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.addTab(self.editor, "Script")
        self.tabs.addTab(self.render_panel, "Render")
        self.jobs_panel = JobsPanel()
        self.tabs.addTab(self.jobs_panel, "Cloud jobs")
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

        self.projects = ProjectController(
            self, self.op_bar, store=lambda: self.store, settings=lambda: self.settings, library=self.library,
            panel=self.project_panel, doc=self.doc, editor=self.editor, render_panel=self.render_panel)
        self.cloud = CloudSession(self, self.op_bar)
        self.projects.cloud_client = lambda: self.cloud.client if self.cloud.signed_in else None
        self.renders = RenderController(
            self, self.op_bar, projects=self.projects, cloud=self.cloud, settings=lambda: self.settings,
            doc=self.doc, editor=self.editor, render_panel=self.render_panel)
        self.backups = BackupController(self, self.op_bar, store=lambda: self.store,
                                        save_now=self.projects.save_now)
        self.cloud_jobs = CloudJobsController(self, self.op_bar, panel=self.jobs_panel, cloud=self.cloud,
                                              renders=self.renders, projects=self.projects)
        self.recorder = RecordController(self, self.op_bar, store=lambda: self.store, library=self.library,
                                         projects=self.projects)

        self._build_menus()
        self._wire()
        self._restore_layout()

    @property
    def project(self) -> Project | None:
        return self.projects.project

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
        self._action(f, "New project…", self.projects.ask_new, QKeySequence.StandardKey.New)
        self._action(f, "Import files…", self.library.choose_files, QKeySequence.StandardKey.Open)
        self._action(f, "Import folder…", self.library.choose_folder, "Ctrl+Shift+O")
        self._action(f, "Record a flow…", self.recorder.open_dialog, "Ctrl+Shift+R", name="recordFlow")
        f.addSeparator()
        self._action(f, "Export backup…", self.backups.choose_export, name="exportBackup")
        self._action(f, "Restore backup…", self.backups.choose_restore, name="restoreBackup")
        f.addSeparator()
        f.setToolTipsVisible(True)
        self._action(f, "Settings…", self.open_settings, "Ctrl+,", name="settings")
        f.addSeparator()
        self._action(f, "Quit", self.close, "Ctrl+Q")  # StandardKey.Quit is empty on some Linux desktops

        e = mb.addMenu("&Edit")
        undo = self.doc.undo_stack.createUndoAction(self, "Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.doc.undo_stack.createRedoAction(self, "Redo")
        redo_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        if QKeySequence("Ctrl+Y") not in redo_keys:  # some platforms already list it
            redo_keys.append(QKeySequence("Ctrl+Y"))
        redo.setShortcuts(redo_keys)
        e.addAction(undo)
        e.addAction(redo)
        self.undo_action, self.redo_action = undo, redo
        e.addSeparator()
        # not Ctrl+Shift+Z: that is Redo on Linux and macOS (an ambiguous shortcut fires neither)
        self._action(e, "Undo library delete", self.library.undo_delete, "Ctrl+Alt+Z")
        self._action(e, "Find in library", lambda: self.library.search.setFocus(), QKeySequence.StandardKey.Find)

        s = mb.addMenu("&Script")
        self._action(s, "Draft script", self.projects.draft, "Ctrl+D")
        self._action(s, "Add card", self.editor.add_card, "Ctrl+Shift+N")
        self._action(s, "Play card voice", lambda: self.renders.play_voice(self.editor.current_row()), "Ctrl+P")
        self._action(s, "Check card in browser", lambda: self.renders.check_card(self.editor.current_row()),
                     "Ctrl+K")
        self._action(s, "Preview card", lambda: self.renders.preview_card(self.editor.current_row()),
                     "Ctrl+Shift+P", name="previewCardAction")
        self._action(s, "Video settings…", self.open_video_settings, "Ctrl+Shift+V", name="videoSettings")
        self._action(s, "Languages…", self.open_languages, "Ctrl+Shift+L", name="languages")
        s.addSeparator()
        self._action(s, "Render video", self.renders.start_render, "Ctrl+R")
        self._action(s, "Export script JSON…", self.export_script)

        v = mb.addMenu("&View")
        self._action(v, "Script", lambda: self.tabs.setCurrentIndex(0), "Ctrl+1")
        self._action(v, "Render", lambda: self.tabs.setCurrentIndex(1), "Ctrl+2")
        self._action(v, "Cloud jobs", lambda: self.tabs.setCurrentWidget(self.jobs_panel), "Ctrl+3",
                     name="viewCloudJobs")
        log_act = self.log_dock.toggleViewAction()
        log_act.setText("Show log")
        log_act.setShortcut(QKeySequence("Ctrl+L"))
        v.addAction(log_act)

        self._build_cloud_menu(mb)

        h = mb.addMenu("&Help")
        self._action(h, "Keyboard shortcuts", self.show_shortcuts, QKeySequence.StandardKey.HelpContents,
                     name="keyboardShortcuts")
        self._action(h, "Open the example project", self.projects.open_example, name="openExample")
        self._action(h, "Check for updates", lambda: update_notice.check_now(self), name="checkUpdates")
        self._action(h, "About Reelwright", self.about, name="about")

    def _build_cloud_menu(self, mb: Any) -> None:
        """Cloud: sign in/out, the Account dialog (create, confirm, reset) and Cloud setup."""
        c = mb.addMenu("&Cloud")
        c.setObjectName("cloudMenu")
        c.setToolTipsVisible(True)
        self.sign_in_action: QAction = self._action(c, "Sign in…", self._sign_in_or_out, "Ctrl+Shift+I",
                                                    name="signIn")
        self.sign_in_action.setToolTip("Sign in to Reelwright Cloud (signed in: sign out)")
        self.account_action = self._action(c, "Account…", lambda: self.cloud.open_account(), name="account")
        self.account_action.setToolTip("Sign in, create an account, confirm it, reset the password")
        self.sign_out_action = self._action(c, "Sign out", self.cloud.sign_out, name="signOut")
        self.sign_out_action.setToolTip("Forget the cloud session on this computer")
        self.sign_out_action.setEnabled(False)
        c.addSeparator()
        self.cloud_setup_action = self._action(c, "Cloud setup…", self.cloud.open_setup, name="cloudSetup")
        self.cloud_setup_action.setToolTip("Which cloud to use: paste or read your stack's outputs, test it")
        if not services.cloud_available():
            for act in (self.sign_in_action, self.account_action, self.cloud_setup_action):
                act.setEnabled(False)
                act.setToolTip("Cloud rendering is not available in this build yet")
                act.setStatusTip("Cloud rendering is not available in this build yet")

    def _wire(self) -> None:
        status = self.statusBar()
        for source in (self.library, self.projects, self.renders, self.cloud, self.backups, self.recorder,
                       self.cloud_jobs):
            source.message.connect(lambda m: status.showMessage(m, 8000))
        self.library.add_to_project.connect(self.projects.add_files)
        self.project_panel.picked.paths_dropped.connect(self.import_into_project)
        self.library.record_requested.connect(self.recorder.open_dialog)
        self.library.files_changed.connect(self.projects.library_changed)
        p = self.project_panel
        p.project_chosen.connect(self.projects.open)
        p.new_project.connect(self.projects.ask_new)
        p.rename_project.connect(self.projects.rename)
        p.duplicate_project.connect(self.projects.duplicate)
        p.delete_project.connect(self.projects.delete)
        p.draft_requested.connect(self.projects.draft)
        p.edited.connect(self.projects.edited)
        self.doc.changed.connect(self.projects.edited)
        self.projects.loaded.connect(lambda project: self.setWindowTitle(f"{project.name} — Reelwright"))
        self.projects.drafted.connect(lambda: self.tabs.setCurrentWidget(self.editor))
        self.editor.play_voice.connect(self.renders.play_voice)
        self.editor.check_card.connect(self.renders.check_card)
        self.editor.preview_card.connect(self.renders.preview_card)
        self.renders.show_render.connect(lambda: self.tabs.setCurrentWidget(self.render_panel))
        self.render_panel.render_requested.connect(self.renders.start_render)
        self.render_panel.render_as_requested.connect(self.renders.render_as)
        self.render_panel.settings_changed.connect(self.projects.edited)
        self.render_panel.video_settings_requested.connect(self.open_video_settings)
        self.cloud.changed.connect(self._signed_in)
        self.backups.restored.connect(self._restored)
        self.cloud_jobs.show_jobs.connect(lambda: self.tabs.setCurrentWidget(self.jobs_panel))

    def import_into_project(self, paths: list[Path], row: int) -> Any:
        """Files dropped from the file manager onto the project's list: into the library, then into the
        project where they were dropped (files already in the library are reused, not copied twice)."""
        op = self.library.import_paths(paths)

        def imported(report: Any) -> None:
            if self.project is None:
                return
            n = self.project_panel.picked.insert_files(row, [*report.imported, *report.already])
            if n:
                self.projects.edited()
                self.statusBar().showMessage(f"Added {n} file(s) to the project", 8000)

        op.done.connect(imported)
        return op

    # ------------------------------------------------------------------ startup

    def start(self) -> None:
        """Load the library and reopen the last project (problems are reported, never fatal)."""
        self.library.reload()
        problems = self.projects.start()
        if problems:
            msg = "\n".join(problems)
            log.warning("startup problems:\n%s", msg)
            box = QMessageBox(QMessageBox.Icon.Warning, "Some records were skipped",
                              "Reelwright skipped records it could not read:\n\n" + msg,
                              QMessageBox.StandardButton.Ok, self)
            box.setObjectName("startupProblems")
            box.setModal(False)
            QTimer.singleShot(0, box.show)

    def _sign_in_or_out(self) -> None:
        self.cloud.sign_in_or_out(trigger=self.sign_in_action)

    def _signed_in(self, email: str | None) -> None:
        signed = email is not None
        self.render_panel.set_cloud_enabled(signed)
        self.sign_in_action.setText(f"Sign out ({email})" if signed else "Sign in…")
        self.sign_out_action.setEnabled(signed)
        if signed:
            self.statusBar().showMessage(f"Signed in as {email}; cloud rendering is available", 8000)

    def _restored(self, store: Store, kept: Path | None) -> None:
        """After a backup restore (or a failed one): reopen everything from the data folder."""
        self.store = store
        self.library.store = store
        self.projects.project = None
        if kept is None:
            return
        self.settings = load_settings(store.root)
        self.start()
        self.statusBar().showMessage(f"Backup restored; the previous data is in {kept}", 10000)

    # ------------------------------------------------------------------ dialogs

    def export_script(self) -> None:
        from app.core.infra.fs import atomic_write

        from .qt import QFileDialog

        name, _ = QFileDialog.getSaveFileName(self, "Export script", "script.json", "Script (*.json)")
        if name:
            atomic_write(Path(name), self.doc.to_json())

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

    shortcuts_dialog: Any = None

    def show_shortcuts(self) -> Any:
        """Help › Keyboard shortcuts: a non-modal table read from the menus."""
        from .shortcuts import ShortcutsDialog

        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self)
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()
        return self.shortcuts_dialog

    languages_dialog: Any = None

    def open_languages(self) -> Any:
        """The Languages view (non-modal): languages, side-by-side translations, voices, renders."""
        from .languages import LanguagesDialog

        if self.languages_dialog is None:
            def drafter() -> str:
                chosen = self.project_panel.current_drafter()
                return chosen if chosen != "offline" else self.settings.drafter

            self.languages_dialog = LanguagesDialog(
                self.doc, self.renders, drafter, lambda: self.settings,
                lambda: self.cloud.client if self.cloud.signed_in else None, self)
        self.languages_dialog.show()
        self.languages_dialog.raise_()
        self.languages_dialog.activateWindow()
        return self.languages_dialog

    def about(self) -> None:
        QMessageBox.about(self, "About Reelwright", about_text())

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
        self.renders.detach_cloud()  # a cloud job renders on; the Cloud jobs view finds it next time
        self.renders.stop_warm()  # the preview's kept browser (the app's main coroutine awaits its close)
        self.cloud_jobs.shutdown()
        for op in list(Op.running):
            op.cancel()
        self.release_media()
        self.projects.save_now()
        self.save_layout()
        self.log_panel.detach()
        event.accept()

    def release_media(self) -> None:
        """Stop every media player and drop its file: Qt Multimedia decodes on its own threads, and a
        window that goes away with a video still loaded must not leave them posting frames to it."""
        self.renders.release_media()
        for player in (self.render_panel.player, self.library.player):
            if player is not None:
                qt.release_player(player)


def about_text() -> str:
    """The About box: what this is, and the versions of every part a render uses (Qt, Chromium, ffmpeg,
    the voice) — what a bug report needs first."""
    from html import escape

    import app
    from app.workbench.about import component_versions

    from .qt import QT_VERSION

    table = "".join(f"<tr><td>{k}</td><td>&nbsp;{escape(v)}</td></tr>" for k, v in component_versions(QT_VERSION))
    return (f"<h3>Reelwright {app.__version__}</h3><p>Narrated product-demo videos from a browser flow and "
            f"its documents.</p><table>{table}</table><p>License: GPL-3.0-or-later</p>")
