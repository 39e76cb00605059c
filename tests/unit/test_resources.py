"""resource_path finds resources/ from a checkout, inside a frozen bundle, and from an override."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.core.errors import ToolMissingError
from app.core.infra import resources

REPO = Path(__file__).resolve().parents[2]


def test_source_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(resources.RESOURCES_ENV, raising=False)
    assert resources.resource_path("testpages", "clock.html") == REPO / "resources" / "testpages" / "clock.html"
    assert resources.resource_path("testpages", "clock.html").is_file()


def test_frozen_bundle_comes_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(resources.RESOURCES_ENV, raising=False)
    (tmp_path / "resources" / "examples").mkdir(parents=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resource_path("examples") == tmp_path / "resources" / "examples"


def test_override_and_its_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(resources.RESOURCES_ENV, str(tmp_path))
    assert resources.resource_path("x.png") == tmp_path / "x.png"
    with pytest.raises(ValueError, match="leaves the resources folder"):
        resources.resource_path("..", "etc", "passwd")
    monkeypatch.setenv(resources.RESOURCES_ENV, str(tmp_path / "missing"))
    with pytest.raises(ToolMissingError, match="REELWRIGHT_RESOURCES"):
        resources.resource_path("x.png")
