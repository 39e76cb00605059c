"""PyInstaller runtime hook: runs before any app code inside the frozen Reelwright.

- points ``REELWRIGHT_RESOURCES`` at the bundled ``resources/`` (explicit beats guessing);
- gives a windowed build (no console on Windows/macOS) real ``stdout``/``stderr`` so ``print`` and
  logging never raise on ``None`` streams;
- keeps Playwright from looking for browsers inside the read-only bundle: an unset
  ``PLAYWRIGHT_BROWSERS_PATH`` means the per-user cache, as for a normal install.
"""

import os
import sys

_bundle = getattr(sys, "_MEIPASS", None)
if _bundle:
    os.environ.setdefault("REELWRIGHT_RESOURCES", os.path.join(_bundle, "resources"))
    if os.environ.get("PLAYWRIGHT_BROWSERS_PATH") == "0":
        # "0" means "next to the package": inside a bundle that is read-only and empty
        del os.environ["PLAYWRIGHT_BROWSERS_PATH"]
    os.environ["REELWRIGHT_FROZEN"] = "1"

for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the process
