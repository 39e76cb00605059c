""""Reveal in file manager": show a file selected in its folder, as each desktop does it.

:func:`reveal_command` is pure (platform and the tools on PATH are arguments) so tests can check every
branch; :func:`reveal` runs the command detached (never blocking the UI) or, where no file manager can
select a file, opens the folder that holds it.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from .qt import QDesktopServices, QProcess, QUrl

Which = Callable[[str], str | None]


def reveal_command(path: Path, platform: str = sys.platform, which: Which = shutil.which) -> list[str] | None:
    """The argv that shows ``path`` selected in the file manager, or None to open its folder instead."""
    target = str(path)
    if platform == "darwin":
        return ["open", "-R", target]
    if platform.startswith("win"):
        return ["explorer", f"/select,{target}"]
    # freedesktop: the FileManager1 D-Bus interface (Nautilus, Dolphin, Nemo, Caja, Thunar…)
    uri = QUrl.fromLocalFile(target).toString(QUrl.ComponentFormattingOption.FullyEncoded)
    if which("gdbus"):
        return ["gdbus", "call", "--session", "--dest", "org.freedesktop.FileManager1",
                "--object-path", "/org/freedesktop/FileManager1",
                "--method", "org.freedesktop.FileManager1.ShowItems", f"['{uri}']", ""]
    if which("dbus-send"):
        return ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.FileManager1",
                "/org/freedesktop/FileManager1", "org.freedesktop.FileManager1.ShowItems",
                f"array:string:{uri}", "string:"]
    return None


def reveal(path: Path) -> bool:
    """Show ``path`` in the file manager; False when it does not exist (the caller says so)."""
    if not path.exists():
        return False
    if path.is_dir():
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
    argv = reveal_command(path)
    if argv is not None and argv[0] in ("gdbus", "dbus-send") and not _file_manager_on_bus():
        argv = None  # no session bus or no FileManager1 service: a detached call would fail unseen
    if argv is not None:
        ok, _pid = QProcess.startDetached(argv[0], argv[1:])
        if ok:
            return True
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


def _file_manager_on_bus() -> bool:
    """Whether a file manager answers org.freedesktop.FileManager1 on the session bus (local, fast)."""
    from . import qt

    try:
        bus = qt.QDBusConnection.sessionBus()
    except ImportError:  # a build without QtDBus: try the call anyway
        return True
    if not bus.isConnected():
        return False
    iface = bus.interface()
    return bool(iface is not None and iface.isServiceRegistered("org.freedesktop.FileManager1").value())
