"""Output paths, checked before any work starts.

A render that fails only when it publishes its MP4 wastes minutes; so ``--out`` is looked at first:
a path naming an existing folder, or under an existing *file*, is an input error (exit 2); a folder
that cannot be written (read-only file system, no permission) is an environment error (exit 3).
Writability is proven by creating and removing a probe file, since ``os.access`` says yes to root
on a read-only mount.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..errors import OutputError, UsageError

__all__ = ["check_output_path"]


def _nearest_existing(path: Path) -> Path:
    p = path
    while not os.path.lexists(p) and p != p.parent:
        p = p.parent
    return p


def check_output_path(out: Path, *, flag: str = "--out", siblings: Iterable[Path] = (),
                      allow_dir: bool = False) -> None:
    """Raise :class:`UsageError` (exit 2) or :class:`OutputError` (exit 3) if ``out`` (and the
    ``siblings`` written beside it) cannot be written; create nothing that stays behind."""
    out = Path(os.path.abspath(out))
    for target in (out, *(Path(os.path.abspath(s)) for s in siblings)):
        if target.is_dir() and not (allow_dir and target == out):
            raise UsageError(f"{flag}: '{target}' is an existing folder; name a file, e.g. '{target / 'demo.mp4'}'"
                             if target == out else
                             f"{flag}: '{target}' (written beside the output) is an existing folder")
    anc = _nearest_existing(out.parent)
    if not anc.is_dir():
        raise UsageError(f"{flag}: '{anc}' is a file, so '{out}' cannot be created under it")
    try:
        if anc == out.parent:
            fd, probe = tempfile.mkstemp(prefix=".reelwright-probe-", dir=anc)
            os.close(fd)
            os.unlink(probe)
        else:
            os.rmdir(tempfile.mkdtemp(prefix=".reelwright-probe-", dir=anc))
    except OSError as exc:
        raise OutputError(f"{flag}: cannot write to '{anc}': {exc.strerror or exc}",
                          hint="choose an output folder you can write to") from None
