"""The cloud session: the Account dialog's sign in / sign up / confirm / reset / sign out, the Cloud
setup dialog, reusing a saved session at start-up, and an expired session met by any cloud op.

Every Cognito call is an :class:`~app.ui.ops.Op` over a typed operation of
:mod:`app.workbench.cloud_account`; its progress and cancel show inside the dialog that asked, and its
error is written under the form in plain words (never a dialog box, never a traceback)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from app.core.errors import Cancelled, ReelwrightError
from app.workbench import cloud_account, services

from ..ops import Op, ProgressView, error_text
from ..qt import QObject, QWidget, Signal

if TYPE_CHECKING:  # the cloud client imports boto3: loaded only when the user signs in
    from app.cloud.client import CloudClient
    from app.cloud.config import CloudConfig

    from ..account import AccountDialog
    from ..cloud_setup import CloudSetupDialog

log = logging.getLogger(__name__)


def plain_error(exc: BaseException) -> str:
    """What the dialogs write under the form: the typed error's sentence without the CLI's hint."""
    from app.cloud.errors import CloudConfigError

    if isinstance(exc, CloudConfigError) and "no cloud configuration" in exc.message:
        return "No cloud is configured yet: open Cloud › Cloud setup… and enter your stack's outputs."
    text = exc.message if isinstance(exc, ReelwrightError) else error_text(exc)
    text = text.split("\n", 1)[0][:400]  # an HTML error page from a proxy or emulator is not a sentence
    return text[:1].upper() + text[1:]


class CloudSession(QObject):
    """Who is signed in to the cloud, and the client to reach it.  ``changed`` carries the signed-in
    user's email, or None after signing out."""

    changed = Signal(object)  # str | None
    message = Signal(str)  # a status-bar sentence

    def __init__(self, window: QWidget, view: ProgressView) -> None:
        super().__init__(window)
        self.window = window
        self.view = view
        self.client: CloudClient | None = None
        self.email: str | None = None
        self.dialog: AccountDialog | None = None
        self.setup_dialog: CloudSetupDialog | None = None
        self._password: str = ""  # from sign-up, offered again on the sign-in page after confirming

    @property
    def signed_in(self) -> bool:
        return self.email is not None and self.client is not None

    # ------------------------------------------------------------------ the Account dialog

    def sign_in_or_out(self, trigger: Any = None) -> None:
        """The Cloud menu's Sign in/Sign out action: the Account dialog, or sign out when signed in."""
        if self.email is not None:
            self.sign_out()
            return
        self.open_account("sign_in")

    def open_account(self, page: str | None = None, banner: str = "", email: str | None = None) -> AccountDialog:
        """Show the (one, non-modal) Account dialog on ``page``; signed out it starts on Sign in."""
        from ..account import AccountDialog

        dlg = self.dialog
        if dlg is None:
            dlg = AccountDialog(self.window, self.email or "")
            dlg.sign_in_requested.connect(self.sign_in)
            dlg.first_sign_in_requested.connect(self.first_sign_in)
            dlg.sign_up_requested.connect(self.sign_up)
            dlg.confirm_requested.connect(self.confirm)
            dlg.forgot_requested.connect(self.forgot)
            dlg.reset_requested.connect(self.reset)
            dlg.sign_out_requested.connect(self.sign_out)
            dlg.setup_requested.connect(self.open_setup)
            self.dialog = dlg
        dlg.set_signed_in(self.email, self.client.store_warning if self.client and self.email else None)
        if email:
            dlg.email.setText(email)
        dlg.show_info(banner)
        dlg.show_error("")
        dlg.show_page(page or "sign_in")
        dlg.show()
        dlg.raise_()
        dlg.activateWindow()
        return dlg

    def _account_op(self, factory: Any, title: str, trigger: Any) -> Op[Any]:
        dlg = self.dialog
        assert dlg is not None
        op: Op[Any] = Op(dlg, factory, title=title, trigger=trigger, view=dlg.progress)

        def failed(exc: BaseException) -> bool:
            if not isinstance(exc, Cancelled):
                from app.cloud.errors import CloudConfigError

                dlg.show_error(plain_error(exc), offer_setup=isinstance(exc, CloudConfigError))
            return True  # shown in the dialog

        op.failure(failed)
        return op

    def first_sign_in(self, email: str, temporary: str, new_password: str) -> Op[CloudClient]:
        """An invited account's first sign-in: the invitation's temporary password, then its own."""
        return self.sign_in(email, temporary, new_password=new_password)

    def sign_in(self, email: str, password: str, trigger: Any = None, *,
                new_password: str | None = None) -> Op[CloudClient]:
        dlg = self.dialog or self.open_account("sign_in")
        op: Op[CloudClient] = self._account_op(cloud_account.sign_in(self.client, email, password, new_password),
                                               "Sign in",
                                               dlg.first_sign_in_button if new_password else dlg.sign_in_button)

        def ok(signed: CloudClient) -> None:
            self.client = signed
            self._password = ""
            dlg.password.clear()
            dlg.first_password.clear()
            dlg.first_password2.clear()
            self._set(email)
            dlg.show_info("")
            dlg.accept()
            if signed.store_warning:
                self.message.emit(str(signed.store_warning))

        def failed(exc: BaseException) -> bool:
            if getattr(exc, "code", "") == "NewPasswordRequired":
                dlg.show_page("new_password")
                dlg.show_info("This account was created by invitation: choose your own password to finish "
                              "signing in.")
                dlg.show_error("")
                return True
            if getattr(exc, "code", "") == "UserNotConfirmedException":
                dlg.show_page("confirm")
                dlg.show_info("This account is not confirmed yet: enter the code from the e-mail we sent.")
                dlg.show_error("")
                return True
            if not isinstance(exc, Cancelled):
                from app.cloud.errors import CloudConfigError

                dlg.show_error(plain_error(exc), offer_setup=isinstance(exc, CloudConfigError))
            return True

        op.success(ok).failure(failed)
        op.run()
        return op

    def sign_up(self, email: str, password: str) -> Op[None]:
        dlg = self.dialog or self.open_account("sign_up")
        op: Op[None] = self._account_op(cloud_account.sign_up(self.client, email, password), "Create account",
                                        dlg.sign_up_button)

        def ok(_r: None) -> None:
            self._password = password
            dlg.new_password.clear()
            dlg.new_password2.clear()
            dlg.show_page("confirm")
            dlg.show_info(f"Account created. Enter the code we e-mailed to {email}.")

        op.success(ok).run()
        return op

    def confirm(self, email: str, code: str) -> Op[None]:
        dlg = self.dialog or self.open_account("confirm")
        op: Op[None] = self._account_op(cloud_account.confirm(self.client, email, code), "Confirm account",
                                        dlg.confirm_button)

        def ok(_r: None) -> None:
            dlg.code.clear()
            if self._password:
                dlg.password.setText(self._password)
            dlg.show_page("sign_in")
            dlg.show_info("Account confirmed: sign in.")

        op.success(ok).run()
        return op

    def forgot(self, email: str) -> Op[None]:
        dlg = self.dialog or self.open_account("reset")
        op: Op[None] = self._account_op(cloud_account.forgot(self.client, email), "Send reset code",
                                        dlg.send_code_button)

        def ok(_r: None) -> None:
            dlg.show_info(f"A reset code was sent to {email}: enter it with a new password.")
            dlg.reset_code.setFocus()

        op.success(ok).run()
        return op

    def reset(self, email: str, code: str, new_password: str) -> Op[None]:
        dlg = self.dialog or self.open_account("reset")
        op: Op[None] = self._account_op(cloud_account.reset(self.client, email, code, new_password),
                                        "Reset password", dlg.reset_button)

        def ok(_r: None) -> None:
            dlg.reset_code.clear()
            dlg.reset_password.clear()
            dlg.password.clear()
            dlg.show_page("sign_in")
            dlg.show_info("Password changed: sign in with the new password.")

        op.success(ok).run()
        return op

    def sign_out(self) -> None:
        client = self.client
        if client is None:
            self._set(None)
            return

        async def op_fn(on_progress: Any, cancel: Any) -> None:
            await client.sign_out()

        Op(self.window, op_fn, title="Sign out", view=self.view, cancellable=False).success(
            lambda _r: self._set(None)).run()

    # ------------------------------------------------------------------ expiry

    def handle_expired(self, exc: BaseException) -> bool:
        """For any cloud op's failure handler: a rejected refresh token signs the user out (the stored
        tokens are dead) and offers sign-in again; nothing else is touched.  True when it was that."""
        from app.cloud.errors import SessionExpired

        if not isinstance(exc, SessionExpired):
            return False
        from ..account import EXPIRED

        email = self.email
        log.info("cloud session expired: %s", exc)
        self._set(None)  # at once: nothing may use the dead session meanwhile
        self.sign_out()  # forgets the stored tokens (the remote sign-out may fail: it is signed out anyway)
        self.open_account("sign_in", banner=EXPIRED, email=email)
        self.message.emit(EXPIRED)
        return True

    # ------------------------------------------------------------------ start-up

    def restore(self) -> Op[str | None] | None:
        """After the first paint: reuse a saved session, quietly (no cloud configured is not an error)."""
        if not services.cloud_available():
            return None

        async def op_fn(on_progress: Any, cancel: Any) -> str | None:
            client = await asyncio.to_thread(services.make_cloud_client)
            self.client = client
            return client.username

        def no_session(exc: BaseException) -> bool:
            log.info("no cloud session: %s", exc)
            return True  # not an error worth a dialog

        op: Op[str | None] = Op(self.window, op_fn, title="Cloud session", cancellable=False)
        op.success(lambda user: self._set(user) if user is not None else None).failure(no_session)
        op.run()
        return op

    def _set(self, email: str | None) -> None:
        self.email = email
        if self.dialog is not None:
            self.dialog.set_signed_in(email, self.client.store_warning if self.client and email else None)
        self.changed.emit(email)

    # ------------------------------------------------------------------ cloud setup

    def open_setup(self) -> CloudSetupDialog:
        """The (one, non-modal) Cloud setup dialog, filled with the saved configuration if there is one."""
        from app.cloud.config import load_config
        from app.cloud.errors import CloudConfigError

        from ..cloud_setup import CloudSetupDialog

        dlg = self.setup_dialog
        if dlg is None:
            dlg = CloudSetupDialog(self.window)
            dlg.read_stack_requested.connect(self.read_stack)
            dlg.test_requested.connect(self.test_connection)
            dlg.save_requested.connect(self.save_config)
            self.setup_dialog = dlg
            try:
                dlg.show_config(load_config())
            except CloudConfigError as exc:
                log.info("no saved cloud configuration: %s", exc)
            if self.email:
                dlg.test_email.setText(self.email)
        dlg.show()
        dlg.raise_()
        dlg.activateWindow()
        return dlg

    def _setup_op(self, factory: Any, title: str, trigger: Any) -> Op[Any]:
        dlg = self.setup_dialog
        assert dlg is not None
        op: Op[Any] = Op(dlg, factory, title=title, trigger=trigger, view=dlg.progress)

        def failed(exc: BaseException) -> bool:
            if isinstance(exc, Cancelled):
                dlg.show_result("Cancelled.")
            else:
                dlg.show_result("")
                dlg.show_error(plain_error(exc))
            return True

        return op.failure(failed)

    def read_stack(self, stack: str, region: str, endpoint_url: str) -> Op[CloudConfig]:
        dlg = self.setup_dialog or self.open_setup()
        op: Op[CloudConfig] = self._setup_op(cloud_account.read_stack(stack, region, endpoint_url),
                                             "Read stack", dlg.read_stack_button)

        def ok(cfg: CloudConfig) -> None:
            dlg.show_config(cfg)
            dlg.show_result(f"Read from stack {stack}: check the settings, then Test connection and Save.")

        op.success(ok).run()
        return op

    def test_connection(self, config: CloudConfig, email: str, password: str) -> Op[Any]:
        dlg = self.setup_dialog or self.open_setup()
        op: Op[cloud_account.ConnectionReport] = self._setup_op(
            cloud_account.test_connection(config, email, password), "Test connection", dlg.test_button)

        def ok(report: cloud_account.ConnectionReport) -> None:
            dlg.test_password.clear()
            dlg.show_result(report.describe())

        op.success(ok).run()
        return op

    def save_config(self, config: CloudConfig) -> None:
        """Save atomically (CloudConfig.save) and start over with the new cloud's stored session, if any."""
        dlg = self.setup_dialog
        try:
            path = config.save()
        except OSError as exc:
            if dlg is not None:
                dlg.show_error(f"Cannot save the cloud configuration: {error_text(exc)}")
            return
        if dlg is not None:
            dlg.show_result(f"Saved to {path}.")
        self.message.emit(f"Cloud configuration saved to {path}")
        self.client = None
        self._set(None)
        self.restore()
