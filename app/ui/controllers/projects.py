"""Projects: open, create, rename, duplicate, delete; autosave (≤ 1 s of typing can be lost); drafting a
script from the project's files and prompt."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.draft.drafters.base import DraftResult
from app.workbench import services
from app.workbench.storage import AppSettings, Project, ProjectData, Store

from ..card_editor import CardEditor
from ..document import ScriptDocument
from ..library_panel import LibraryPanel
from ..ops import Op, ProgressView, show_error
from ..project_panel import ProjectPanel
from ..qt import QInputDialog, QMessageBox, QObject, QTimer, QUndoCommand, QWidget, Signal
from ..render_panel import RenderPanel

log = logging.getLogger(__name__)

#: autosave delay after the first unsaved edit: well under the promised 1 s of loss
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


class ProjectController(QObject):
    """The open project: what the panels show of it, and when it is saved.

    ``loaded`` carries the project just shown; ``message`` a status-bar sentence."""

    loaded = Signal(object)  # Project
    drafted = Signal()
    message = Signal(str)

    def __init__(self, window: QWidget, view: ProgressView, *, store: Callable[[], Store],
                 settings: Callable[[], AppSettings], library: LibraryPanel, panel: ProjectPanel,
                 doc: ScriptDocument, editor: CardEditor, render_panel: RenderPanel) -> None:
        super().__init__(window)
        self.window, self.view = window, view
        #: the signed-in cloud client, if any (Bedrock drafts then run on the user's own credentials)
        self.cloud_client: Callable[[], Any] = lambda: None
        self._store, self._settings = store, settings
        self.library, self.panel, self.doc, self.editor, self.render_panel = (
            library, panel, doc, editor, render_panel)
        self.project: Project | None = None
        self._loading = False
        self.autosave = QTimer(self)
        self.autosave.setSingleShot(True)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self.save_now)

    @property
    def store(self) -> Store:
        return self._store()

    # ------------------------------------------------------------------ opening

    def start(self) -> list[str]:
        """Reopen the last project (or make a first one); returns the records the store skipped."""
        projects = self.store.list_projects()
        problems = list(dict.fromkeys(self.store.problems))
        if not projects:
            projects = [self.store.create_project("My first video")]
        wanted = self._settings().last_project
        current = next((p for p in projects if p.id == wanted), projects[-1])
        self._refresh_list(current.id)
        self.load(current)
        self.store.problems.clear()
        return problems

    def _refresh_list(self, current: int | None) -> None:
        self.panel.set_projects([(p.id, p.name) for p in self.store.list_projects()], current)
        self.store.problems.clear()

    def load(self, project: Project) -> None:
        self._loading = True
        try:
            self.project = project
            d = project.data
            files = [f for f in self.library.files_by_ids(d.files) if f is not None]
            self.panel.picked.set_files(files)
            self.panel.prompt.setPlainText(d.prompt)
            self.panel.set_drafter(d.drafter)
            self.doc.load(d.script)
            self.render_panel.load_settings(d.render)
            self.render_panel.set_history(d.history)
            last_ok = next((r for r in reversed(d.history) if r.status == "Complete" and r.output), None)
            if last_ok and last_ok.output and Path(last_ok.output).is_file():
                self.render_panel.show_result(Path(last_ok.output), services.record_chapters(last_ok),
                                              last_ok.duration_s or 0.0, load=self.render_panel.isVisible())
            self.editor.select_card(min(d.selected_card, max(0, self.doc.cards.rowCount() - 1)))
            self._settings().last_project = project.id
            self.loaded.emit(project)
        finally:
            self._loading = False

    def open(self, project_id: int) -> None:
        self.save_now()
        for p in self.store.list_projects():
            if p.id == project_id:
                self.load(p)
                return

    def open_example(self) -> None:
        """Open the bundled example project (creating it again if it was deleted)."""
        from ..example import EXAMPLE_NAME, create_example_project

        self.save_now()
        project = next((p for p in self.store.list_projects() if p.name == EXAMPLE_NAME), None)
        if project is None:
            try:
                project = create_example_project(self.store)
            except (OSError, ValueError) as exc:
                show_error(self.window, "Open the example", exc)
                return
            self.library.reload()
        self._refresh_list(project.id)
        self.load(project)

    # ------------------------------------------------------------------ create, rename, copy, delete

    def ask_new(self) -> None:
        name, ok = QInputDialog.getText(self.window, "New project", "Project name:", text="Untitled video")
        if ok and name.strip():
            self.create(name.strip())

    def create(self, name: str, data: ProjectData | None = None) -> Project:
        self.save_now()
        if data is None:  # a new project starts from the app's defaults (Settings)
            s = self._settings()
            # the app's default format goes into the (card-less) script, which the first draft starts from
            settings = services.default_script_settings(s, None).model_dump(mode="json", include={
                "width", "height", "fps"})
            data = ProjectData(drafter=s.drafter, script={"settings": settings, "cards": []})
        p = self.store.create_project(name, data)
        self._refresh_list(p.id)
        self.load(p)
        return p

    def rename(self) -> None:
        if self.project is None:
            return
        name, ok = QInputDialog.getText(self.window, "Rename project", "Project name:", text=self.project.name)
        if ok and name.strip():
            self.project.name = name.strip()
            self.save_now()
            self._refresh_list(self.project.id)
            self.loaded.emit(self.project)

    def duplicate(self) -> None:
        if self.project is None:
            return
        self.save_now()
        copy_ = self.store.duplicate_project(self.project)
        self._refresh_list(copy_.id)
        self.load(copy_)

    def delete(self, confirm: bool = True) -> None:
        if self.project is None:
            return
        if confirm and QMessageBox.question(self.window, "Delete project",
                                            f"Delete the project “{self.project.name}” and its renders? "
                                            "Library files are kept.") != QMessageBox.StandardButton.Yes:
            return
        self.store.delete_project(self.project.id)
        self.project = None
        projects = self.store.list_projects() or [self.store.create_project("My first video")]
        self._refresh_list(projects[-1].id)
        self.load(projects[-1])

    def add_files(self, files: list[Any]) -> None:
        n = self.panel.picked.append_files(files)
        self.message.emit(f"Added {n} file(s) to the project")

    def library_changed(self) -> None:
        # a file deleted from the library leaves the project's selection too
        if self.project is None:
            return
        live = {f.id for f in self.library.model.files()}
        picked = self.panel.picked
        for row in range(picked.rowCount() - 1, -1, -1):
            if picked.ids()[row] not in live:
                picked.removeRows(row, 1)

    # ------------------------------------------------------------------ autosave

    def edited(self) -> None:
        # save AUTOSAVE_MS after the first unsaved edit, not after the last one: restarting the timer
        # on every keystroke would never save while someone keeps typing
        if not self._loading and not self.autosave.isActive():
            self.autosave.start()

    def collect(self) -> None:
        """Copy the widgets' state into the project record."""
        if self.project is None:
            return
        d = self.project.data
        d.files = self.panel.picked.ids()
        d.prompt = self.panel.prompt.toPlainText()
        d.drafter = self.panel.current_drafter()
        d.script = self.doc.to_data() if not self.doc.is_empty() or d.script or self.doc.data.get("settings") \
            else None
        d.render = self.render_panel.current_settings()
        d.selected_card = max(0, self.editor.current_row())

    def save_now(self) -> None:
        self.autosave.stop()
        if self.project is None:
            return
        self.collect()
        self.store.save_project(self.project)

    def save(self, project: Project) -> None:
        """Save ``project`` (a render's record, say), whether or not it is still the open one."""
        if self.project is project:
            self.render_panel.set_history(project.data.history)
            self.save_now()
        else:
            self.store.save_project(project)

    # ------------------------------------------------------------------ drafting

    def draft(self, session: str | None = None) -> Op[DraftResult] | None:
        """Draft the script from the picked files and the prompt; ``session`` (a bundle path such as
        ``sessions/lumen.json``) makes the script start signed in with that saved session."""
        files = self.panel.picked.files()
        prompt = self.panel.prompt.toPlainText()
        if not files and not prompt.strip():
            self.message.emit("Pick some files or write a prompt first")
            return None
        settings = services.default_script_settings(self._settings(), self.doc.to_data().get("settings"))
        if session:
            settings.session = session
        op: Op[DraftResult] = Op(
            self.window, services.draft(self.store, files, prompt, self.panel.current_drafter(), self._settings(),
                                        settings, self.cloud_client()),
            title="Draft", trigger=self.panel.draft_button, view=self.view)
        op.success(self._drafted)
        op.run()
        return op

    def _drafted(self, result: DraftResult) -> None:
        data = result.script.model_dump(mode="json")
        # keep the project's own settings (site, voice) when the drafter did not choose them
        old = self.doc.to_data().get("settings") or {}
        new_settings = data.get("settings", {})
        if old.get("site") and not new_settings.get("site") and not new_settings.get("base_url"):
            data.setdefault("settings", {})["site"] = old["site"]
        self.doc.undo_stack.push(_ReplaceScriptCommand(self.doc, data, "Draft script"))
        self.editor.select_card(0)
        self.drafted.emit()
        n = self.doc.cards.rowCount()
        warnings = list(result.warnings)
        self.message.emit(f"Drafted {n} card(s)" + (f", {len(warnings)} warning(s) — see the log"
                                                   if warnings else ""))
        for w in warnings:
            log.warning("draft: %s", w)
        self.save_now()
