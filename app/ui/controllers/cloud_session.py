"""The cloud session: sign in (through the dialog), sign out, and reuse a saved session at start-up."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from app.workbench import services

from ..ops import Op, ProgressView
from ..qt import QObject, QWidget, Signal

if TYPE_CHECKING:  # the cloud client imports boto3: loaded only when the user signs in
    from app.cloud.client import CloudClient

    from ..sign_in import SignInDialog

log = logging.getLogger(__name__)


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
        self.dialog: SignInDialog | None = None

    @property
    def signed_in(self) -> bool:
        return self.email is not None and self.client is not None

    def sign_in_or_out(self, trigger: Any = None) -> None:
        """The File menu's action: the sign-in dialog, or sign out when signed in."""
        if self.email is not None:
            self.sign_out()
            return
        from ..sign_in import SignInDialog

        dlg = SignInDialog(self.window)
        dlg.accepted.connect(lambda: self.sign_in(dlg.email.text().strip(), dlg.password.text(), trigger))
        dlg.open()
        self.dialog = dlg

    def sign_in(self, email: str, password: str, trigger: Any = None) -> Op[CloudClient]:
        op: Op[CloudClient] = Op(self.window, services.cloud_sign_in(self.client, email, password),
                                 title="Sign in", trigger=trigger, view=self.view)

        def ok(signed: CloudClient) -> None:
            self.client = signed
            self._set(email)
            if signed.store_warning:
                self.message.emit(str(signed.store_warning))

        op.success(ok)
        op.run()
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
        self.changed.emit(email)
