"""Where the CloudFormation template (``infra/template.yaml``) is: the single source of the stack, read
by ``cloud deploy``, the emulator and the linters.

Lookup order: ``REELWRIGHT_TEMPLATE`` (the emulator image sets it), ``sys._MEIPASS/infra`` inside a
PyInstaller bundle (the spec ships it there), then the repository root's ``infra/`` in a checkout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def template_path() -> Path:
    candidates = [Path(os.environ["REELWRIGHT_TEMPLATE"])] if os.environ.get("REELWRIGHT_TEMPLATE") else []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "infra" / "template.yaml")
    candidates.append(Path(__file__).resolve().parents[2] / "infra" / "template.yaml")
    return next((c for c in candidates if c.is_file()), candidates[-1])


TEMPLATE = template_path()
