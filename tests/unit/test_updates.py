"""The opt-in update check against a local HTTP server standing in for the release feed (a fake feed:
the real one is on the internet, which this machine cannot reach).  It checks the version comparison, the
at-most-daily rule (state in the data folder), both feed forms, and that bad feeds give a sentence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from update_feed_fakes import FakeFeed

from app.workbench.updates import (
    CHECK_INTERVAL_S,
    STATE_FILE,
    UpdateCheckError,
    check_for_update,
    version_key,
)


@pytest.fixture
def feed() -> Iterator[FakeFeed]:
    f = FakeFeed()
    yield f
    f.close()


def test_versions_compare_numerically_and_pre_releases_come_first() -> None:
    assert version_key("0.10.0") > version_key("0.9.9")
    assert version_key("v1.2") == version_key("1.2.0")
    assert version_key("1.3.0rc1") < version_key("1.3.0") < version_key("1.3.1")
    assert version_key("2.0-beta.2") > version_key("2.0-beta.1")
    with pytest.raises(UpdateCheckError, match="not a version"):
        version_key("latest")


def test_newer_version_is_reported_once_a_day(feed: FakeFeed, tmp_path: Path) -> None:
    feed.serve({"version": "0.2.0", "url": "https://example.org/download", "notes": "Faster renders."})
    result = check_for_update(feed.url, "0.1.0", tmp_path, now=1_000_000.0)
    assert result is not None and result.newer is not None
    assert result.message() == "Reelwright 0.2.0 is available (you have 0.1.0)."
    assert result.newer.url == "https://example.org/download"
    assert json.loads((tmp_path / STATE_FILE).read_text())["last_checked"] == 1_000_000.0
    # within the day: no request at all
    assert check_for_update(feed.url, "0.1.0", tmp_path, now=1_000_000.0 + CHECK_INTERVAL_S - 60) is None
    assert feed.requests == 1
    # a day later it asks again; an explicit "check now" always asks
    assert check_for_update(feed.url, "0.1.0", tmp_path, now=1_000_000.0 + CHECK_INTERVAL_S + 1) is not None
    assert check_for_update(feed.url, "0.1.0", tmp_path, now=1_000_000.0 + CHECK_INTERVAL_S + 2,
                            force=True) is not None
    assert feed.requests == 3


def test_current_or_older_feed_says_up_to_date_and_github_form_is_read(feed: FakeFeed, tmp_path: Path) -> None:
    feed.serve({"tag_name": "v0.1.0", "html_url": "https://github.com/reelwright/reelwright/releases/tag/v0.1.0",
                "body": "notes"})
    result = check_for_update(feed.url, "0.1.0", tmp_path)
    assert result is not None and result.newer is None
    assert result.message() == "Reelwright 0.1.0 is the latest version."


@pytest.mark.parametrize(("doc", "status", "words"), [
    ({"url": "https://example.org"}, 200, "no 'version'"),
    ({"version": "soon", "url": "https://example.org"}, 200, "not a version number"),
    ({"version": "9.0", "url": "javascript:alert(1)"}, 200, "'url' must be an http(s) link"),
    ([1, 2], 200, "expected a JSON object"),
    ({"version": "9.0"}, 404, "HTTP 404"),
])
def test_bad_feeds_give_a_sentence_and_leave_no_state(feed: FakeFeed, tmp_path: Path, doc: object, status: int,
                                                      words: str) -> None:
    feed.serve(doc)
    feed.status = status
    with pytest.raises(UpdateCheckError, match=words.replace("(", r"\(").replace(")", r"\)")) as info:
        check_for_update(feed.url, "0.1.0", tmp_path)
    assert feed.url in str(info.value)
    assert not (tmp_path / STATE_FILE).exists()  # a failed check is retried next start


def test_unreachable_feed_and_wrong_scheme(tmp_path: Path) -> None:
    with pytest.raises(UpdateCheckError, match="unreachable"):
        check_for_update("http://127.0.0.1:9/latest.json", "0.1.0", tmp_path, timeout_s=5)
    with pytest.raises(UpdateCheckError, match="not an http"):
        check_for_update("file:///etc/passwd", "0.1.0", tmp_path)
