"""``reelwright record`` and ``reelwright session``: record a flow with Playwright's recorder, and manage
the saved sessions (sign-ins) of the library.

    reelwright record https://app.example.com [--load-session NAME] [--save-session NAME]
                      [--out flow.py] [--target python|python-async|python-pytest|javascript|playwright-test]
                      [--project NAME | --no-project] [--draft]
    reelwright session list
    reelwright session add auth.json --name NAME
    reelwright session delete NAME

``record`` opens the recorder's browser at the URL; when its window closes the flow is added to the
library, appended to the project (the one last open in the app, or ``--project``), and imported: a
project without a script gets one drafted from its files; ``--draft`` redrafts an existing one.
Ctrl-C stops the recorder and its browser and keeps nothing.  Exit codes: 0 done, 2 bad input or
nothing recorded, 3 missing tool, 130 cancelled.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    from app.workbench.recorder import DEFAULT_TARGET, TARGETS

    r: argparse.ArgumentParser = subparsers.add_parser(
        "record", help="record a flow with Playwright's recorder (opens a browser window)",
        description="Open Playwright's recorder (codegen, a headed Chromium) at URL. Click through your demo, "
                    "then close the browser window: the flow lands in the library, is added to the project "
                    "and imported. Needs a display.")
    r.add_argument("url", help="the page to start at, e.g. https://app.example.com or localhost:3000")
    r.add_argument("--load-session", metavar="NAME", help="start signed in with this saved session")
    r.add_argument("--save-session", metavar="NAME",
                   help="save the sign-in as a session asset under NAME when the window closes")
    r.add_argument("--out", "-o", type=Path, help="also write the recorded flow to this file")
    r.add_argument("--target", choices=list(TARGETS), default=DEFAULT_TARGET,
                   help=f"codegen flavour to record (default {DEFAULT_TARGET})")
    where = r.add_mutually_exclusive_group()
    where.add_argument("--project", metavar="NAME",
                       help="add the flow to this project (created if missing; default: the last one open)")
    where.add_argument("--no-project", action="store_true", help="only add the flow to the library")
    r.add_argument("--draft", action="store_true",
                   help="redraft the project's script from its files even when it already has one")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    r.set_defaults(func=cmd_record)

    s: argparse.ArgumentParser = subparsers.add_parser(
        "session", help="list, add or delete saved sessions (sign-ins) in the library",
        description="Saved sessions are Playwright storage states (codegen --save-storage). They are secrets: "
                    "stored 0600 in the data folder, shown by name only, left out of backups unless asked.")
    ss = s.add_subparsers(dest="session_command", metavar="ACTION", required=True)
    ss.add_parser("list", help="list the saved sessions (names only)")
    add = ss.add_parser("add", help="add a storage-state JSON file as a session")
    add.add_argument("file", type=Path)
    add.add_argument("--name", help="the session's name (default: the file's name)")
    rm = ss.add_parser("delete", help="delete a saved session")
    rm.add_argument("name")
    s.set_defaults(func=cmd_session)


def _store() -> Any:
    from app.workbench.storage import Store

    return Store()


def cmd_record(args: argparse.Namespace) -> int:
    from app.workbench import recorder

    from .cli import TerminalProgress, run_cancellable

    if args.out:
        from app.core.infra.outpaths import check_output_path

        check_output_path(args.out)
    req = recorder.RecordRequest(args.url, load_session=args.load_session, save_session=args.save_session,
                                 target=args.target)
    recorder.check_display()
    store = _store()
    try:
        progress = TerminalProgress(quiet=args.quiet)
        try:
            outcome = run_cancellable(lambda cancel: recorder.record(store, req, progress, cancel, keep_copy=args.out))
        finally:
            progress.done()
        say = _sayer(args.quiet)
        f = outcome.file
        say(f"recorded {f.name} ({f.size} bytes) in {outcome.elapsed_s:.0f} s; "
            + ("it was already in the library" if outcome.already else "added to the library"))
        if args.out:
            say(f"wrote {args.out}")
        if outcome.session is not None:
            say(f"saved the session '{outcome.session.name}' (contents hidden)")
        for w in outcome.warnings:
            print(f"warning: {w}", file=sys.stderr)
        if args.no_project:
            n = recorder.import_recorded(store, f)
            say(f"imported: {n} actions")
            return 0
        return _into_project(store, args, req, f, say)
    finally:
        store.close()


def _sayer(quiet: bool) -> Callable[[str], None]:
    def say(message: str) -> None:
        if not quiet:
            print(message, file=sys.stderr)

    return say


def _into_project(store: Any, args: argparse.Namespace, req: Any, f: Any, say: Callable[[str], None]) -> int:
    from app.workbench import recorder, services
    from app.workbench.storage import has_cards, load_settings, save_settings

    from .cli import run_cancellable

    settings = load_settings(store.root)
    projects = store.list_projects()
    if args.project:
        project = next((p for p in projects if p.name == args.project), None) or store.create_project(args.project)
    else:
        project = next((p for p in projects if p.id == settings.last_project), None) \
            or store.create_project("Recorded flows")
    if f.id not in project.data.files:
        project.data.files.append(f.id)
    n = recorder.import_recorded(store, f)  # the importer's error names the line it could not read
    if not has_cards(project.data.script) or args.draft:
        files = [x for x in (store.get_file(i) for i in project.data.files) if x is not None]
        base = services.default_script_settings(settings, (project.data.script or {}).get("settings"))
        if req.load_session:
            base.session = f"sessions/{req.load_session}.json"
        result = run_cancellable(lambda cancel: services.draft(store, files, project.data.prompt, "offline",
                                                               settings, base)(lambda _p: None, cancel))
        project.data.script = result.script.model_dump(mode="json")
        say(f"imported into project '{project.name}': {len(result.script.cards)} cards, {n} actions from the "
            "recording")
    else:
        say(f"imported: {n} actions; added to project '{project.name}' (its script was kept: use Draft in the "
            "app, or --draft, to include the new flow)")
    store.save_project(project)
    settings.last_project = project.id
    save_settings(store.root, settings)
    return 0


def cmd_session(args: argparse.Namespace) -> int:
    from app.workbench.sessions import SessionStore
    from app.workbench.storage import data_dir

    sessions = SessionStore(data_dir())
    if args.session_command == "list":
        items = sessions.list()
        for s in items:
            print(s.masked())
        if not items:
            print("no saved sessions", file=sys.stderr)
    elif args.session_command == "add":
        saved = sessions.save(args.name or args.file.stem, args.file)
        print(f"saved the session '{saved.name}' (contents hidden); scripts use it as "
              f"settings.session = \"{saved.bundle_path}\"", file=sys.stderr)
    else:
        sessions.require(args.name)
        sessions.delete(args.name)
        print(f"deleted the session '{args.name}'", file=sys.stderr)
    return 0
