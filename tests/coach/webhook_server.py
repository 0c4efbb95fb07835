"""A real HTTP server on 127.0.0.1 standing in for Teams and Slack incoming webhooks.

It runs in a thread on a free port; each POST is recorded (path, headers, JSON body) and
answered by the next scripted status for its path (default 200 "1", like Teams).
"""

from __future__ import annotations

import collections
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


class WebhookServer:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._script: dict[str, collections.deque[int | float]] = collections.defaultdict(
            collections.deque
        )
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with server._lock:
                    server.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    queue = server._script[self.path]
                    behaviour = queue.popleft() if queue else 200
                if isinstance(behaviour, float):  # stall longer than the client's timeout
                    threading.Event().wait(behaviour)
                    behaviour = 200
                payload = b"1" if behaviour < 300 else b"error"
                self.send_response(behaviour)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that timed out closed the socket: expected in the tests

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def script(self, path: str, *behaviours: int | float) -> None:
        """Next answers for ``path``: HTTP status codes, or a float = seconds to stall."""
        self._script[path].extend(behaviours)

    def to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self._script.clear()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
