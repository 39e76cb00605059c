"""The Record dialog: the address to start at, a saved session to start signed in with, and "save the
session when I close" with a name.  While the recorder runs the dialog says so and offers Stop; the
recording itself is the controller's (:mod:`app.ui.controllers.recording`)."""

from __future__ import annotations

from app.workbench.recorder import DEFAULT_TARGET, TARGETS, RecorderError, RecordRequest
from app.workbench.sessions import SessionAsset

from .qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)

#: how each codegen target reads in the dialog
TARGET_LABELS = {"python": "Python", "python-async": "Python (async)", "python-pytest": "Python (pytest)",
                 "javascript": "JavaScript", "playwright-test": "TypeScript (Playwright Test)"}


class RecordDialog(QDialog):
    """``start_requested`` carries the :class:`RecordRequest`; ``stop_requested`` asks to end a recording."""

    start_requested = Signal(object)
    stop_requested = Signal()

    def __init__(self, sessions: list[SessionAsset], parent: QWidget | None = None, url: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Record a flow")
        self.setObjectName("recordDialog")
        self.setMinimumWidth(480)

        intro = QLabel("Reelwright opens Playwright's recorder in a browser window. Click through your demo "
                       "there, then close the browser window: the flow is added to the library and the "
                       "project, and imported.")
        intro.setWordWrap(True)
        self.url = QLineEdit(url)
        self.url.setObjectName("recordUrl")
        self.url.setPlaceholderText("https://app.example.com or localhost:3000")
        self.session = QComboBox()
        self.session.setObjectName("recordLoadSession")
        self.session.addItem("— not signed in —", None)
        for s in sessions:  # names only: a session's content is never shown
            self.session.addItem(f"🔒 {s.name}", s.name)
        self.save = QCheckBox("Save the session when I close the browser")
        self.save.setObjectName("recordSaveSession")
        self.save.setToolTip("Keeps the sign-in (cookies and local storage) as a session in the library, so "
                             "later recordings and renders can start signed in. It is stored privately and "
                             "left out of backups unless you include it.")
        self.save_name = QLineEdit()
        self.save_name.setObjectName("recordSessionName")
        self.save_name.setPlaceholderText("a name, e.g. lumen-admin")
        self.save_name.setEnabled(False)
        self.target = QComboBox()
        self.target.setObjectName("recordTarget")
        for t in TARGETS:
            self.target.addItem(TARGET_LABELS.get(t, t), t)
        self.target.setCurrentIndex(self.target.findData(DEFAULT_TARGET))

        form = QFormLayout()
        form.addRow("Start at", self.url)
        form.addRow("Start signed in with", self.session)
        form.addRow("", self.save)
        form.addRow("Session name", self.save_name)
        form.addRow("Record as", self.target)

        self.error = QLabel()
        self.error.setObjectName("recordError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b91c1c")
        self.error.hide()
        self.status = QLabel()
        self.status.setObjectName("recordStatus")
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status.hide()

        self.buttons = QDialogButtonBox()
        self.record_button = QPushButton("● Record")
        self.record_button.setObjectName("recordStart")
        self.record_button.setDefault(True)
        self.stop_button = QPushButton("Stop recording")
        self.stop_button.setObjectName("recordStop")
        self.stop_button.hide()
        self.close_button = QPushButton("Cancel")
        self.buttons.addButton(self.record_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.stop_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)

        self.save.toggled.connect(self._save_toggled)
        self.record_button.clicked.connect(self.submit)
        self.stop_button.clicked.connect(self.stop_requested.emit)
        self.close_button.clicked.connect(self.reject)
        self._recording = False
        self.set_recording(False)  # after addButton, which shows every button it is given

    def _save_toggled(self, on: bool) -> None:
        self.save_name.setEnabled(on)
        if on and not self.save_name.text().strip():
            loaded = self.session.currentData()
            self.save_name.setText(loaded or "")
            self.save_name.setFocus()

    def request(self) -> RecordRequest:
        """The request the form describes; RecorderError (a sentence) when something is missing or wrong."""
        save: str | None = None
        if self.save.isChecked():
            save = self.save_name.text().strip()
            if not save:
                raise RecorderError("give the session a name, or untick “Save the session”")
        return RecordRequest(self.url.text(), load_session=self.session.currentData(), save_session=save,
                             target=str(self.target.currentData()))

    def submit(self) -> None:
        try:
            req = self.request()
        except RecorderError as exc:
            self.show_error(str(exc))
            return
        self.error.hide()
        self.start_requested.emit(req)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def set_recording(self, on: bool) -> None:
        """Recording: the form is locked, the status says how to finish, Stop replaces Record."""
        self._recording = on
        for w in (self.url, self.session, self.save, self.save_name, self.target):
            w.setEnabled(not on and (w is not self.save_name or self.save.isChecked()))
        self.record_button.setVisible(not on)
        self.close_button.setVisible(not on)
        self.stop_button.setVisible(on)
        self.status.setVisible(on)
        if on:
            self.error.hide()
            self.status.setText("<b>Recording…</b> close the browser window to finish.")

    @property
    def recording(self) -> bool:
        return self._recording

    def reject(self) -> None:
        if self._recording:  # Esc or the window's close button while recording: stop, as the button does
            self.stop_requested.emit()
            return
        super().reject()
