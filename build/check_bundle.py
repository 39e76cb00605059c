#!/usr/bin/env python3
"""Check a built Reelwright folder before shipping it (as Picard's ``check-cli-bundle.py`` does).

    python build/check_bundle.py dist/Reelwright [--json report.json]

Asserts that everything Reelwright loads dynamically is inside (Qt platform/image/multimedia
plugins, botocore models, the Playwright driver, the Piper voice and espeak data, onnxruntime, the
ffmpeg binary, the bundled example), that the modules imported by name are in the executable's PYZ
archive, that nothing the spec means to leave out slipped back in, that the bundled ffmpeg and Node
run, and reports the unpacked size against the budget with the biggest items (the compressed
installers' budget is checked where they are made: ``build/linux_package.py``).  Exit status 0 only
if every check passes.  Needs the PyInstaller package to read the archive (the build venv has it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bundle_policy import (
    DYNAMIC_MODULES,
    SIZE_BUDGET_BYTES,
    VENDORED_EXECUTABLES,
    is_dropped,
    required_files,
)


@dataclass
class Report:
    bundle: str
    failures: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    total_bytes: int = 0
    budget_bytes: int = 0
    budgeted_bytes: int = 0  # total minus the vendored executables (node, ffmpeg): what our spec controls
    vendored: dict[str, int] = field(default_factory=dict)
    biggest_dirs: list[tuple[str, int]] = field(default_factory=list)
    biggest_files: list[tuple[str, int]] = field(default_factory=list)

    def check(self, ok: bool, what: str, detail: str = "") -> None:
        (self.passed if ok else self.failures).append(what + (f": {detail}" if detail else ""))


def contents_dir(bundle: Path) -> Path:
    """PyInstaller ≥ 6 keeps everything but the executables in ``_internal``."""
    inner = bundle / "_internal"
    return inner if inner.is_dir() else bundle


def executable(bundle: Path, name: str) -> Path:
    return bundle / (f"{name}.exe" if sys.platform == "win32" else name)


def pyz_modules(exe: Path) -> set[str]:
    from PyInstaller.archive.readers import CArchiveReader

    pkg = CArchiveReader(str(exe))
    names: set[str] = set()
    for name, entry in pkg.toc.items():
        if entry[-1] == "z":  # the PYZ archive of pure-Python modules
            names |= set(pkg.open_embedded_archive(name).toc)
    return names


def sizes(root: Path) -> tuple[int, dict[str, int], list[tuple[str, int]]]:
    total = 0
    per_top: dict[str, int] = {}
    files: list[tuple[str, int]] = []
    inner = contents_dir(root)
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            if p.is_symlink():
                continue
            size = p.stat().st_size
            total += size
            rel = p.relative_to(inner) if p.is_relative_to(inner) else p.relative_to(root)
            top = "/".join(rel.parts[:2]) if rel.parts[0] in ("PySide6", "playwright") and len(rel.parts) > 2 \
                else rel.parts[0]
            per_top[top] = per_top.get(top, 0) + size
            files.append((rel.as_posix(), size))
    files.sort(key=lambda t: -t[1])
    return total, per_top, files


def run_ok(argv: list[str], expect: str) -> tuple[bool, str]:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        return False, str(exc)
    text = out.stdout + out.stderr
    return out.returncode == 0 and expect in text, text.strip().splitlines()[0] if text.strip() else "(no output)"


def check_bundle(bundle: Path, budget: int = SIZE_BUDGET_BYTES) -> Report:
    rep = Report(str(bundle), budget_bytes=budget)
    inner = contents_dir(bundle)
    for name in ("Reelwright", "reelwright-cli"):
        rep.check(executable(bundle, name).is_file(), f"executable {name}")

    for req in required_files():
        hits = [m for pat in req.patterns for m in inner.glob(pat) if m.is_file()]
        rep.check(bool(hits), req.what, str(hits[0].relative_to(inner)) if hits else f"none of {req.patterns}")

    leaked = sorted(p.relative_to(inner).as_posix() for p in inner.rglob("*")
                    if p.is_file() and is_dropped(p.relative_to(inner).as_posix()))
    rep.check(not leaked, "nothing the spec drops is inside", ", ".join(leaked[:8]) if leaked else "")

    exe = executable(bundle, "Reelwright")
    if exe.is_file():
        try:
            mods = pyz_modules(exe)
        except Exception as exc:  # noqa: BLE001 - a report line, not a crash
            rep.check(False, "PYZ archive readable", f"{type(exc).__name__}: {exc}")
        else:
            missing = [m for m in DYNAMIC_MODULES if m not in mods]
            rep.check(not missing, f"{len(DYNAMIC_MODULES)} dynamically imported modules in the PYZ",
                      "missing " + ", ".join(missing) if missing else "")

    ffmpegs = sorted(inner.glob("imageio_ffmpeg/binaries/ffmpeg-*"))
    if ffmpegs:
        ok, line = run_ok([str(ffmpegs[0]), "-hide_banner", "-encoders"], "libx264")
        rep.check(ok, "bundled ffmpeg runs and has libx264", "" if ok else line)
    node = inner / "playwright" / "driver" / ("node.exe" if sys.platform == "win32" else "node")
    if node.is_file():
        ok, line = run_ok([str(node), "--version"], "v")
        rep.check(ok, "bundled node runs", line)

    rep.total_bytes, per_top, files = sizes(bundle)
    rep.vendored = {rel: size for rel, size in files if any(Path(rel).match(v) for v in VENDORED_EXECUTABLES)}
    rep.budgeted_bytes = rep.total_bytes - sum(rep.vendored.values())
    rep.biggest_dirs = sorted(per_top.items(), key=lambda t: -t[1])[:12]
    rep.biggest_files = files[:12]
    rep.check(rep.total_bytes <= budget, "size budget (unpacked, everything included)",
              f"{rep.total_bytes / 1e6:.0f} MB of {budget / 1e6:.0f} MB")
    return rep


def print_report(rep: Report) -> None:
    for line in rep.passed:
        print(f"  ok    {line}")
    for line in rep.failures:
        print(f"  FAIL  {line}")
    print(f"size: {rep.total_bytes / 1e6:.0f} MB unpacked in total; "
          f"{rep.budgeted_bytes / 1e6:.0f} MB without the vendored executables "
          + ", ".join(f"{k} {v / 1e6:.0f} MB" for k, v in rep.vendored.items()))
    print("biggest items:")
    for name, size in rep.biggest_dirs:
        print(f"  {size / 1e6:7.1f} MB  {name}")
    print("biggest files:")
    for name, size in rep.biggest_files[:8]:
        print(f"  {size / 1e6:7.1f} MB  {name}")
    print("bundle check " + ("PASSED" if not rep.failures else f"FAILED ({len(rep.failures)} problems)"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundle", type=Path, nargs="?", default=Path("dist/Reelwright"))
    p.add_argument("--budget-mb", type=float, default=SIZE_BUDGET_BYTES / 1e6)
    p.add_argument("--json", type=Path, help="also write the report as JSON")
    args = p.parse_args(argv)
    if not args.bundle.is_dir():
        print(f"error: {args.bundle} is not a built bundle (run 'make package' first)", file=sys.stderr)
        return 2
    rep = check_bundle(args.bundle, int(args.budget_mb * 1e6))
    print_report(rep)
    if args.json:
        args.json.write_text(json.dumps(asdict(rep), indent=2) + "\n", encoding="utf-8")
    return 0 if not rep.failures else 1


if __name__ == "__main__":
    sys.exit(main())
