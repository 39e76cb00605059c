"""Cancel plumbing without a browser: the CLI's signal handling (real signals to a real process),
stale work folders, failures during a cancel, and how Piper's input is cut into blocks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.errors import Cancelled, RenderError
from app.core.infra.progress import CancelToken
from app.core.render import OWNER_FILE, _as_cancel, _owner_text, make_work_dir, remove_stale_work_dirs
from app.core.voice.piper import MAX_SENTENCE_CHARS, PHONEMIZE_BLOCK_CHARS, text_blocks

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- run_cancellable

CHILD = r"""
import asyncio, sys, time
from app.cli import run_cancellable
from app.core.errors import Cancelled

async def work(cancel):
    try:
        print("ready", flush=True)
        await asyncio.sleep(3600)  # never looks at the token: only a task cancel ends it
    finally:
        # a bounded clean-up that a second signal must not cut short
        await asyncio.sleep(float(sys.argv[1]))
        print("cleaned", flush=True)

try:
    run_cancellable(work)
except Cancelled as exc:
    print(f"Cancelled: {exc}", flush=True)
    sys.exit(130)
"""


def _child(cleanup_s: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(cleanup_s)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_cancels_an_await_that_never_polls_the_token(sig: int) -> None:
    proc = _child(0.0)
    t0 = time.monotonic()
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    took = time.monotonic() - t0
    print(f"\n{signal.Signals(sig).name}: exit {proc.returncode} after {took * 1000:.0f} ms")
    assert proc.returncode == 130
    assert out.split("\n")[:2] == ["cleaned", "Cancelled: cancelled"]
    assert took < 1.5


def test_a_second_signal_does_not_cut_the_clean_up_short() -> None:
    proc = _child(0.6)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)  # inside the clean-up now (it takes 0.6 s)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "cleaned" in out.split("\n"), "the clean-up was interrupted"


# --------------------------------------------------------------------------- work folders


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_stale_work_folders_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    host = socket.gethostname()
    dead = tmp_path / ".v.reelwright-dead"
    dead.mkdir()
    (dead / OWNER_FILE).write_text(f"{host} {_dead_pid()} 12345\n")
    (dead / "video-only.mp4").write_bytes(b"x" * 100)
    reused = tmp_path / ".v.reelwright-reused"  # our pid, but another start time: a reused pid
    reused.mkdir()
    (reused / OWNER_FILE).write_text(f"{host} {os.getpid()} 1\n")
    alive = tmp_path / ".v.reelwright-alive"
    alive.mkdir()
    (alive / OWNER_FILE).write_text(_owner_text())
    elsewhere = tmp_path / ".v.reelwright-elsewhere"  # another machine sharing the folder
    elsewhere.mkdir()
    (elsewhere / OWNER_FILE).write_text(f"not-{host} {_dead_pid()} 1\n")
    old_unowned = tmp_path / ".w.reelwright-old"
    old_unowned.mkdir()
    os.utime(old_unowned, (time.time() - 7200, time.time() - 7200))
    new_unowned = tmp_path / ".w.reelwright-new"
    new_unowned.mkdir()
    unrelated = tmp_path / ".cache"
    unrelated.mkdir()

    removed = remove_stale_work_dirs(tmp_path)

    assert sorted(p.name for p in removed) == sorted([dead.name, reused.name, old_unowned.name])
    assert alive.is_dir() and elsewhere.is_dir() and new_unowned.is_dir() and unrelated.is_dir()


def test_a_work_folder_names_its_owner_and_clears_stale_ones_first(tmp_path: Path) -> None:
    dead = tmp_path / ".v.reelwright-dead"
    dead.mkdir()
    (dead / OWNER_FILE).write_text(f"{socket.gethostname()} {_dead_pid()} 1\n")
    work = make_work_dir(tmp_path, "v")
    assert not dead.exists()
    host, pid, start = (work / OWNER_FILE).read_text().split()
    assert (host, int(pid)) == (socket.gethostname(), os.getpid()) and start.isdigit()
    assert work.name.startswith(".v.reelwright-")


# --------------------------------------------------------------------------- failures during a cancel


def test_a_failure_after_the_cancel_is_the_cancel_and_loses_its_screenshot(tmp_path: Path) -> None:
    shot = tmp_path / "v.error-card2-action1.jpg"
    shot.write_bytes(b"jpeg")
    exc = RenderError("type failed in the browser: Target page, context or browser has been closed",
                      card_index=1, screenshot=shot)
    cancel = CancelToken()
    assert _as_cancel(exc, cancel) is exc, "without a cancel, a failure is the failure"
    assert shot.exists()
    cancel.cancel()
    converted = _as_cancel(exc, cancel)
    assert isinstance(converted, Cancelled)
    assert not shot.exists()
    assert _as_cancel(KeyboardInterrupt(), cancel).__class__ is KeyboardInterrupt


# --------------------------------------------------------------------------- Piper's blocks


def test_ordinary_narration_is_one_block_voiced_as_piper_would() -> None:
    text = "Open the settings. Then choose a plan, and save it!"
    assert text_blocks(text) == [text]
    assert text_blocks("") == []


def test_long_narration_is_cut_between_sentences_and_keeps_every_word() -> None:
    sentences = [f"Sentence {i} says something useful about the product." for i in range(200)]
    text = " ".join(sentences)
    blocks = text_blocks(text)
    assert len(blocks) > 1
    assert all(len(b) <= PHONEMIZE_BLOCK_CHARS for b in blocks)
    assert " ".join(blocks) == text
    assert all(b.endswith(".") for b in blocks), "blocks end at sentence ends"


def test_an_over_long_sentence_is_cut_at_spaces_into_blocks_of_its_own() -> None:
    run_on = " ".join(["word"] * 400)  # 1,999 characters, no full stop
    text = f"A short start. {run_on}. A short end."
    blocks = text_blocks(text)
    assert blocks[0] == "A short start." and blocks[-1] == "A short end."
    middle = blocks[1:-1]
    assert all(len(b) <= MAX_SENTENCE_CHARS for b in middle)
    assert " ".join(middle) == run_on + "."
    assert text_blocks("x" * 1000) == ["x" * 400, "x" * 400, "x" * 200], "no space: cut anyway"
