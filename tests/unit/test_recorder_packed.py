"""recorder.packed: the image's zstd-packed tools are unpacked onto the scratch disk at task start.

Real zstd, real files: small executables stand in for the headless shell, Node and ffmpeg (the real ones
are unpacked and run by tests/integration/test_recorder_container.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from recorder.packed import UnpackError, unpack_tools

pytestmark = pytest.mark.skipif(shutil.which("zstd") is None, reason="zstd is not installed")


def _pack(src_dir: Path, name: str, script: str) -> None:
    plain = src_dir / name.removesuffix(".zst")
    plain.write_text(script)
    subprocess.run(["zstd", "-q", "--long=27", "--rm", str(plain), "-o", str(src_dir / name)], check=True)


def test_unpacks_each_tool_points_its_variable_at_it_and_links_chromium_data(tmp_path: Path) -> None:
    packed, scratch, chromium = tmp_path / "packed", tmp_path / "scratch", tmp_path / "chromium"
    packed.mkdir()
    chromium.mkdir()
    (chromium / "icudtl.dat").write_bytes(b"icu")
    (chromium / "headless_lib_data.pak").write_bytes(b"pak")
    _pack(packed, "chromium-headless-shell.zst", "#!/bin/sh\necho chromium \"$@\"\n")
    _pack(packed, "node.zst", "#!/bin/sh\necho node\n")
    _pack(packed, "ffmpeg.zst", "#!/bin/sh\necho ffmpeg\n")
    env = {"REELWRIGHT_PACKED": str(packed), "REELWRIGHT_WORK_DIR": str(scratch)}
    out = unpack_tools(env, siblings_root=chromium)
    assert set(out) == {"REELWRIGHT_CHROMIUM", "PLAYWRIGHT_NODEJS_PATH", "REELWRIGHT_FFMPEG"}
    assert all(env[k] == v for k, v in out.items())
    for var, word in (("REELWRIGHT_CHROMIUM", "chromium"), ("PLAYWRIGHT_NODEJS_PATH", "node"),
                      ("REELWRIGHT_FFMPEG", "ffmpeg")):
        path = Path(out[var])
        assert path.is_relative_to(scratch / "tools")
        assert subprocess.run([str(path)], capture_output=True, text=True, check=True).stdout.split()[0] == word
    shell = Path(out["REELWRIGHT_CHROMIUM"])
    assert (shell.parent / "icudtl.dat").read_bytes() == b"icu"  # Chromium reads its data beside itself
    assert (shell.parent / "headless_lib_data.pak").is_symlink()
    # a second call (same task) reuses what is there
    before = shell.stat().st_mtime_ns
    assert unpack_tools(dict(env), siblings_root=chromium) == out
    assert shell.stat().st_mtime_ns == before


def test_nothing_to_do_without_a_packed_folder(tmp_path: Path) -> None:
    env = {"REELWRIGHT_WORK_DIR": str(tmp_path)}
    assert unpack_tools(env) == {} and env == {"REELWRIGHT_WORK_DIR": str(tmp_path)}


def test_a_corrupt_archive_fails_naming_it(tmp_path: Path) -> None:
    packed = tmp_path / "packed"
    packed.mkdir()
    (packed / "node.zst").write_bytes(b"not zstd at all")
    with pytest.raises(UnpackError, match=r"could not unpack .*node\.zst"):
        unpack_tools({"REELWRIGHT_PACKED": str(packed), "REELWRIGHT_WORK_DIR": str(tmp_path / "s")})
    assert not list((tmp_path / "s" / "tools" / "node").glob("node*"))  # no half-written tool left
