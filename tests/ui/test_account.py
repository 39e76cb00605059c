"""The Account and Cloud setup dialogs against the real emulator (a moto server seeded like the stack).

What moto does with codes, and so what these tests can prove: ``ConfirmSignUp`` accepts any code;
``ConfirmForgotPassword`` checks a code only when it starts with ``moto-confirmation-code:`` (the real one
comes back in a moto-only response header the app never sees), so a wrong code is tested in that form and
the reset itself with any other code — and the new password is then checked for real, because the app
signs in to the emulator with USER_PASSWORD_AUTH (moto's SRP accepts any password).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import stat
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from test_flow import SITE, _two_card_script  # tests/ui is on sys.path (rootdir)

from app.ui.account import EXPIRED
from app.ui.main_window import MainWindow
from app.ui.ops import Op
from app.ui.qt import QApplication, QMessageBox, Qt
from app.workbench.storage import ProjectData, Store

pytestmark = [pytest.mark.ui, pytest.mark.slow]

emulator_mod = pytest.importorskip("app.cloud.emulator.local")

PASSWORD = "Correct-horse-9"
T = TypeVar("T")


def _aside(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to the end on a loop of its own in another thread: ``asyncio.run`` here would unset
    the test's qasync loop (and a later Op would then be scheduled on a loop that never runs)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One moto server for the module (≈ 2.5 s to start and seed).  Its job stand-ins are not needed here
    (nothing renders), so it is started aside; each test uses its own accounts."""
    e = emulator_mod.Emulator(workdir=tmp_path_factory.mktemp("emulator"))
    _aside(e.start())
    yield e
    e._loops = []  # already cancelled with the loop that started them
    _aside(e.stop())


@pytest.fixture
def cloud_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emu: Any) -> Path:
    home = tmp_path / "cloud"
    monkeypatch.setenv("REELWRIGHT_CLOUD_HOME", str(home))
    monkeypatch.setenv("REELWRIGHT_CLOUD_CONFIG", str(home / "config.json"))
    monkeypatch.setenv("REELWRIGHT_NO_KEYRING", "1")
    return home


@pytest.fixture
def configured(cloud_home: Path, emu: Any) -> Path:
    emu.config.save()
    return cloud_home


@pytest.fixture
def window(store: Store, aloop: Any, cloud_home: Path, dispose: Any) -> Iterator[MainWindow]:
    w = MainWindow(store)
    w.start()
    w.show()
    yield w
    for op in list(Op.running):
        op.cancel()
    aloop.run_until_complete(Op.wait_all())
    dispose(w)


def _click(qtbot: Any, widget: Any) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def _type(qtbot: Any, edit: Any, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def _error_boxes(window: MainWindow) -> list[Any]:
    return [b for b in window.findChildren(QMessageBox) if b.isVisible()]


def _new_account(emu: Any, email: str) -> None:
    """An account made outside the dialog (for the tests whose subject is something else)."""
    from app.cloud.client import CloudClient

    async def make() -> None:
        c = CloudClient(emu.config)
        await c.sign_up(email, PASSWORD)
        await c.confirm(email, "123456")

    _aside(make())


def test_an_invited_account_chooses_its_password_in_the_dialog(
        window: MainWindow, configured: Path, emu: Any, qtbot: Any, run: Any) -> None:
    """Invite-only stacks (SignUpMode=invite, the default) create accounts with admin-create-user: the
    first sign-in with the mailed temporary password must choose a new one, in the app too (it used to
    end with an error pointing at the CLI)."""
    from app.cloud.client import CloudClient

    email, temporary = "ivy@example.com", "Temporary-Pass-1"
    emu.client("cognito-idp").admin_create_user(
        UserPoolId=emu.config.user_pool_id, Username=email, TemporaryPassword=temporary,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}])

    async def scenario() -> None:
        window.account_action.trigger()
        dlg = window.cloud.dialog
        _type(qtbot, dlg.email, email)
        _type(qtbot, dlg.password, temporary)
        _click(qtbot, dlg.sign_in_button)
        await Op.wait_all()
        assert dlg.page == "new_password" and "invitation" in dlg.banner.text(), dlg.error.text()
        assert window.cloud.email is None and not dlg.error.isVisible()
        _type(qtbot, dlg.first_password, PASSWORD)
        _type(qtbot, dlg.first_password2, PASSWORD + "x")
        _click(qtbot, dlg.first_sign_in_button)
        assert not Op.running and "differ" in dlg.error.text()  # checked before anything is sent
        _type(qtbot, dlg.first_password2, PASSWORD)
        _click(qtbot, dlg.first_sign_in_button)
        await Op.wait_all()
        assert window.cloud.email == email and not dlg.isVisible(), dlg.error.text()
        assert dlg.first_password.text() == "" and dlg.password.text() == ""
        # the account now has the user's own password
        fresh = CloudClient(emu.config)
        session = await fresh.sign_in(email, PASSWORD, flow="password")
        assert session.username == email

    run(scenario())


def test_sign_up_confirm_sign_in_survives_a_restart_then_sign_out(
        window: MainWindow, configured: Path, store: Store, qtbot: Any, run: Any, dispose: Any) -> None:
    email = "ada@example.com"

    async def scenario() -> None:
        assert not window.sign_out_action.isEnabled()
        window.account_action.trigger()
        dlg = window.cloud.dialog
        assert dlg is not None and dlg.isVisible() and not dlg.isModal() and dlg.page == "sign_in"
        _click(qtbot, dlg.create_link)
        assert dlg.page == "sign_up"
        _type(qtbot, dlg.email, email)
        _type(qtbot, dlg.new_password, PASSWORD)
        _type(qtbot, dlg.new_password2, PASSWORD + "x")
        _click(qtbot, dlg.sign_up_button)
        assert not Op.running and "differ" in dlg.error.text()  # checked before anything is sent
        _type(qtbot, dlg.new_password2, PASSWORD)
        _click(qtbot, dlg.sign_up_button)
        await Op.wait_all()
        assert dlg.page == "confirm" and "Account created" in dlg.banner.text(), dlg.error.text()

        # signing in before confirming: Cognito says unconfirmed, and the dialog offers the code
        dlg.show_page("sign_in")
        _type(qtbot, dlg.password, PASSWORD)
        _click(qtbot, dlg.sign_in_button)
        await Op.wait_all()
        assert dlg.page == "confirm" and "not confirmed" in dlg.banner.text()
        assert window.cloud.email is None

        _type(qtbot, dlg.code, "123456")
        _click(qtbot, dlg.findChild(object, "confirmOk"))
        await Op.wait_all()
        assert dlg.page == "sign_in" and "confirmed" in dlg.banner.text(), dlg.error.text()
        assert dlg.password.text() == PASSWORD  # kept from the sign-up
        _click(qtbot, dlg.findChild(object, "signInOk"))
        await Op.wait_all()
        assert window.cloud.email == email and not dlg.isVisible()
        assert window.sign_out_action.isEnabled() and window.sign_in_action.text() == f"Sign out ({email})"
        assert window.render_panel.target.model().item(1).isEnabled()
        session_file = configured / "session.json"
        assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
        assert window.cloud.dialog is dlg and "Signed in as" in dlg.who.text() and dlg.sign_out_button.isVisibleTo(dlg)

    run(scenario())
    window.close()  # the app quits …

    again = MainWindow(store)  # … and starts again on the same data and cloud folders
    try:
        again.start()
        op = again.cloud.restore()
        assert op is not None and op.task is not None
        run(op.task)
        assert again.cloud.email == email and again.sign_out_action.isEnabled()
        assert again.render_panel.target.model().item(1).isEnabled()
        again.sign_out_action.trigger()
        run(Op.wait_all())
        assert again.cloud.email is None and again.sign_in_action.text() == "Sign in…"
        assert json.loads((configured / "session.json").read_text()) == {}
    finally:
        dispose(again)

    third = MainWindow(store)
    try:
        op = third.cloud.restore()
        assert op is not None and op.task is not None
        run(op.task)
        assert third.cloud.email is None  # signed out stays signed out
    finally:
        dispose(third)
    assert not _error_boxes(window)


def test_forgot_and_reset_password_and_a_wrong_password_inline(
        window: MainWindow, configured: Path, emu: Any, qtbot: Any, run: Any) -> None:
    email = "grace@example.com"
    _new_account(emu, email)
    new_password = "Another-horse-77"

    async def scenario() -> None:
        window.sign_in_action.trigger()
        dlg = window.cloud.dialog
        assert dlg is not None
        _type(qtbot, dlg.email, email)
        _type(qtbot, dlg.password, "Wrong-password-1")
        _click(qtbot, dlg.sign_in_button)
        await Op.wait_all()
        # the reason in plain words, under the form; no error box, no traceback
        assert dlg.error.isVisible() and dlg.error.text() == "Sign-in failed: wrong email or password"
        assert window.cloud.email is None and dlg.isVisible() and not _error_boxes(window)

        _click(qtbot, dlg.forgot_link)
        assert dlg.page == "reset" and not dlg.error.isVisible()
        _click(qtbot, dlg.send_code_button)
        await Op.wait_all()
        assert "reset code was sent" in dlg.banner.text(), dlg.error.text()
        # moto checks codes of its own form only (see the module docstring)
        _type(qtbot, dlg.reset_code, "moto-confirmation-code:000000")
        _type(qtbot, dlg.reset_password, new_password)
        _click(qtbot, dlg.reset_button)
        await Op.wait_all()
        assert dlg.page == "reset" and "code" in dlg.error.text() and "Password reset failed" in dlg.error.text()
        _type(qtbot, dlg.reset_code, "123456")
        _click(qtbot, dlg.reset_button)
        await Op.wait_all()
        assert dlg.page == "sign_in" and "Password changed" in dlg.banner.text(), dlg.error.text()

        _type(qtbot, dlg.password, PASSWORD)  # the old password no longer works
        _click(qtbot, dlg.sign_in_button)
        await Op.wait_all()
        assert "wrong email or password" in dlg.error.text() and window.cloud.email is None
        _type(qtbot, dlg.password, new_password)
        _click(qtbot, dlg.sign_in_button)
        await Op.wait_all()
        assert window.cloud.email == email, dlg.error.text()

    run(scenario())
    assert not _error_boxes(window)


def test_an_expired_session_offers_sign_in_and_leaves_the_script_alone(
        window: MainWindow, configured: Path, emu: Any, qtbot: Any, run: Any) -> None:
    from app.cloud.client import CloudClient

    email = "linus@example.com"
    _new_account(emu, email)

    async def sign_in_outside() -> None:  # a session stored by an earlier run of the app
        c = CloudClient(emu.config)
        await c.sign_in(email, PASSWORD)
        await c.identity()

    run(sign_in_outside())
    p = window.projects.create("Expiry demo", ProjectData(script=_two_card_script()))
    shutil.copytree(SITE, window.store.project_dir(p.id) / "site")
    # the stored tokens go stale: the id token is unusable and Cognito rejects the refresh token
    session_file = configured / "session.json"
    sessions = json.loads(session_file.read_text())
    s = json.loads(sessions[emu.config.user_pool_id])
    s.update(id_token="expired", refresh_token="revoked-refresh-token")
    sessions[emu.config.user_pool_id] = json.dumps(s)
    session_file.write_text(json.dumps(sessions))

    op = window.cloud.restore()
    assert op is not None and op.task is not None
    run(op.task)
    assert window.cloud.email == email  # nothing says it expired until the cloud is asked
    script_before = window.doc.to_json()
    rp = window.render_panel

    async def scenario() -> None:
        rp.target.setCurrentIndex(rp.target.findData("cloud"))
        _click(qtbot, rp.render_button)
        await Op.wait_all()
        dlg = window.cloud.dialog
        assert dlg is not None and dlg.isVisible() and dlg.page == "sign_in"
        assert dlg.banner.text() == EXPIRED and dlg.email.text() == email
        assert window.cloud.email is None and not rp.target.model().item(1).isEnabled()
        assert window.doc.to_json() == script_before  # the user's script is untouched …
        assert window.project is not None and window.project.data.history[-1].status == "Failed"
        assert "expired" in rp.status.text()
        assert not _error_boxes(window)  # … and no error box over it
        _type(qtbot, dlg.password, PASSWORD)  # signing in again works at once
        _click(qtbot, dlg.sign_in_button)
        await Op.wait_all()
        assert window.cloud.email == email, dlg.error.text()

    run(scenario())
    window.projects.save_now()
    [stored] = [q for q in window.store.list_projects() if q.id == p.id]
    assert json.loads(window.doc.to_json()) == json.loads(script_before)
    assert window.project is not None and stored.data.script == window.project.data.script


def test_cloud_setup_parses_outputs_reads_a_stack_saves_and_tests_the_connection(
        window: MainWindow, cloud_home: Path, emu: Any, qtbot: Any, run: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from app.cloud.client import CloudClient
    from app.cloud.config import STACK_OUTPUTS, load_config

    cfg = emu.config
    # what the stack outputs: the share signer's only when deployed with SharePublicKey (not here)
    outputs = {key: getattr(cfg, field) for key, field in STACK_OUTPUTS.items() if getattr(cfg, field) is not None}
    email = "margaret@example.com"
    _new_account(emu, email)

    window.cloud_setup_action.trigger()
    dlg = window.cloud.setup_dialog
    assert dlg is not None and dlg.isVisible() and not dlg.isModal()
    f = dlg.fields

    # pasted: bad JSON, outputs missing one, then the whole describe-stacks output
    dlg.paste.setPlainText('{"Stacks": [')
    _click(qtbot, dlg.parse_button)
    assert "is not JSON" in dlg.error.text() and "line 1" in dlg.error.text()
    dlg.paste.setPlainText(json.dumps([{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()
                                       if k != "BucketName"]))
    _click(qtbot, dlg.parse_button)
    assert "missing bucket" in dlg.error.text()
    _type(qtbot, f["endpoint_url"], cfg.endpoint_url)
    described = {"Stacks": [{"StackName": "reelwright", "StackStatus": "CREATE_COMPLETE",
                             "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]
                             + [{"OutputKey": "StateMachineArn", "OutputValue": "arn:aws:states:…"}]}]}
    dlg.paste.setPlainText(json.dumps(described, indent=2))
    _click(qtbot, dlg.parse_button)
    assert not dlg.error.isVisible(), dlg.error.text()
    assert f["user_pool_id"].text() == cfg.user_pool_id and f["bucket"].text() == cfg.bucket
    assert f["client_id"].text() == cfg.client_id and f["stack"].text() == "reelwright"
    assert f["endpoint_url"].text() == cfg.endpoint_url and f["region"].text() == cfg.region

    # a file: the configuration the emulator writes (`reelwright cloud emulate`)
    written = cfg.save(tmp_path / "emulator-config.json")
    for e in f.values():
        e.clear()
    assert dlg.load_file(written) and f["identity_pool_id"].text() == cfg.identity_pool_id
    assert dlg.emulator.isChecked()

    # by stack name, read from the emulator's CloudFormation with the user's AWS credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "emulator")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "emulator")
    template = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                "Outputs": {k: {"Value": v} for k, v in outputs.items()}}
    emu.client("cloudformation").create_stack(StackName="reelwright-prod", TemplateBody=json.dumps(template))
    for key in ("user_pool_id", "client_id", "identity_pool_id", "bucket", "stack"):
        f[key].clear()

    async def read(stack: str) -> None:
        _type(qtbot, dlg.stack, stack)
        _type(qtbot, dlg.stack_region, cfg.region)
        _click(qtbot, dlg.read_stack_button)
        await Op.wait_all()

    run(read("no-such-stack"))
    assert "Cannot read stack no-such-stack" in dlg.error.text() and "does not exist" in dlg.error.text()
    run(read("reelwright-prod"))
    assert not dlg.error.isVisible(), dlg.error.text()
    assert f["user_pool_id"].text() == cfg.user_pool_id and f["stack"].text() == "reelwright-prod"
    assert f["session_key_id"].text() == cfg.session_key_id

    # save: validated, written whole
    f["bucket"].clear()
    _click(qtbot, dlg.save_button)
    assert dlg.error.text() == "Fill in: Bucket" and not (cloud_home / "config.json").exists()
    _type(qtbot, f["bucket"], cfg.bucket)
    _click(qtbot, dlg.save_button)
    run(Op.wait_all())
    saved = load_config()
    assert saved.user_pool_id == cfg.user_pool_id and saved.endpoint_url == cfg.endpoint_url
    assert saved.emulator and saved.stack == "reelwright-prod" and "Saved to" in dlg.result_label.text()

    async def test(password: str = "") -> str:
        dlg.test_email.setText(email)
        dlg.test_password.setText(password)
        _click(qtbot, dlg.test_button)
        await Op.wait_all()
        return dlg.result_label.text() if not dlg.error.isVisible() else "error: " + dlg.error.text()

    # no session for this cloud yet, and no password: it asks
    assert "enter your e-mail and password" in run(test())
    assert run(test(PASSWORD)) == f"Connected: 0 jobs (signed in as {email})"
    # one job in the account (submitted with the session the test stored), then the stored session alone
    script = tmp_path / "job" / "script.json"
    shutil.copytree(SITE, script.parent / "site")
    script.write_text(json.dumps(_two_card_script()))
    run(CloudClient(load_config()).submit(script))
    assert run(test()) == f"Connected: 1 job (signed in as {email})"

    # the exact failure: an endpoint nobody listens on, an app client the pool does not have
    dead = f"http://127.0.0.1:{emulator_mod.free_port()}"
    _type(qtbot, f["endpoint_url"], dead)
    result = run(test(PASSWORD))
    assert result.startswith(f"error: Cannot reach {dead}") and "refused" in result.lower(), result
    _type(qtbot, f["endpoint_url"], cfg.endpoint_url)
    _type(qtbot, f["client_id"], "nosuchclient")
    result = run(test(PASSWORD))
    assert result.startswith("error: Sign-in failed") and "ResourceNotFound" in result, result
    _type(qtbot, f["client_id"], cfg.client_id)
    _type(qtbot, f["user_pool_id"], "us-east-1_nosuchpool")
    result = run(test(PASSWORD))
    assert "the user pool (us-east-1_nosuchpool) or the region (us-east-1) is not the app client's" in result
    _type(qtbot, f["user_pool_id"], cfg.user_pool_id)

    # an endpoint that accepts and never answers: Cancel in the dialog ends the wait
    _type(qtbot, f["client_id"], cfg.client_id)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        _type(qtbot, f["endpoint_url"], f"http://127.0.0.1:{silent.getsockname()[1]}")

        async def cancelled() -> None:
            dlg.test_password.setText(PASSWORD)
            _click(qtbot, dlg.test_button)
            assert not dlg.test_button.isEnabled() and dlg.progress.isVisibleTo(dlg)
            await asyncio.sleep(0.5)
            assert Op.running  # still waiting for an answer
            _click(qtbot, dlg.progress.cancel_button)
            await Op.wait_all()

        t0 = time.monotonic()
        run(cancelled())
        assert time.monotonic() - t0 < 5 and dlg.result_label.text() == "Cancelled."
        assert dlg.test_button.isEnabled() and not dlg.progress.isVisibleTo(dlg)
    assert not _error_boxes(window)
    QApplication.processEvents()


def test_without_a_cloud_the_account_window_points_to_cloud_setup(window: MainWindow, qtbot: Any, run: Any) -> None:
    window.sign_in_action.trigger()
    dlg = window.cloud.dialog
    assert dlg is not None
    _type(qtbot, dlg.email, "ada@example.com")
    _type(qtbot, dlg.password, PASSWORD)
    _click(qtbot, dlg.sign_in_button)
    run(Op.wait_all())
    assert dlg.error.text().startswith("No cloud is configured yet: open Cloud › Cloud setup…")
    assert dlg.setup_button.isVisible() and "hint" not in dlg.error.text()
    _click(qtbot, dlg.setup_button)
    assert window.cloud.setup_dialog is not None and window.cloud.setup_dialog.isVisible()
    assert not _error_boxes(window)
