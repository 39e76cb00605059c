"""The cloud sign-in dialog: email and password; the sign-in itself runs as an op in the main window."""

from __future__ import annotations

from .qt import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget


class SignInDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, email: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign in to Reelwright Cloud")
        self.setObjectName("signInDialog")
        self.email = QLineEdit(email)
        self.email.setObjectName("signInEmail")
        self.email.setPlaceholderText("you@example.com")
        self.password = QLineEdit()
        self.password.setObjectName("signInPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("Email", self.email)
        form.addRow("Password", self.password)
        note = QLabel("Renders in the cloud use your account's own storage; nobody else can see them.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Sign in")
        ok.setObjectName("signInOk")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(buttons)
