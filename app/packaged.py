"""The packaged app's entry point (PyInstaller runs this file as ``Reelwright`` and ``reelwright-cli``).

``Reelwright``                          the desktop app; on first use without a browser it offers to
                                        download Playwright's headless shell with a progress dialog
``Reelwright --self-test [--out-dir D]`` browser, ffmpeg, voice and Qt plugin checks, then a short render
``Reelwright --smoke-screenshot FILE``  open the main window with the example, save a PNG, exit 0
``Reelwright --version``               the version; ``--version --verbose`` adds Chromium, ffmpeg, voice
``Reelwright FILE``                     open a job bundle (``.reelwright.zip``) or script as a project
``Reelwright --cli …`` / ``reelwright-cli …``  the full command line (``render``, ``self-test``, …), as
                                        ``reelwright``

The self-test and the smoke screenshot are the ones the CLI has (``app.cli.cmd_self_test`` and
``app.cli_gui``); this file only adds what is specific to a frozen build: the Qt plugin check, the
browser provisioning and where the logs go.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from app import __version__

log = logging.getLogger("reelwright.packaged")

CLI_NAMES = ("reelwright-cli", "reelwright")


def is_cli_name(argv0: str) -> bool:
    """Whether the program was started under a command-line name.  Case matters: the app itself is
    ``Reelwright``, which lower-cases to the CLI's ``reelwright`` — comparing case-insensitively sent a
    double-clicked Linux app to the CLI's usage text.  Only Windows (case-insensitive names, where the CLI
    twin is ``reelwright-cli.exe``) compares without case."""
    stem = Path(argv0).stem
    if sys.platform == "win32":
        return stem.lower() == "reelwright-cli"
    return stem in CLI_NAMES


def log_dir() -> Path:
    """Per-user log folder (``platformdirs.user_log_dir``), or ``$REELWRIGHT_LOG_DIR``."""
    import platformdirs

    env = os.environ.get("REELWRIGHT_LOG_DIR")
    return Path(env) if env else Path(platformdirs.user_log_dir("reelwright"))


def setup_logging() -> Path | None:
    """INFO to stderr and to a small rotating file in the user's log folder; returns the file."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(fmt)
    console.setLevel(logging.WARNING)
    root.addHandler(console)
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "reelwright.log"
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=2, encoding="utf-8")
    except OSError as exc:  # a read-only home must not stop the app
        log.warning("no log file (%s)", exc)
        return None
    handler.setFormatter(fmt)
    root.addHandler(handler)
    return path


# --------------------------------------------------------------------------- browser on first use


def ensure_browser_interactive() -> None:
    """Before the main window: use the best browser here, or offer the headless shell download with
    a progress dialog.  Declining (or a failed download) still opens the app; rendering then says
    what is missing."""
    from app.core.errors import ReelwrightError
    from app.core.infra.browser_provision import activate, locate_browser

    try:
        found = locate_browser()
    except ReelwrightError as exc:
        log.warning("%s", exc)
        return
    if found is not None:
        activate(found)
        log.info("browser: %s", found.describe())
        return
    from app.ui.browser_setup import offer_browser_download

    offer_browser_download()


# --------------------------------------------------------------------------- entry


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="Reelwright", description="Reelwright desktop app.")
    p.add_argument("--version", action="store_true", help="print the version (with --verbose: of every part)")
    p.add_argument("--verbose", action="store_true", help="with --version: Chromium, ffmpeg and voice versions")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--self-test", action="store_true",
                      help="check the browser, ffmpeg, voice and Qt plugins, render a short clip, exit 0 if fine")
    mode.add_argument("--smoke-screenshot", type=Path, metavar="FILE",
                      help="open the main window with the example project, save a PNG of it, exit")
    p.add_argument("--out-dir", help="with --self-test: keep the clip here")
    p.add_argument("file", nargs="?", type=Path,
                   help="a job bundle (.reelwright.zip or folder) or script .json to open as a project")
    return p


def print_version(verbose: bool) -> int:
    print(f"Reelwright {__version__}", flush=True)
    if verbose:
        from app.workbench.about import component_versions

        try:
            from app.ui.qt import QT_VERSION  # the one module that imports the Qt binding

            qt: str | None = QT_VERSION
        except ImportError:
            qt = None
        for name, version in component_versions(qt)[1:]:
            print(f"  {name:<10} {version}", flush=True)
    return 0


def self_test(out_dir: str | None) -> int:
    from app import cli
    from app.core.infra.browser_provision import locate_browser

    print(f"Reelwright {__version__} {'packaged build' if getattr(sys, 'frozen', False) else 'from source'}: "
          "Qt plugins", flush=True)
    from app.ui.browser_setup import qt_plugin_report

    ok, lines = qt_plugin_report()
    for line in lines:
        print(f"  {'FAIL' if line.startswith('FAIL') else 'ok':<4} {'qt':<8} {line.removeprefix('FAIL ')}")
    found = locate_browser()
    if found is not None:
        from app.core.infra.browser_provision import activate

        activate(found)
    argv = ["self-test"] + (["--out-dir", out_dir] if out_dir else [])
    code = cli.main(argv)
    if not ok:
        print("self-test FAILED: Qt plugins are missing from this build", flush=True)
        return code or 1
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["--cli"] or (is_cli_name(sys.argv[0]) and args_list[:1] not in (["--self-test"],
                                                                                          ["--smoke-screenshot"])):
        from app import cli

        return cli.main(args_list[1:] if args_list[:1] == ["--cli"] else args_list)
    args = build_parser().parse_args(args_list)
    if args.version:
        return print_version(args.verbose)
    setup_logging()
    if args.self_test:
        return self_test(args.out_dir)
    from app.ui.app import main as gui_main

    if args.smoke_screenshot is None:
        ensure_browser_interactive()
    return gui_main(smoke_screenshot=args.smoke_screenshot, open_path=args.file.resolve() if args.file else None)


if __name__ == "__main__":
    if getattr(sys, "frozen", False):
        import multiprocessing

        multiprocessing.freeze_support()
    sys.exit(main())
