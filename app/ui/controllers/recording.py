"""Recording a flow from the app: the Record dialog, the recorder as a cancellable op (the UI stays
live), and what happens when the recorder's window closes — the flow joins the library and the open
project in order, and is imported (drafted, undoable like the Draft button); a session saved on the way
appears among the library's saved sessions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from app.core.errors import Cancelled
from app.workbench import services
from app.workbench.recorder import RecordOutcome, RecordRequest
from app.workbench.sessions import SessionStore
from app.workbench.storage import Store

from ..library_panel import LibraryPanel
from ..ops import Op, ProgressView, error_text
from ..qt import QObject, QWidget, Signal
from ..record_dialog import RecordDialog
from .projects import ProjectController

log = logging.getLogger(__name__)


class RecordController(QObject):
    """``recorded`` carries the :class:`RecordOutcome` once the flow is in the library and the project."""

    recorded = Signal(object)
    message = Signal(str)

    def __init__(self, window: QWidget, view: ProgressView, *, store: Callable[[], Store], library: LibraryPanel,
                 projects: ProjectController) -> None:
        super().__init__(window)
        self.window, self.view = window, view
        self._store = store
        self.library, self.projects = library, projects
        self.dialog: RecordDialog | None = None
        self.op: Op[RecordOutcome] | None = None
        self.draft_op: Op[Any] | None = None
        self._last_url = ""

    def open_dialog(self) -> RecordDialog:
        if self.dialog is not None:
            self.dialog.show()
            self.dialog.raise_()
            return self.dialog
        dlg = RecordDialog(SessionStore(self._store().root).list(), self.window, url=self._last_url)
        dlg.start_requested.connect(self.start)
        dlg.stop_requested.connect(self.stop)
        dlg.finished.connect(self._dialog_closed)
        self.dialog = dlg
        dlg.setModal(False)
        dlg.show()
        return dlg

    def _dialog_closed(self, _result: int) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = None

    def start(self, req: RecordRequest) -> Op[RecordOutcome]:
        self._last_url = req.url
        op: Op[RecordOutcome] = Op(self.window, services.record(self._store(), req), title="Record",
                                   view=self.view)
        self.op = op
        if self.dialog is not None:
            self.dialog.set_recording(True)
        self.message.emit("Recording… close the browser window to finish")
        op.success(lambda outcome: self._landed(outcome, req))
        op.failure(self._failed)
        op.run()
        return op

    def stop(self) -> None:
        if self.op is not None:
            self.op.cancel()

    def _failed(self, exc: BaseException) -> bool:
        self.op = None
        if self.dialog is None:
            return isinstance(exc, Cancelled)  # the op's own dialog says what went wrong
        self.dialog.set_recording(False)
        if isinstance(exc, Cancelled):
            self.dialog.show_error("Recording stopped; nothing was kept.")
        else:
            self.dialog.show_error(error_text(exc))
        return True  # shown in the dialog, no second box

    def _landed(self, outcome: RecordOutcome, req: RecordRequest) -> None:
        self.op = None
        self.library.reload()
        self.projects.add_files([outcome.file])
        self.projects.save_now()
        session = f"sessions/{req.load_session}.json" if req.load_session else None
        self.draft_op = self.projects.draft(session=session)
        text = f"Recorded {outcome.file.name}: added to the library and the project, and imported"
        if outcome.session is not None:
            text += f"; saved the session “{outcome.session.name}”"
        for w in outcome.warnings:
            log.warning("record: %s", w)
        if self.draft_op is not None:  # said after the draft's own "Drafted n card(s)"
            self.draft_op.done.connect(lambda _r: self.message.emit(text + " (Undo brings back the previous script)"))
        else:
            self.message.emit(text)
        if self.dialog is not None:
            self.dialog.set_recording(False)
            self.dialog.accept()
        self.recorded.emit(outcome)
