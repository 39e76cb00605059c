"""Finding Chromium and ffmpeg: environment overrides, search order, and what to install when missing."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import ToolMissingError
from app.core.infra import tools
from app.core.infra.tools import CHROMIUM_ARGS, find_browser, find_ffmpeg, find_ffprobe


@pytest.fixture(autouse=True)
def _fresh_tool_cache() -> Iterator[None]:
    # ffmpeg/ffprobe lookups are cached per process: never leak a test's environment into others
    find_ffmpeg.cache_clear()
    find_ffprobe.cache_clear()
    yield
    find_ffmpeg.cache_clear()
    find_ffprobe.cache_clear()


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def bare_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A machine with no browser or ffmpeg where the finders look (empty PATH, empty home)."""
    for var in ("REELWRIGHT_CHROMIUM", "REELWRIGHT_FFMPEG", "REELWRIGHT_FFPROBE", "REELWRIGHT_SYSTEM_FFMPEG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "pw"))
    monkeypatch.setattr(tools, "_HEADLESS_SHELL_CANDIDATES", (str(tmp_path / "no-shell"),))
    monkeypatch.setattr(tools, "_CHROMIUM_CANDIDATES", (str(tmp_path / "no-chromium"),))
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # the bundled ffmpeg wheel is absent
    return tmp_path


# --------------------------------------------------------------------------- browser


def test_chromium_override_is_used_and_kind_read_from_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shell = _exe(tmp_path / "chromium-headless-shell")
    monkeypatch.setenv("REELWRIGHT_CHROMIUM", str(shell))
    assert find_browser() == tools.Browser(shell, "headless-shell")
    full = _exe(tmp_path / "chrome")
    monkeypatch.setenv("REELWRIGHT_CHROMIUM", str(full))
    assert find_browser() == tools.Browser(full, "chromium")


def test_chromium_override_pointing_nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REELWRIGHT_CHROMIUM", str(tmp_path / "nope"))
    with pytest.raises(ToolMissingError) as info:
        find_browser()
    assert str(tmp_path / "nope") in str(info.value) and "does not exist" in str(info.value)
    assert info.value.exit_code == 3


def test_no_browser_says_what_to_install(bare_machine: Path) -> None:
    with pytest.raises(ToolMissingError) as info:
        find_browser()
    err = info.value
    assert err.message == "no Chromium found for rendering"
    assert err.hint and "apt-get install chromium-headless-shell chromium" in err.hint
    assert "REELWRIGHT_CHROMIUM" in err.hint
    assert "hint:" in str(err)


def test_headless_shell_preferred_over_full_chromium(bare_machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shell = _exe(bare_machine / "usr" / "chromium-headless-shell")
    full = _exe(bare_machine / "bin" / "chromium")  # on PATH
    monkeypatch.setattr(tools, "_HEADLESS_SHELL_CANDIDATES", (str(shell),))
    assert find_browser() == tools.Browser(shell, "headless-shell")
    assert find_browser("chromium") == tools.Browser(full, "chromium")


def test_playwright_managed_headless_shell_is_found(bare_machine: Path) -> None:
    old = _exe(bare_machine / "pw" / "chromium_headless_shell-1100" / "chrome-linux" / "headless_shell")
    new = _exe(bare_machine / "pw" / "chromium_headless_shell-1200" / "chrome-linux" / "headless_shell")
    found = find_browser()
    assert found.kind == "headless-shell"
    assert found.path == new and found.path != old  # the newest build first


def test_full_chromium_alone_is_used_for_real_time_capture(bare_machine: Path) -> None:
    full = _exe(bare_machine / "bin" / "chromium")
    assert find_browser() == tools.Browser(full, "chromium")


def test_chromium_args_never_phone_home() -> None:
    for flag in ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"):
        assert flag in CHROMIUM_ARGS
    assert len(set(CHROMIUM_ARGS)) == len(CHROMIUM_ARGS)


# --------------------------------------------------------------------------- ffmpeg / ffprobe


def test_ffmpeg_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ff = _exe(tmp_path / "my-ffmpeg")
    monkeypatch.setenv("REELWRIGHT_FFMPEG", str(ff))
    assert find_ffmpeg() == ff


def test_ffmpeg_override_pointing_nowhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REELWRIGHT_FFMPEG", str(tmp_path / "gone"))
    with pytest.raises(ToolMissingError, match="REELWRIGHT_FFMPEG points to"):
        find_ffmpeg()


def test_system_ffmpeg_when_preferred(bare_machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = _exe(bare_machine / "bin" / "ffmpeg")
    monkeypatch.setenv("REELWRIGHT_SYSTEM_FFMPEG", "1")
    assert find_ffmpeg() == system


def test_system_ffmpeg_is_the_fallback_without_the_wheel(bare_machine: Path) -> None:
    system = _exe(bare_machine / "bin" / "ffmpeg")
    assert find_ffmpeg() == system


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs a system ffmpeg next to the wheel")
def test_bundled_ffmpeg_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    for var in ("REELWRIGHT_FFMPEG", "REELWRIGHT_SYSTEM_FFMPEG"):
        monkeypatch.delenv(var, raising=False)
    assert find_ffmpeg() == Path(imageio_ffmpeg.get_ffmpeg_exe())
    find_ffmpeg.cache_clear()
    monkeypatch.setenv("REELWRIGHT_SYSTEM_FFMPEG", "1")
    assert find_ffmpeg() == Path(str(shutil.which("ffmpeg")))


def test_no_ffmpeg_says_what_to_install(bare_machine: Path) -> None:
    with pytest.raises(ToolMissingError) as info:
        find_ffmpeg()
    assert info.value.message == "ffmpeg not found"
    assert info.value.hint == "pip install imageio-ffmpeg, or apt-get install ffmpeg"


def test_ffprobe_is_optional(bare_machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_ffprobe() is None
    find_ffprobe.cache_clear()
    probe = _exe(bare_machine / "bin" / "ffprobe")
    assert find_ffprobe() == probe
    find_ffprobe.cache_clear()
    custom = _exe(bare_machine / "custom" / "probe")
    monkeypatch.setenv("REELWRIGHT_FFPROBE", str(custom))
    assert find_ffprobe() == custom
    find_ffprobe.cache_clear()
    monkeypatch.setenv("REELWRIGHT_FFPROBE", str(bare_machine / "missing"))
    assert find_ffprobe() == probe  # a broken override falls back to PATH


def test_the_sandbox_flag_is_dropped_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.infra.tools import SANDBOX_ENV, chromium_args, chromium_sandbox

    monkeypatch.delenv(SANDBOX_ENV, raising=False)
    assert "--no-sandbox" in chromium_args() and not chromium_sandbox()
    monkeypatch.setenv(SANDBOX_ENV, "1")
    assert "--no-sandbox" not in chromium_args() and chromium_sandbox()
    assert set(chromium_args()) == set(CHROMIUM_ARGS) - {"--no-sandbox"}
