"""A small, real OpenAI-compatible HTTP server for the tests of the ``openai`` backend.

It listens on 127.0.0.1 on a free port, in a thread, and speaks enough of the API for the
real SDK to run end to end: ``POST /v1/chat/completions`` (JSON, or server-sent events with
``stream: true`` and usage in a last chunk when ``stream_options.include_usage``),
``POST /v1/embeddings`` (deterministic vectors from a hash of each input) and
``GET /v1/models``.

Tests script it per path with :meth:`FakeOpenAI.enqueue`; each request takes the next
behaviour, and an empty queue gives the default answer::

    fake.enqueue(CHAT, Status(429, headers={"retry-after-ms": "10"}), Reply("Bonjour"))
    fake.enqueue(CHAT, Stall(5))                     # longer than the client's timeout
    fake.enqueue(CHAT, Reply('{"pas": "valide"'))    # invalid JSON for a schema call

Every request is recorded in :attr:`FakeOpenAI.requests` (method, path, lower-case headers,
JSON body).
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

CHAT = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
MODELS = "/v1/models"


@dataclass
class Reply:
    """A successful chat answer (JSON or streamed). ``cut_after`` drops the connection after
    that many content chunks of a stream."""

    content: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cut_after: int | None = None
    usage: bool = True
    #: Seconds between two content chunks of a stream (a slow model).
    chunk_delay: float = 0.0


@dataclass
class Status:
    """An error response, e.g. ``Status(429, headers={"retry-after-ms": "10"})``."""

    code: int
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "erreur simulée"


@dataclass
class Stall:
    """Wait this long before answering (or until the server is reset or stopped)."""

    seconds: float


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


def fake_vector(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for ``text``."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dimensions).astype(np.float32)
    return (vector / np.linalg.norm(vector)).tolist()


def _words(text: str) -> list[str]:
    # Split into word-with-trailing-space pieces: joined back they give the text exactly.
    return re.findall(r"\S+\s*|\s+", text)


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.embedding_dimensions = 384
        self.default_content = "Voici une réponse de test."
        self._script: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control --

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._wake.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset(self) -> None:
        """Forget requests and scripts; wake any stalled handler."""
        with self._lock:
            self.requests.clear()
            self._script.clear()
            self._wake.set()
            self._wake = threading.Event()
        self.embedding_dimensions = 384

    def enqueue(self, path: str, *behaviours: Reply | Status | Stall) -> None:
        with self._lock:
            self._script[path].extend(behaviours)

    def requests_to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- used by the handler --

    def _take(self, path: str, recorded: Recorded) -> tuple[Any, threading.Event]:
        with self._lock:
            self.requests.append(recorded)
            queue = self._script.get(path)
            return (queue.popleft() if queue else None), self._wake


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    # -- plumbing --

    def _send_json(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_error(self, status: Status) -> None:
        kind = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(status.code, "error")
        self._send_json(
            status.code,
            {"error": {"message": status.message, "type": kind, "param": None, "code": kind}},
            status.headers,
        )

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return raw.decode(errors="replace")

    def _begin(self) -> tuple[Any, Any] | None:
        """Record the request and apply the scripted behaviour; None when already answered."""
        body = self._read_body() if self.command == "POST" else None
        path = self.path.split("?")[0]
        headers = {name.lower(): value for name, value in self.headers.items()}
        recorded = Recorded(self.command, path, headers, body)
        behaviour, wake = self.server_fake._take(path, recorded)
        if isinstance(behaviour, Stall):
            wake.wait(behaviour.seconds)
            behaviour = None
        if isinstance(behaviour, Status):
            self._send_error(behaviour)
            return None
        return body, behaviour

    def do_GET(self) -> None:
        try:
            began = self._begin()
            if began is None:
                return
            if self.path.split("?")[0] == MODELS:
                self._send_json(
                    200,
                    {
                        "object": "list",
                        "data": [
                            {"id": "campus-test", "object": "model", "owned_by": "campus"},
                            {"id": "campus-embed", "object": "model", "owned_by": "campus"},
                        ],
                    },
                )
            else:
                self._send_error(Status(404, message="not found"))
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            pass

    def do_POST(self) -> None:
        try:
            began = self._begin()
            if began is None:
                return
            body, behaviour = began
            path = self.path.split("?")[0]
            if path == CHAT:
                self._chat(body, behaviour)
            elif path == EMBEDDINGS:
                self._embeddings(body)
            else:
                self._send_error(Status(404, message="not found"))
        except (BrokenPipeError, ConnectionResetError):
            pass

    # -- endpoints --

    def _chat(self, body: dict[str, Any], behaviour: Reply | None) -> None:
        reply = behaviour or Reply(self.server_fake.default_content)
        messages = body.get("messages", [])
        prompt_tokens = reply.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        completion_tokens = reply.completion_tokens
        if completion_tokens is None:
            completion_tokens = len(reply.content.split())
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        model = body.get("model", "")
        created = int(time.time())
        if not body.get("stream"):
            self._send_json(
                200,
                {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage if reply.usage else None,
                },
            )
            return

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(data: str) -> None:
            payload = f"data: {data}\n\n".encode()
            self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
            self.wfile.flush()

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        event(json.dumps(chunk({"role": "assistant", "content": ""})))
        for number, piece in enumerate(_words(reply.content), start=1):
            if reply.chunk_delay and number > 1:
                time.sleep(reply.chunk_delay)
            event(json.dumps(chunk({"content": piece})))
            if reply.cut_after is not None and number >= reply.cut_after:
                # End the connection in the middle of the chunked body, as a crash would.
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
        event(json.dumps(chunk({}, "stop")))
        if reply.usage and (body.get("stream_options") or {}).get("include_usage"):
            last = chunk({})
            last["choices"] = []
            last["usage"] = usage
            event(json.dumps(last))
        event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _embeddings(self, body: dict[str, Any]) -> None:
        inputs = body.get("input", [])
        if isinstance(inputs, str):
            inputs = [inputs]
        dimensions = self.server_fake.embedding_dimensions
        data = []
        for index, text in enumerate(inputs):
            vector = fake_vector(text, dimensions)
            if body.get("encoding_format") == "base64":
                encoded: Any = base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
            else:
                encoded = vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(len(text.split()) for text in inputs)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model", ""),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )
