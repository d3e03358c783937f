"""A JSON HTTP server in a thread, for the unit tests' fakes of external services
(Keystone in test_keystone_auth.py and test_dashboard_server.py): subclass
:class:`JsonHandler` with ``do_GET``/``do_POST`` answering through ``send_json``, and
serve it with :class:`FakeServer` on a free 127.0.0.1 port until ``close()``."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet request handler that answers JSON."""

    def log_message(self, *args: Any) -> None:
        pass

    def send_json(self, status: int, body: Any = None,
                  headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` with ``body`` as JSON (no body when None) and ``headers``."""
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


class FakeServer:
    """``handler`` served by a daemon thread; ``url`` is ``http://127.0.0.1:<port>`` plus
    ``path``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], path: str = "") -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
