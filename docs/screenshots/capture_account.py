"""Regenerate account.png and cloud-setup.png: the Account and Cloud setup dialogs in real states, with
the local emulator behind them (a wrong password refused; pasted stack outputs and a tested connection).

    Xvfb :99 -screen 0 1600x1000x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb python docs/screenshots/capture_account.py docs/screenshots
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path


async def capture(out: Path, tmp: Path) -> None:
    from app.cloud.client import CloudClient
    from app.cloud.config import STACK_OUTPUTS
    from app.cloud.emulator.local import Emulator
    from app.ui.main_window import MainWindow
    from app.ui.ops import Op
    from app.workbench.storage import Store

    emu = Emulator(workdir=tmp / "emulator")
    cfg = await emu.start()
    try:
        cfg.save()
        signup = CloudClient(cfg)
        await signup.sign_up("ada@example.com", "Correct-horse-9")
        await signup.confirm("ada@example.com", "123456")
        window = MainWindow(Store(tmp / "data"))
        window.start()
        window.show()

        account = window.cloud.open_account("sign_in")
        account.email.setText("ada@example.com")
        account.password.setText("not-my-password")
        account.sign_in_button.click()
        await Op.wait_all()
        account.resize(account.sizeHint().width() + 60, account.sizeHint().height())
        await asyncio.sleep(0.3)
        account.grab().save(str(out / "account.png"))
        account.hide()

        setup = window.cloud.open_setup()
        setup.fields["endpoint_url"].setText(cfg.endpoint_url or "")
        setup.emulator.setChecked(True)
        outputs = [{"OutputKey": k, "OutputValue": getattr(cfg, f)} for k, f in STACK_OUTPUTS.items()]
        setup.paste.setPlainText(json.dumps({"Stacks": [{"StackName": "reelwright", "Outputs": outputs}]}, indent=1))
        setup.parse_button.click()
        setup.test_email.setText("ada@example.com")
        setup.test_password.setText("Correct-horse-9")
        setup.test_button.click()
        await Op.wait_all()
        setup.resize(820, setup.sizeHint().height())
        await asyncio.sleep(0.3)
        setup.grab().save(str(out / "cloud-setup.png"))
        print("wrote", out / "account.png", out / "cloud-setup.png", "—", setup.result_label.text())
        window.release_media()
    finally:
        await emu.stop()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    tmp = Path(tempfile.mkdtemp(prefix="reelwright-shots-"))
    os.environ.update(REELWRIGHT_CLOUD_HOME=str(tmp / "cloud"), REELWRIGHT_CLOUD_CONFIG=str(tmp / "cloud/config.json"),
                      REELWRIGHT_NO_KEYRING="1", REELWRIGHT_DATA_DIR=str(tmp / "data"))
    import qasync

    from app.ui.qt import QApplication

    app = QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    loop.run_until_complete(capture(out, tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
