"""The loopback static-site server a render uses for a bundled site (real sockets, real HTTP)."""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.core.infra.siteserver import ASSET_CACHE_CONTROL, SiteServer


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp_path = tmp_path_factory.mktemp("site")
    contents = {
        "index.html": b"<h1>home</h1>",
        "docs/index.html": b"<h1>docs</h1>",
        "app.js": b"console.log(1)",
        "css/site.css": b"body{}",
        "img/logo.svg": b"<svg/>",
        "img/photo.png": b"\x89PNG fake",
        "data/items.json": b"[1,2]",
        "fonts/a.woff2": b"wOF2",
        "my file.txt": b"spaced",
    }
    out: dict[str, Path] = {}
    for i, (rel, data) in enumerate(contents.items()):
        # stored under content-addressed-like names, as in a bundle: the URL name is the mapping's key
        p = tmp_path / f"blob{i}"
        p.write_bytes(data)
        out[rel] = p
    (tmp_path / "not-mapped.html").write_bytes(b"secret")
    return out


@pytest.fixture(scope="module")
def server(files: dict[str, Path]) -> Iterator[SiteServer]:
    # one server for the module: stopping one waits out serve_forever's 0.5 s poll
    with SiteServer(files) as s:
        yield s


def _get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_binds_loopback_only(server: SiteServer) -> None:
    parts = urlsplit(server.base_url)
    assert parts.scheme == "http" and parts.hostname == "127.0.0.1"
    assert parts.port and parts.port > 0


def test_base_url_needs_a_started_server(files: dict[str, Path]) -> None:
    s = SiteServer(files)
    with pytest.raises(RuntimeError, match="not started"):
        _ = s.base_url


def test_serves_mapped_files_with_content_types(server: SiteServer) -> None:
    expected = {
        "/index.html": ("text/html; charset=utf-8", b"<h1>home</h1>"),
        "/app.js": ("text/javascript", b"console.log(1)"),
        "/css/site.css": ("text/css", b"body{}"),
        "/img/logo.svg": ("image/svg+xml", b"<svg/>"),
        "/img/photo.png": ("image/png", b"\x89PNG fake"),
        "/data/items.json": ("application/json", b"[1,2]"),
        "/fonts/a.woff2": ("font/woff2", b"wOF2"),
        "/my%20file.txt": ("text/plain", b"spaced"),
    }
    for path, (ctype, body) in expected.items():
        status, headers, data = _get(server.base_url + path)
        assert status == 200, path
        assert headers["Content-Type"] == ctype, path
        assert headers["Content-Length"] == str(len(body))
        # documents are fetched afresh; the rest may come from the browser's cache, so a page's assets
        # reach it in the same order in every render (see the module's doc)
        assert headers["Cache-Control"] == ("no-store" if path.endswith(".html") else ASSET_CACHE_CONTROL), path
        assert data == body
    assert "/index.html" in server.requests and "/my%20file.txt" in server.requests


def test_index_html_for_folders(server: SiteServer) -> None:
    for path, body in (("/", b"<h1>home</h1>"), ("/docs/", b"<h1>docs</h1>"), ("/docs", b"<h1>docs</h1>"),
                       ("/?q=1", b"<h1>home</h1>")):
        status, headers, data = _get(server.base_url + path)
        assert (status, data) == (200, body), path
        assert headers["Content-Type"].startswith("text/html")
        assert headers["Cache-Control"] == "no-store", path


@pytest.mark.parametrize("path", ["/missing.html", "/not-mapped.html", "/img/", "/css", "/blob0"])
def test_404_otherwise(server: SiteServer, path: str) -> None:
    status, _, _ = _get(server.base_url + path)
    assert status == 404


def test_no_path_traversal(server: SiteServer) -> None:
    # urllib would normalise '..' away, so send the raw request line
    conn = http.client.HTTPConnection("127.0.0.1", urlsplit(server.base_url).port, timeout=5)
    for raw in ("/../not-mapped.html", "/%2e%2e/not-mapped.html", "/docs/../../etc/passwd"):
        conn.request("GET", raw)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 404, raw
    conn.close()


def test_head_sends_headers_without_body(server: SiteServer) -> None:
    status, headers, data = _get(server.base_url + "/app.js", method="HEAD")
    assert status == 200 and headers["Content-Length"] == "14" and data == b""


def test_only_get_and_head(server: SiteServer) -> None:
    status, _, _ = _get(server.base_url + "/index.html", method="POST")
    assert status == 501


def test_stop_closes_the_port(files: dict[str, Path]) -> None:
    s = SiteServer(files).start()
    port = urlsplit(s.base_url).port
    assert port is not None
    s.stop()
    with socket.socket() as sock, pytest.raises(OSError):
        sock.settimeout(2)
        sock.connect(("127.0.0.1", port))
