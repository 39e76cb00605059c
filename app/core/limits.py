"""Every size limit on what Reelwright reads, in one place.

The models (and so the published JSON Schema), the validators, the bundle reader and the docs'
table of limits (``docs/troubleshooting.md``, checked by a test against :func:`limits_table`) all take
their numbers from here.  The values are generous for real demos and small enough that a hostile or
broken input is refused at validation, before a browser, a voice or ffmpeg starts: a 1 MB narration
would otherwise keep Piper busy for many minutes, and a zip bomb would fill the disk.
"""

from __future__ import annotations

from dataclasses import dataclass

# --------------------------------------------------------------------------- script documents

#: bytes of one script / job.json file (the cloud recorder refuses more than 16 MiB too)
MAX_SCRIPT_BYTES = 16 * 1024 * 1024
#: nesting of JSON arrays/objects; checked on the text before ``json.loads`` recurses
MAX_JSON_DEPTH = 64
#: characters of one JSON number (a 5000-digit integer is not a setting anyone meant)
MAX_NUMBER_CHARS = 40

MAX_CARDS = 500
MAX_ACTIONS_PER_CARD = 200
MAX_ACTIONS_PER_SCRIPT = 5_000
#: characters of narration per card (about 6 minutes of speech) and per script, per language
MAX_NARRATION_CHARS = 5_000
MAX_SCRIPT_NARRATION_CHARS = 100_000
#: script title, card titles, highlight labels
MAX_TITLE_CHARS = 200
#: text typed or filled into the page (``type`` is typed visibly, key by key)
MAX_TYPED_CHARS = 2_000
#: one URL (goto, base_url, wait_for url)
MAX_URL_CHARS = 2_048
#: one locator string (css, role name, text, label...), and one file/asset path
MAX_LOCATOR_CHARS = 1_000
MAX_PATH_CHARS = 1_000
#: files set by one ``upload`` action, options picked by one ``select``
MAX_LIST_ITEMS = 100

# --------------------------------------------------------------------------- assets and bundles

#: one asset file (a site file, an upload, a music track)
MAX_ASSET_BYTES = 512 * 1024 * 1024
#: an intro/outro logo
MAX_LOGO_BYTES = 10 * 1024 * 1024
#: the zip file itself
MAX_BUNDLE_ZIP_BYTES = 1024**3
#: everything a bundle unpacks to, and its number of entries
MAX_BUNDLE_BYTES = 2 * 1024**3
MAX_BUNDLE_FILES = 20_000
#: files in a served site folder
MAX_SITE_FILES = 10_000
#: uncompressed/compressed size of one zip entry; only checked for entries above the floor, since a
#: small file of repeated bytes legitimately compresses better than this
MAX_COMPRESSION_RATIO = 200
COMPRESSION_RATIO_FLOOR_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Limit:
    what: str
    value: str


def _n(v: int) -> str:
    return f"{v:,}"


def _bytes(v: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if v >= size and v % size == 0:
            return f"{v // size} {unit}"
    return f"{v:,} bytes"


def limits_table() -> list[Limit]:
    """The limits as the docs state them (a test keeps docs/troubleshooting.md in step)."""
    return [
        Limit("script or job.json file", _bytes(MAX_SCRIPT_BYTES)),
        Limit("JSON nesting depth", _n(MAX_JSON_DEPTH)),
        Limit("characters in one JSON number", _n(MAX_NUMBER_CHARS)),
        Limit("cards per script", _n(MAX_CARDS)),
        Limit("actions per card", _n(MAX_ACTIONS_PER_CARD)),
        Limit("actions per script", _n(MAX_ACTIONS_PER_SCRIPT)),
        Limit("narration per card (characters)", _n(MAX_NARRATION_CHARS)),
        Limit("narration per script, per language (characters)", _n(MAX_SCRIPT_NARRATION_CHARS)),
        Limit("titles and labels (characters)", _n(MAX_TITLE_CHARS)),
        Limit("text of one fill/type action (characters)", _n(MAX_TYPED_CHARS)),
        Limit("one URL (characters)", _n(MAX_URL_CHARS)),
        Limit("one locator string (characters)", _n(MAX_LOCATOR_CHARS)),
        Limit("one asset path (characters)", _n(MAX_PATH_CHARS)),
        Limit("files per upload, options per select", _n(MAX_LIST_ITEMS)),
        Limit("one asset file", _bytes(MAX_ASSET_BYTES)),
        Limit("one intro/outro logo", _bytes(MAX_LOGO_BYTES)),
        Limit("files in the site folder", _n(MAX_SITE_FILES)),
        Limit("bundle zip file", _bytes(MAX_BUNDLE_ZIP_BYTES)),
        Limit("bundle contents, unpacked", _bytes(MAX_BUNDLE_BYTES)),
        Limit("entries in a bundle", _n(MAX_BUNDLE_FILES)),
        Limit("compression ratio of one zip entry over "
              f"{_bytes(COMPRESSION_RATIO_FLOOR_BYTES)}", f"{MAX_COMPRESSION_RATIO}:1"),
    ]


def limits_markdown() -> str:
    """The table of limits in Markdown, as it appears in docs/troubleshooting.md."""
    rows = ["| what | limit |", "|---|---|"]
    rows += [f"| {lim.what} | {lim.value} |" for lim in limits_table()]
    return "\n".join(rows)
