"""Test helpers for browser provisioning: a loopback HTTP server standing in for Playwright's download
host, and zip archives laid out like the real headless-shell download but holding a FAKE shell script."""

from __future__ import annotations

import io
import os
import shutil
import stat
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from app.core.infra import browser_provision as bp

BUILD = bp.HeadlessShellBuild(revision="1255", browser_version="159.0.8154.6", platform="linux64")
ARCHIVE_PATH = "/builds/cft/159.0.8154.6/linux64/chrome-headless-shell-linux64.zip"

#: stands in for Chrome for Testing's headless shell: answers --version like the real one
FAKE_SHELL = b"#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Fake Headless Shell 159.0.8154.6'; exit 0; fi\nexit 1\n"


def fake_shell_archive(*, executable: bytes = FAKE_SHELL, padding: int = 0, extra: dict[str, bytes] | None = None,
                       folder: str = "chrome-headless-shell-linux64") -> bytes:
    """A zip laid out like the real download, holding a FAKE shell script instead of Chromium."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        info = zipfile.ZipInfo(f"{folder}/chrome-headless-shell")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        zf.writestr(info, executable)
        zf.writestr(f"{folder}/resources.pak", os.urandom(padding) if padding else b"pak")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


class LoopbackDownloadHost:
    """A stand-in for the browser download host, serving fixed files on 127.0.0.1.

    ``truncate`` makes it announce the full length but send only half and close."""

    def __init__(self) -> None:
        self.files: dict[str, bytes | Path] = {}  # bytes, or a file streamed from disk
        self.truncate = False
        self.requests: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.requests.append(self.path)
                body = host.files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                if isinstance(body, Path):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/zip")
                    self.send_header("Content-Length", str(body.stat().st_size))
                    self.end_headers()
                    with open(body, "rb") as f:
                        shutil.copyfileobj(f, self.wfile, 1 << 20)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if host.truncate else body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


