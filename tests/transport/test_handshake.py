"""Handshake and connection failures against real loopback servers: each becomes our own
error type with the one-line message a user sees."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from voicecli.errors import AuthError, NetworkError, NotFoundError, SessionTimeout, UsageError
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import DialectConfig, Handshake
from voicecli.secrets import Secret
from voicecli.transport import ConnectionEnded, HandshakeRejected, connect


def _status_server(status: int, body: bytes = b""):
    def process_request(connection: ServerConnection, request: Request) -> Response:
        return Response(status, "status", Headers([("Content-Length", str(len(body)))]), body)

    return process_request


@pytest.fixture
async def status_server() -> AsyncIterator[callable]:
    servers = []

    async def start(status: int, body: bytes = b"") -> str:
        async def handler(ws: ServerConnection) -> None:
            await ws.close()

        server = await serve(handler, "127.0.0.1", 0, process_request=_status_server(status, body))
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/atoms/v1/agent/connect"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("status", [401, 403, 404, 503])
async def test_http_status_is_reported_with_body(status_server, status: int) -> None:
    url = await status_server(status, b'{"message": "nope"}')
    with pytest.raises(HandshakeRejected) as info:
        await connect(Handshake(url=url))
    assert info.value.status == status
    assert b"nope" in info.value.body


@pytest.mark.parametrize(("status", "error", "words"), [
    (401, AuthError, "bad or missing API key"),
    (404, NotFoundError, "HTTP 404"),
    (503, NetworkError, "unavailable (HTTP 503)"),
])
def test_atoms_words_each_status(status: int, error: type, words: str) -> None:
    adapter = AtomsAdapter(DialectConfig(url="http://127.0.0.1:1", agent_id="a", api_key=Secret("sk_x1234")))
    exc = adapter.handshake_error(status, b"{}")
    assert isinstance(exc, error)
    assert words in str(exc)
    assert "\n" not in str(exc)


async def test_connection_refused() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(NetworkError) as info:
        await connect(Handshake(url=f"ws://127.0.0.1:{port}/x"))
    assert str(info.value) == f"connection refused by ws://127.0.0.1:{port}: is the server running?"


async def test_dns_failure() -> None:
    with pytest.raises(NetworkError) as info:
        await connect(Handshake(url="wss://no-such-host.invalid/x"), open_timeout=5)
    assert str(info.value) == "cannot resolve host 'no-such-host.invalid' (DNS lookup failed)"


async def test_tls_failure_against_plain_server() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\nnot tls\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(NetworkError) as info:
            await connect(Handshake(url=f"wss://127.0.0.1:{port}/x"), open_timeout=5)
        assert str(info.value).startswith(f"TLS handshake with wss://127.0.0.1:{port} failed")
    finally:
        server.close()


async def test_open_timeout_when_server_never_answers() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(SessionTimeout) as info:
            await connect(Handshake(url=f"ws://127.0.0.1:{port}/x"), open_timeout=0.5)
        assert str(info.value) == f"timed out connecting to ws://127.0.0.1:{port} after 0.5 s"
    finally:
        server.close()


async def test_plain_ws_refused_for_remote_hosts() -> None:
    with pytest.raises(UsageError) as info:
        await connect(Handshake(url="ws://voice.example.com/x"))
    assert "--allow-insecure" in str(info.value)


async def test_close_code_reaches_the_caller() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.close(4000, "setup failed")

    server = await serve(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        conn = await connect(Handshake(url=f"ws://127.0.0.1:{port}/x"))
        with pytest.raises(ConnectionEnded) as info:
            await conn.recv()
        assert (info.value.code, info.value.reason) == (4000, "setup failed")
    finally:
        server.close()
        await server.wait_closed()
