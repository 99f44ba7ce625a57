"""A client connection that gives up at once on a reply that cannot become a WebSocket.

``websockets`` waits for the peer to close (or for the open timeout) after a reply it
cannot parse, and reads the body of a non-101 reply without a length until the peer
closes. A server that answers the upgrade with garbage, or with an unframed HTTP error
page, and holds the socket open would cost the whole open timeout. This connection
drops the socket as soon as the reply cannot be a valid HTTP response, and shortly
after the headers of a non-101 reply that has no length; the handshake then fails at
once (``connect`` words the error from :attr:`GuardedConnection.not_http` /
:attr:`GuardedConnection.status`).
"""

from __future__ import annotations

from websockets.asyncio.client import ClientConnection
from websockets.protocol import State

HTTP_PREFIX = b"HTTP/"
MAX_HEAD = 64 * 1024
BODY_GRACE_S = 0.5  # time for an unframed error body to arrive before we stop reading


class GuardedConnection(ClientConnection):
    """``ClientConnection`` that aborts a handshake whose reply is not HTTP."""

    not_http = False
    status: int | None = None
    _head = b""

    def data_received(self, data: bytes) -> None:
        waiting = self.protocol.state is State.CONNECTING and not self.response_rcvd.done()
        if waiting and len(self._head) < MAX_HEAD:
            self._check_head(data)
            if self.not_http:
                self.transport.abort()
                return
        super().data_received(data)
        if (self.protocol.state is State.CONNECTING and self.protocol.handshake_exc is not None
                and not self.response_rcvd.done()):
            self.transport.abort()  # an unparsable reply: the peer would keep us waiting

    def _check_head(self, data: bytes) -> None:
        had_headers = b"\r\n\r\n" in self._head
        self._head += data[: MAX_HEAD - len(self._head)]
        start = self._head[: len(HTTP_PREFIX)]
        if not HTTP_PREFIX.startswith(start):
            self.not_http = True
            return
        if had_headers or b"\r\n\r\n" not in self._head:
            return
        head = self._head.split(b"\r\n\r\n", 1)[0].lower()
        parts = head.split(b"\r\n", 1)[0].split(b" ")
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        framed = b"\r\ncontent-length:" in head or b"\r\ntransfer-encoding:" in head
        if self.status != 101 and not framed:
            self.loop.call_later(BODY_GRACE_S, self._give_up)

    def _give_up(self) -> None:
        if not self.response_rcvd.done() and not self.transport.is_closing():
            self.transport.abort()
