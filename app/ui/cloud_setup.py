"""The Cloud setup dialog: which Reelwright Cloud the app talks to.

The settings come from a deployed stack's outputs — pasted (``aws cloudformation describe-stacks``
output, its ``Outputs`` list, a ``{key: value}`` object or a saved configuration), picked from a file,
or read from the stack by name — and are shown field by field before they are saved.  "Test connection"
signs in and lists the jobs.  Parsing is :func:`app.cloud.config.config_from_text`, the same as
``reelwright cloud configure --from-file``; reading a stack and testing are ops the cloud session
controller runs, with progress and cancel in this dialog.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import ReelwrightError

from .qt import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import OpBar

if TYPE_CHECKING:
    from app.cloud.config import CloudConfig

PASTE_EXAMPLE = ('[{"OutputKey": "Region", "OutputValue": "eu-west-1"}, {"OutputKey": "UserPoolId", …}]\n'
                 "or the whole `aws cloudformation describe-stacks --stack-name NAME` output, "
                 "or a saved configuration file")

#: CloudConfig field -> (label, object name, tooltip)
FIELDS: dict[str, tuple[str, str, str]] = {
    "region": ("Region", "setupRegion", "The AWS region the stack runs in (output Region), e.g. eu-west-1"),
    "user_pool_id": ("User pool", "setupUserPool", "The Cognito user pool id (output UserPoolId)"),
    "client_id": ("App client", "setupClientId", "The user pool's app client id (output UserPoolClientId)"),
    "identity_pool_id": ("Identity pool", "setupIdentityPool", "The Cognito identity pool id (output IdentityPoolId)"),
    "bucket": ("Bucket", "setupBucket", "The S3 bucket jobs and videos go to (output BucketName)"),
    "session_key_id": ("Session key", "setupSessionKey",
                       "The KMS key browser sessions are uploaded with (output SessionKeyArn; optional)"),
    "stack": ("Stack", "setupStackName", "The CloudFormation stack these came from (informational)"),
    "endpoint_url": ("Endpoint URL", "setupEndpoint",
                     "Only for the local emulator (reelwright cloud emulate): its server's address. "
                     "Leave empty for AWS"),
}


def _button(text: str, name: str, tip: str) -> QPushButton:
    b = QPushButton(text)
    b.setObjectName(name)
    b.setAccessibleName(text.rstrip("…"))
    b.setToolTip(tip)
    b.setAutoDefault(False)
    return b


def _line(name: str, accessible: str, tip: str) -> QLineEdit:
    e = QLineEdit()
    e.setObjectName(name)
    e.setAccessibleName(accessible)
    e.setToolTip(tip)
    return e


class CloudSetupDialog(QDialog):
    read_stack_requested = Signal(str, str, str)  # stack name, region, endpoint url
    test_requested = Signal(object, str, str)  # CloudConfig, email, password
    save_requested = Signal(object)  # CloudConfig

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Cloud setup")
        self.setObjectName("cloudSetupDialog")
        self.setModal(False)
        self.setMinimumWidth(640)

        # 1. where the settings come from
        source = QGroupBox("1. Paste the stack's outputs, pick a file, or read a deployed stack")
        self.paste = QPlainTextEdit()
        self.paste.setObjectName("setupPaste")
        self.paste.setAccessibleName("Stack outputs")
        self.paste.setToolTip("Paste the stack's outputs as JSON, then Read pasted text")
        self.paste.setPlaceholderText(PASTE_EXAMPLE)
        self.paste.setFixedHeight(90)
        self.parse_button = _button("Read pasted text", "setupParse", "Fill the settings below from the pasted JSON")
        self.file_button = _button("Choose file…", "setupFile",
                                   "Read the settings from a JSON file (stack outputs or a saved configuration)")
        self.stack = _line("setupStack", "Stack name", "The name of the deployed CloudFormation stack")
        self.stack.setPlaceholderText("stack name, e.g. reelwright")
        self.stack_region = _line("setupStackRegion", "Stack region", "The region the stack is deployed in")
        self.stack_region.setPlaceholderText("region, e.g. eu-west-1")
        self.read_stack_button = _button("Read stack", "setupReadStack",
                                         "Read the outputs of the deployed stack (uses your AWS credentials, "
                                         "as `reelwright cloud configure --stack` does)")
        row = QHBoxLayout()
        row.addWidget(self.parse_button)
        row.addWidget(self.file_button)
        row.addStretch(1)
        stack_row = QHBoxLayout()
        stack_row.addWidget(QLabel("Or a deployed stack:"))
        stack_row.addWidget(self.stack, 2)
        stack_row.addWidget(self.stack_region, 1)
        stack_row.addWidget(self.read_stack_button)
        sl = QVBoxLayout(source)
        sl.addWidget(self.paste)
        sl.addLayout(row)
        sl.addLayout(stack_row)

        # 2. the settings themselves
        settings = QGroupBox("2. Settings")
        form = QFormLayout(settings)
        self.fields: dict[str, QLineEdit] = {}
        for key, (label, name, tip) in FIELDS.items():
            edit = _line(name, label, tip)
            self.fields[key] = edit
            form.addRow(label, edit)
        self.emulator = QCheckBox("Local emulator (reelwright cloud emulate)")
        self.emulator.setObjectName("setupEmulator")
        self.emulator.setAccessibleName("Local emulator")
        self.emulator.setToolTip("These settings are the local emulator's, not a deployed stack's")
        form.addRow("", self.emulator)

        # 3. test
        test = QGroupBox("3. Test connection")
        self.test_email = _line("setupEmail", "Test e-mail", "Your account's e-mail (to sign in for the test)")
        self.test_email.setPlaceholderText("you@example.com")
        self.test_password = _line("setupPassword", "Test password",
                                   "Needed only when this computer has no session for this cloud yet")
        self.test_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.test_password.setPlaceholderText("not needed when already signed in")
        self.test_button = _button("Test connection", "setupTest", "Sign in and list your jobs with these settings")
        self.result_label = QLabel()
        self.result_label.setObjectName("setupResult")
        self.result_label.setAccessibleName("Test result")
        self.result_label.setWordWrap(True)
        tl = QFormLayout(test)
        tl.addRow("E-mail", self.test_email)
        tl.addRow("Password", self.test_password)
        trow = QHBoxLayout()
        trow.addWidget(self.test_button)
        trow.addWidget(self.result_label, 1)
        tl.addRow(trow)

        self.error = QLabel()
        self.error.setObjectName("setupError")
        self.error.setAccessibleName("Setup error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.setVisible(False)
        self.progress = OpBar()
        self.progress.setObjectName("setupProgress")
        self.progress.cancel_button.setToolTip("Stop waiting for the cloud")
        self.progress.cancel_button.setAccessibleName("Cancel")
        self.save_button = _button("Save", "setupSave", "Check the settings and save them as the app's cloud (Ctrl+S)")
        self.save_button.setShortcut("Ctrl+S")
        self.close_button = _button("Close", "setupClose", "Close this window (Esc)")
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress)
        bottom.addStretch(1)  # the buttons keep their size whether progress shows or not
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)

        lay = QVBoxLayout(self)
        lay.addWidget(source)
        lay.addWidget(settings)
        lay.addWidget(test)
        lay.addWidget(self.error)
        lay.addLayout(bottom)

        self.parse_button.clicked.connect(self.parse_pasted)
        self.file_button.clicked.connect(self.choose_file)
        self.read_stack_button.clicked.connect(self._read_stack)
        self.test_button.clicked.connect(self._test)
        self.save_button.clicked.connect(self._save)
        self.close_button.clicked.connect(self.reject)

    # ------------------------------------------------------------------ filling the form

    def show_config(self, cfg: CloudConfig) -> None:
        data = cfg.to_json()
        for key, edit in self.fields.items():
            value = data.get(key)
            edit.setText(str(value) if value else "")
        # stack outputs never say "emulator": a ticked box stays ticked while there is an endpoint
        self.emulator.setChecked(bool(cfg.emulator or (self.emulator.isChecked() and cfg.endpoint_url)))

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def show_result(self, text: str) -> None:
        self.result_label.setText(text)

    def parse_pasted(self) -> bool:
        return self.parse_text(self.paste.toPlainText(), "the pasted text")

    def parse_text(self, text: str, source: str) -> bool:
        from app.cloud.config import config_from_text

        if not text.strip():
            self.show_error("Paste the stack's outputs first (or choose a file, or read a stack by name).")
            return False
        try:
            cfg = config_from_text(text, source=source, endpoint_url=self.fields["endpoint_url"].text().strip() or None)
        except ReelwrightError as exc:
            self.show_error(exc.message[:1].upper() + exc.message[1:])
            return False
        self.show_config(cfg)
        self.show_error("")
        self.show_result(f"Read from {source}: check the settings, then Test connection and Save.")
        return True

    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Stack outputs or cloud configuration", "",
                                              "JSON (*.json);;All (*)")
        if name:
            self.load_file(Path(name))

    def load_file(self, path: Path) -> bool:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.show_error(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}")
            return False
        return self.parse_text(text, str(path))

    # ------------------------------------------------------------------ requests

    def config(self) -> CloudConfig | None:
        """The form's settings, validated (the error is shown and None returned when they are not)."""
        from app.cloud.config import CloudConfig

        data: dict[str, object] = {k: (e.text().strip() or None) for k, e in self.fields.items()}
        data["emulator"] = self.emulator.isChecked()
        try:
            cfg = CloudConfig.from_json(data, source="Cloud setup")
        except ReelwrightError as exc:
            missing = exc.message.split("missing ", 1)[-1] if "missing " in exc.message else exc.message
            labels = [FIELDS[k][0] for k in FIELDS if k in missing.split(", ")]
            self.show_error(f"Fill in: {', '.join(labels)}" if labels else exc.message)
            return None
        endpoint = cfg.endpoint_url
        if endpoint and not endpoint.startswith(("http://", "https://")):
            self.show_error("The endpoint URL must start with http:// or https:// (or be empty for AWS).")
            return None
        self.show_error("")
        return cfg

    def _read_stack(self) -> None:
        stack = self.stack.text().strip()
        if not stack:
            self.show_error("Enter the name of the deployed stack.")
            self.stack.setFocus()
            return
        self.show_error("")
        self.read_stack_requested.emit(stack, self.stack_region.text().strip(),
                                       self.fields["endpoint_url"].text().strip())

    def _test(self) -> None:
        cfg = self.config()
        if cfg is not None and self.test_password.text() and "@" not in self.test_email.text():
            self.show_error("Enter the e-mail of the account to sign in with for the test.")
            self.test_email.setFocus()
        elif cfg is not None:
            self.show_result("")
            self.test_requested.emit(cfg, self.test_email.text().strip(), self.test_password.text())

    def _save(self) -> None:
        cfg = self.config()
        if cfg is not None:
            self.save_requested.emit(cfg)
