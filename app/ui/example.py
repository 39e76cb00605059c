"""The bundled example project (``resources/examples/quickstart``): its files go into the library in
order, its site into the project's folder, its script into the card editor."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from app.workbench.storage import LibraryFile, Project, ProjectData, Store

EXAMPLE_NAME = "Quickstart example"
EXAMPLE_PROMPT = ("A short narrated tour of the example app for new users: what it is for, then the "
                  "main steps in order.")


def example_dir() -> Path:
    """The example's folder: next to the package in a source checkout, or inside a frozen bundle."""
    import sys

    here = Path(__file__).resolve()
    candidates = [here.parents[2] / "resources" / "examples" / "quickstart"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.insert(0, Path(bundle) / "resources" / "examples" / "quickstart")
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[-1]


def example_files(folder: Path) -> list[Path]:
    """The example's documents and flows (everything but scripts and the site), in name order.

    Its README is a document like any other: the drafter can read it; the recorded codegen flow is what
    a user would bring.  Scripts (``*.json``: the demo and the ad cut) are the project's script, not
    library files."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix != ".json" and not p.name.startswith("."))


def create_example_project(store: Store, folder: Path | None = None) -> Project:
    """Import the example into the library and make a project of it.  Raises OSError/ValueError if the
    example is missing or unreadable (the caller reports it)."""
    folder = folder or example_dir()
    script_path = folder / "script.json"
    script = json.loads(script_path.read_text(encoding="utf-8"))
    report = store.import_paths(example_files(folder))
    by_name = {f.name: f for f in report.imported + report.already}
    ordered: list[LibraryFile] = [by_name[p.name] for p in example_files(folder) if p.name in by_name]
    project = store.create_project(EXAMPLE_NAME, ProjectData(files=[f.id for f in ordered], prompt=EXAMPLE_PROMPT,
                                                             script=script))
    site = (script.get("settings") or {}).get("site")
    if isinstance(site, str) and (folder / site).is_dir():
        shutil.copytree(folder / site, store.project_dir(project.id) / site, dirs_exist_ok=True)
    return project
