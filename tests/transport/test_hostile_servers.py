"""Hostile servers on loopback, through ``run_smoke``: each fails fast with a one-line error
and its own exit code, never an internal error (exit 1) or a hang to the open timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from websockets.asyncio.server import ServerConnection, serve

from voicecli.cli.config import Target
from voicecli.cli.smoke import Step, run_smoke
from voicecli.cli.smoke_report import SmokeReport

Handler = Callable[[ServerConnection], Awaitable[None]]


async def ws_server(handler: Handler) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        yield f"ws://127.0.0.1:{port}"


async def smoke(url: str, timeout: float = 5.0) -> tuple[SmokeReport, float]:
    # VoiceAgent has no ready message: the session starts as the socket opens
    target = Target(dialect="voiceagent", url=url, agent_id=None, key_env="VOICECLI_NO_SUCH_KEY")
    started = time.monotonic()
    report = await run_smoke(target, [Step("text", "hi")], timeout=timeout, allow_insecure=False,
                             interrupt_after=None, out=None, idle_s=0.2, greeting_wait_s=0.2)
    return report, time.monotonic() - started


async def test_a_20_mib_frame_is_frame_too_large() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("x" * (20 * 1024 * 1024))
        await ws.wait_closed()

    async for url in ws_server(handler):
        report, took = await smoke(url)
    assert report.exit_code == 7, report.error
    assert report.error is not None and "frame too large" in report.error and "code 1009" in report.error
    assert "connection lost" not in report.error and took < 4


NESTED = {"list-100000": "[" * 100_000, "object-50000": '{"a":' * 50_000,
          "closed-70": "[" * 70 + "]" * 70, "closed-40": "[" * 40 + "]" * 40}


@pytest.mark.parametrize("name", sorted(NESTED))
async def test_deep_nesting_is_a_warning_not_a_crash(name: str) -> None:
    frame = NESTED[name]

    async def handler(ws: ServerConnection) -> None:
        await ws.send(frame)
        async for message in ws:  # the typed turn: answer it after the hostile frame
            if '"transcript"' in str(message):
                await ws.send(frame)
                for reply in ('{"type": "stream_start"}', '{"type": "text_delta", "id": "t", "text": "fine"}',
                              '{"type": "response_complete", "text": "fine"}'):
                    await ws.send(reply)

    async for url in ws_server(handler):
        report, _took = await smoke(url)
    nested = [w for w in report.warnings if "nested too deeply" in w]
    assert len(nested) == (0 if name == "closed-40" else 2), report.warnings  # the limit is 64 levels
    assert report.ok, report.error  # the session went on and the turn was answered
    assert report.turns[0].agent_transcript == "fine"


async def raw_server(reply: bytes, drip_s: float = 0.0) -> tuple[asyncio.Server, str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        for i in range(len(reply)) if drip_s else [0]:
            writer.write(reply[i:i + 1] if drip_s else reply)
            await writer.drain()
            await asyncio.sleep(drip_s)
        # hold the socket open until the client gives up (it must not wait for the server), then
        # close it: from Python 3.12 on, leaving the server waits for its connections to end
        await reader.read()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"


@pytest.mark.parametrize(("reply", "words"), ids=["text", "tls-bytes", "ssh", "http-200", "bad-status"], argvalues=[
    (b"garbage\r\n\r\n", "did not answer with HTTP"),
    (b"\x16\x03\x01\x02\x00binary", "did not answer with HTTP"),
    (b"SSH-2.0-OpenSSH_9.6\r\n", "did not answer with HTTP"),
    (b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n<html>hello</html>", "answered HTTP 200"),
    (b"HTTP/1.1 abc\r\n\r\n", "valid HTTP response"),
])
async def test_garbage_http_fails_at_once(reply: bytes, words: str) -> None:
    server, url = await raw_server(reply)
    async with server:
        report, took = await smoke(url, timeout=20)
        server.close()
    assert report.exit_code == 7, report.error
    assert report.error is not None and words in report.error
    assert took < 3  # not the 10 s open timeout


async def test_a_slow_drip_handshake_ends_at_the_timeout() -> None:
    server, url = await raw_server(b"HTTP/1.1 101 Switching Protocols\r\n" + b"X-Drip: " + b"y" * 500, 0.05)
    async with server:
        report, took = await smoke(url, timeout=1.5)
        server.close()
    assert report.exit_code == 8, report.error
    assert report.error is not None and "timed out" in report.error
    assert took < 4
