"""Plain HTTP on the local agent's port, parsed and answered by h11.

The server reads a request's head itself (a WebSocket upgrade hands those bytes to
websockets' ``ServerProtocol``); an :class:`HttpExchange` parses it, reads the body
(``Content-Length`` or chunked, answering ``Expect: 100-continue``) and writes one
response with ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import http

import h11

READ_SIZE = 65536
READ_TIMEOUT_S = 10.0


def phrase(status: int) -> bytes:
    """The reason phrase of ``status`` (empty for a code HTTP does not name)."""
    try:
        return http.HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""


class HttpExchange:
    """One plain HTTP exchange on a client's connection, parsed and answered by h11."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes,
                 max_head: int) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=max_head)
        self.conn.receive_data(head)
        self.request_headers: list[tuple[bytes, bytes]] = []

    def request(self) -> h11.Request:
        """The request line and headers. Raises ``h11.RemoteProtocolError``."""
        event = self.conn.next_event()
        if not isinstance(event, h11.Request):
            raise h11.RemoteProtocolError("no complete request head")
        self.request_headers = list(event.headers)
        return event

    async def body(self, limit: int) -> bytes:
        """The request body (Content-Length or chunked). Raises ``h11.RemoteProtocolError``
        (status 413 when it is longer than ``limit``)."""
        parts = bytearray()
        declared = dict(self.request_headers).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > limit:
            raise h11.RemoteProtocolError("request body too large", error_status_hint=413)
        while True:
            if self.conn.they_are_waiting_for_100_continue:
                self._send(h11.InformationalResponse(status_code=100, headers=[]))
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                data = await asyncio.wait_for(self.reader.read(READ_SIZE), READ_TIMEOUT_S)
                self.conn.receive_data(data)  # b"": the client closed; next_event says if that is early
            elif isinstance(event, h11.Data):
                parts += event.data
                if len(parts) > limit:
                    raise h11.RemoteProtocolError("request body too large", error_status_hint=413)
            elif isinstance(event, h11.EndOfMessage):
                return bytes(parts)
            else:
                raise h11.RemoteProtocolError("unexpected end of the request")

    def reply(self, status: int, body: bytes, content_type: str = "application/json",
              extra: dict[str, str] | None = None) -> None:
        headers = [("Content-Type", content_type), *(extra or {}).items(),
                   ("Content-Length", str(len(body))), ("Connection", "close")]
        if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):  # IDLE: the head was bad
            return
        self._send(h11.Response(status_code=status, headers=headers, reason=phrase(status)))
        self._send(h11.Data(data=body))
        self._send(h11.EndOfMessage())

    def _send(self, event: h11.Event) -> None:
        data = self.conn.send(event)
        if data:
            self.writer.write(data)
