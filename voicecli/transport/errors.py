"""Transport failures that are not yet user-facing errors."""

from __future__ import annotations


class HandshakeRejected(Exception):
    """The server answered the upgrade (or an HTTP call) with a non-success status.
    The adapter turns it into a user-facing error (``Adapter.handshake_error``)."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


class ConnectionEnded(Exception):
    """The socket closed; ``code``/``reason`` are what the peer sent (None: no close frame)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed ({code}) {reason}")
        self.code = code
        self.reason = reason
