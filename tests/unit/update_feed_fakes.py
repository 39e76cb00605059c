"""A local HTTP server standing in for Reelwright's release feed (a fake: the real feed is on the internet,
which tests cannot reach).  Used by the update check's unit and UI tests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeFeed:
    """A local file server standing in for the release feed: serves ``body`` at /latest.json and counts
    requests."""

    def __init__(self) -> None:
        self.body: bytes = b"{}"
        self.status = 200
        self.requests = 0
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                feed.requests += 1
                self.send_response(feed.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(feed.body)))
                self.end_headers()
                self.wfile.write(feed.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/latest.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, doc: object) -> None:
        self.body = json.dumps(doc).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
