"""The Account dialog: sign in, create an account, confirm it with the mailed code, reset a forgotten
password, sign out.  It only collects and shows: every Cognito call is an op the cloud session
controller (``controllers/cloud_session.py``) runs, with its progress and cancel inside this dialog and
its error written under the form in plain words.  Non-modal: the project stays editable behind it."""

from __future__ import annotations

from .qt import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import OpBar

EXPIRED = "Your session expired — sign in again. Your project and script are as you left them."
PASSWORD_POLICY = "At least 12 characters, with upper- and lower-case letters and a digit."

PAGES = ("sign_in", "sign_up", "confirm", "reset", "new_password")


def _line(name: str, accessible: str, tip: str, *, secret: bool = False, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setAccessibleName(accessible)
    edit.setToolTip(tip)
    if placeholder:
        edit.setPlaceholderText(placeholder)
    if secret:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def _button(text: str, name: str, tip: str, *, link: bool = False) -> QPushButton:
    b = QPushButton(text)
    b.setObjectName(name)
    b.setAccessibleName(text.rstrip("…?"))
    b.setToolTip(tip)
    b.setAutoDefault(False)  # Enter in a field is wired to its page's action, not to whichever button
    if link:
        b.setFlat(True)
        b.setStyleSheet("QPushButton { color: palette(link); text-decoration: underline; border: none; }")
    return b


class AccountDialog(QDialog):
    """Emits what the user asked for; the controller answers with :meth:`show_error`, :meth:`show_info`,
    :meth:`show_page` and :meth:`set_signed_in`."""

    sign_in_requested = Signal(str, str)  # email, password
    sign_up_requested = Signal(str, str)  # email, password
    confirm_requested = Signal(str, str)  # email, code
    forgot_requested = Signal(str)  # email
    reset_requested = Signal(str, str, str)  # email, code, new password
    first_sign_in_requested = Signal(str, str, str)  # email, temporary password, the user's own password
    sign_out_requested = Signal()
    setup_requested = Signal()

    def __init__(self, parent: QWidget | None = None, email: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Reelwright Cloud account")
        self.setObjectName("signInDialog")
        self.setModal(False)
        self.setMinimumWidth(460)

        # who is signed in, and Sign out
        self.who = QLabel("Not signed in")
        self.who.setObjectName("accountStatus")
        self.who.setAccessibleName("Account status")
        self.sign_out_button = _button("Sign out", "accountSignOut",
                                       "Forget the session on this computer and revoke its tokens")
        top = QHBoxLayout()
        top.addWidget(self.who, 1)
        top.addWidget(self.sign_out_button)

        self.banner = QLabel()
        self.banner.setObjectName("accountBanner")
        self.banner.setAccessibleName("Account message")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)

        self.email = _line("signInEmail", "E-mail", "The e-mail address of your Reelwright Cloud account",
                           placeholder="you@example.com")
        self.email.setText(email)
        email_row = QFormLayout()
        email_row.addRow("E-mail", self.email)

        self.pages = QTabWidget()
        self.pages.setObjectName("accountPages")
        self.pages.setAccessibleName("Account pages")

        # sign in
        self.password = _line("signInPassword", "Password", "Your account's password", secret=True)
        self.sign_in_button = _button("Sign in", "signInOk", "Sign in to Reelwright Cloud (Enter)")
        self.forgot_link = _button("Forgot your password?", "accountForgot", "Reset the password with a mailed code",
                                   link=True)
        self.create_link = _button("No account yet? Create one", "accountCreate", "Create a Reelwright Cloud account",
                                   link=True)
        page = QWidget()
        form = QFormLayout(page)
        form.addRow("Password", self.password)
        links = QHBoxLayout()
        links.addWidget(self.forgot_link)
        links.addWidget(self.create_link)
        links.addStretch(1)
        form.addRow(links)
        form.addRow(self._right(self.sign_in_button))
        self.pages.addTab(page, "Sign in")

        # create an account
        self.new_password = _line("signUpPassword", "New password", PASSWORD_POLICY, secret=True)
        self.new_password2 = _line("signUpRepeat", "Repeat the password", "The same password again", secret=True)
        self.sign_up_button = _button("Create account", "signUpOk",
                                      "Create the account; a code is mailed to confirm it")
        page = QWidget()
        form = QFormLayout(page)
        form.addRow("Password", self.new_password)
        form.addRow("Repeat", self.new_password2)
        policy = QLabel(PASSWORD_POLICY)
        policy.setObjectName("signUpPolicy")
        policy.setWordWrap(True)
        form.addRow(policy)
        form.addRow(self._right(self.sign_up_button))
        self.pages.addTab(page, "Create account")

        # confirm the account
        self.code = _line("confirmCode", "Confirmation code", "The code from the e-mail sent when the account was made",
                          placeholder="123456")
        self.confirm_button = _button("Confirm", "confirmOk", "Confirm the account with the mailed code")
        page = QWidget()
        form = QFormLayout(page)
        hint = QLabel("Enter the code we e-mailed when the account was created.")
        hint.setWordWrap(True)
        form.addRow(hint)
        form.addRow("Code", self.code)
        form.addRow(self._right(self.confirm_button))
        self.pages.addTab(page, "Confirm")

        # reset a forgotten password
        self.send_code_button = _button("Send reset code", "resetSendCode", "E-mail a code to reset the password")
        self.reset_code = _line("resetCode", "Reset code", "The code from the password-reset e-mail",
                                placeholder="123456")
        self.reset_password = _line("resetPassword", "New password", PASSWORD_POLICY, secret=True)
        self.reset_button = _button("Set new password", "resetOk", "Set the new password with the mailed code")
        page = QWidget()
        form = QFormLayout(page)
        step = QLabel("1. Send a code to your e-mail.  2. Enter it with a new password.")
        step.setWordWrap(True)
        form.addRow(step)
        form.addRow(self._right(self.send_code_button))
        form.addRow("Code", self.reset_code)
        form.addRow("New password", self.reset_password)
        form.addRow(self._right(self.reset_button))
        self.pages.addTab(page, "Reset password")

        # an invited account's first sign-in: the temporary password from the invitation, then its own
        self.first_password = _line("firstPassword", "Your new password", PASSWORD_POLICY, secret=True)
        self.first_password2 = _line("firstRepeat", "Repeat the new password", "The same password again",
                                     secret=True)
        self.first_sign_in_button = _button("Set password and sign in", "firstSignInOk",
                                            "Replace the invitation's temporary password and sign in")
        page = QWidget()
        form = QFormLayout(page)
        hint = QLabel("This account was created by invitation. Choose your own password to finish signing in "
                      "(the temporary password from the invitation e-mail stays on the Sign in page).")
        hint.setWordWrap(True)
        form.addRow(hint)
        form.addRow("New password", self.first_password)
        form.addRow("Repeat", self.first_password2)
        form.addRow(self._right(self.first_sign_in_button))
        self.pages.addTab(page, "First sign-in")

        self.error = QLabel()
        self.error.setObjectName("accountError")
        self.error.setAccessibleName("Account error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.setVisible(False)
        self.setup_button = _button("Cloud setup…", "accountSetup", "Configure which cloud to use (stack outputs)")
        self.setup_button.setVisible(False)
        self.progress = OpBar()
        self.progress.setObjectName("accountProgress")
        self.progress.cancel_button.setToolTip("Stop waiting for the cloud")
        self.progress.cancel_button.setAccessibleName("Cancel")
        self.close_button = _button("Close", "accountClose", "Close this window (Esc)")

        bottom = QHBoxLayout()
        bottom.addWidget(self.progress)
        bottom.addStretch(1)  # the buttons keep their size whether progress shows or not
        bottom.addWidget(self.setup_button)
        bottom.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.banner)
        lay.addLayout(email_row)
        lay.addWidget(self.pages)
        lay.addWidget(self.error)
        note = QLabel("Renders in the cloud use your account's own storage; nobody else can see them.")
        note.setWordWrap(True)
        lay.addWidget(note)
        lay.addLayout(bottom)

        self.sign_in_button.clicked.connect(self._sign_in)
        self.password.returnPressed.connect(self._sign_in)
        self.sign_up_button.clicked.connect(self._sign_up)
        self.confirm_button.clicked.connect(self._confirm)
        self.code.returnPressed.connect(self._confirm)
        self.send_code_button.clicked.connect(self._forgot)
        self.reset_button.clicked.connect(self._reset)
        self.first_sign_in_button.clicked.connect(self._first_sign_in)
        self.first_password2.returnPressed.connect(self._first_sign_in)
        self.sign_out_button.clicked.connect(self.sign_out_requested)
        self.setup_button.clicked.connect(self.setup_requested)
        self.forgot_link.clicked.connect(lambda: self.show_page("reset"))
        self.create_link.clicked.connect(lambda: self.show_page("sign_up"))
        self.close_button.clicked.connect(self.reject)
        self.pages.currentChanged.connect(self._page_changed)
        self.set_signed_in(None)

    @staticmethod
    def _right(button: QPushButton) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button)
        return row

    def _page_changed(self, _index: int) -> None:
        # a method, not a lambda: QTabWidget may signal while it is being destroyed, and PySide drops a
        # call to a method of a deleted object where a lambda would touch the dead labels
        self.show_error("")

    # ------------------------------------------------------------------ what the controller shows

    def show_page(self, page: str) -> None:
        self.pages.setCurrentIndex(PAGES.index(page))
        focus = {"sign_in": self.password, "sign_up": self.new_password, "confirm": self.code,
                 "reset": self.reset_code, "new_password": self.first_password}[page]
        (focus if self.email.text().strip() else self.email).setFocus()

    @property
    def page(self) -> str:
        return PAGES[self.pages.currentIndex()]

    def show_error(self, text: str, *, offer_setup: bool = False) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))
        self.setup_button.setVisible(offer_setup)

    def show_info(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    def set_signed_in(self, email: str | None, warning: str | None = None) -> None:
        if email is None:
            self.who.setText("Not signed in")
        else:
            self.who.setText(f"Signed in as <b>{email}</b>")
            self.email.setText(email)
        self.who.setToolTip(warning or "")
        self.sign_out_button.setVisible(email is not None)

    # ------------------------------------------------------------------ requests (checked here first)

    def _email(self) -> str | None:
        email = self.email.text().strip()
        if "@" not in email:
            self.show_error("Enter the e-mail address of the account.")
            self.email.setFocus()
            return None
        return email

    def _filled(self, edit: QLineEdit, what: str) -> str | None:
        text = edit.text().strip() if edit.echoMode() == QLineEdit.EchoMode.Normal else edit.text()
        if not text:
            self.show_error(f"Enter {what}.")
            edit.setFocus()
            return None
        return text

    def _sign_in(self) -> None:
        email = self._email()
        password = email and self._filled(self.password, "your password")
        if email and password:
            self.show_error("")
            self.sign_in_requested.emit(email, password)

    def _first_sign_in(self) -> None:
        email = self._email()
        temporary = email and self.password.text()
        if email and not temporary:
            self.show_error("Enter the temporary password from the invitation on the Sign in page first.")
            return
        new = email and self._filled(self.first_password, "your new password")
        if not (email and temporary and new):
            return
        if self.first_password2.text() != new:
            self.show_error("The two passwords differ.")
            self.first_password2.setFocus()
            return
        self.show_error("")
        self.first_sign_in_requested.emit(email, temporary, new)

    def _sign_up(self) -> None:
        email = self._email()
        password = email and self._filled(self.new_password, "a password")
        if not (email and password):
            return
        if self.new_password2.text() != password:
            self.show_error("The two passwords differ.")
            self.new_password2.setFocus()
            return
        self.show_error("")
        self.sign_up_requested.emit(email, password)

    def _confirm(self) -> None:
        email = self._email()
        code = email and self._filled(self.code, "the code from the e-mail")
        if email and code:
            self.show_error("")
            self.confirm_requested.emit(email, code)

    def _forgot(self) -> None:
        email = self._email()
        if email:
            self.show_error("")
            self.forgot_requested.emit(email)

    def _reset(self) -> None:
        email = self._email()
        code = email and self._filled(self.reset_code, "the code from the e-mail (Send reset code first)")
        password = code and self._filled(self.reset_password, "a new password")
        if email and code and password:
            self.show_error("")
            self.reset_requested.emit(email, code, password)
