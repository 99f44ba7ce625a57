"""A small OpenAI-compatible chat server for tests: streams scripted SSE replies."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Script = Callable[["Handler", dict[str, Any]], None]


def chunk(content: str | None = None, role: str | None = None, finish: str | None = None) -> bytes:
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    event = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(event)}\n\n".encode()


class Handler(BaseHTTPRequestHandler):
    server: FakeLlm

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        self.server.script(self, body)

    def start_sse(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def send(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()


def stream_words(text: str) -> Script:
    """Reply ``text`` a few characters per event, like a real model."""

    def script(handler: Handler, body: dict[str, Any]) -> None:
        handler.start_sse()
        handler.send(chunk(role="assistant", content=""))
        for i in range(0, len(text), 4):
            handler.send(chunk(text[i : i + 4]))
        handler.send(chunk(finish="stop"))
        handler.send(b"data: [DONE]\n\n")

    return script


class FakeLlm(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict[str, Any]] = []
        self.script: Script = stream_words("Hello there.")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def running() -> Iterator[FakeLlm]:
    server = FakeLlm()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
