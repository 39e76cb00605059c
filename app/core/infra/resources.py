"""Where the read-only resources (``resources/``: the bundled example, test pages, icons) live.

The same code runs from a source checkout, from an installed wheel next to a checkout, and from a
PyInstaller bundle, so nothing should build ``Path(__file__).parents[n] / "resources"`` itself:
call :func:`resource_path` instead.  Lookup order:

1. ``REELWRIGHT_RESOURCES`` — an explicit folder (packagers, tests);
2. ``sys._MEIPASS/resources`` — inside a frozen (PyInstaller) bundle;
3. the repository root's ``resources/`` — a source checkout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import ToolMissingError

RESOURCES_ENV = "REELWRIGHT_RESOURCES"


def resources_root() -> Path:
    """The folder that holds the resources; :class:`ToolMissingError` if none can be found."""
    override = os.environ.get(RESOURCES_ENV)
    if override:
        root = Path(override)
        if not root.is_dir():
            raise ToolMissingError(f"{RESOURCES_ENV} points to '{root}', which is not a folder")
        return root
    candidates: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    candidates.append(Path(__file__).resolve().parents[3] / "resources")
    for c in candidates:
        if c.is_dir():
            return c
    raise ToolMissingError(
        "the Reelwright resources folder is missing (looked in " + ", ".join(str(c) for c in candidates) + ")",
        hint=f"reinstall Reelwright, or set {RESOURCES_ENV} to the 'resources' folder of a checkout",
    )


def resource_path(*parts: str) -> Path:
    """A path inside the resources folder, e.g. ``resource_path("examples", "quickstart")``.

    The path is returned whether or not it exists (callers decide whether absence is an error), but
    it can never point outside the resources folder.
    """
    root = resources_root()
    path = root.joinpath(*parts)
    if parts and not path.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"resource path {'/'.join(parts)!r} leaves the resources folder")
    return path
