"""Serve a job's static site on loopback while it renders.

The files come from :meth:`app.core.bundle.Job.site_files` (URL path -> file on disk), so a bundle's
content-addressed assets are served under their original names.  Only GET/HEAD; loopback only.

Documents are served ``no-store`` and everything else (stylesheets, scripts, fonts, images) as
cacheable (:data:`ASSET_CACHE_CONTROL`).  Why: a page's subresources arrive from this server in an
order that depends on the machine's load, and Blink's work depends on that order.  Seen: when the
stylesheet and a deferred script finished loading in one batch, Blink styled and laid out the page
before running the script, so a theme the script sets came in through the page's CSS transition in
one render and was there from the first frame in another (docs/troubleshooting.md, "Two renders of
the same flow differ after a click that opens a page").  Served from the browser's cache, every page
after the first gets its assets in the same order every time.  The site is static and the browser
context lives for one render, so nothing stale is ever shown.
"""

from __future__ import annotations

import mimetypes
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

_EXTRA_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
                ".svg": "image/svg+xml", ".json": "application/json", ".woff2": "font/woff2",
                ".webp": "image/webp", ".html": "text/html; charset=utf-8"}


#: the Cache-Control of everything but documents (see the module's doc); documents are ``no-store``
ASSET_CACHE_CONTROL = "max-age=86400"
_DOCUMENTS = (".html", ".htm")  # a name without an extension is served as a folder's index.html


class SiteServer:
    def __init__(self, files: Mapping[str, Path]) -> None:
        self.files = dict(files)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[str] = []

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("server not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _lookup(self, url_path: str) -> Path | None:
        rel = unquote(urlsplit(url_path).path).lstrip("/")
        candidates = [rel] if rel and not rel.endswith("/") else []
        candidates.append(rel + "index.html" if (rel.endswith("/") or not rel) else rel + "/index.html")
        for c in candidates:
            if c in self.files:
                return self.files[c]
        return None

    def start(self) -> SiteServer:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, head_only: bool) -> None:
                site.requests.append(self.path)
                path = site._lookup(self.path)
                if path is None:
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return
                data = path.read_bytes()
                name = unquote(urlsplit(self.path).path)
                if name.endswith("/") or "." not in name.rsplit("/", 1)[-1]:
                    name = "index.html"
                ext = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
                ctype = _EXTRA_TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream"
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store" if ext in _DOCUMENTS else ASSET_CACHE_CONTROL)
                self.end_headers()
                if not head_only:
                    self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(False)

            def do_HEAD(self) -> None:
                self._send(True)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        server = self._server
        # a short poll interval: shutdown() waits for it, and every render stops a server
        self._thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05),
                                        name="reelwright-site", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
