"""``reelwright gui``: open the desktop app (``--smoke-screenshot FILE.png`` for self-checks)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "gui", help="open the desktop app",
        description="Open the Reelwright desktop app.  With --smoke-screenshot, open the main window with "
                    "the bundled example project, wait for it to paint, save a screenshot and exit 0.")
    p.add_argument("--smoke-screenshot", type=Path, metavar="FILE",
                   help="save a PNG of the main window with the example loaded, then exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Qt is imported only when the GUI actually starts: the CLI and the recorder never load it
    from app.ui.app import main

    return main(smoke_screenshot=args.smoke_screenshot)


def main_standalone(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reelwright")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main_standalone())
