"""The local agent's plain HTTP endpoints, parsed and answered by h11: real requests from
httpx and raw bytes on a socket, against a real agent on loopback."""

from __future__ import annotations

import asyncio
import json

import httpx

from tests.agent.conftest import API_KEY
from voicecli.agent.dialects.token_pcm import TOKEN_PATH
from voicecli.agent.server import MAX_BODY, LocalAgent


async def raw(agent: LocalAgent, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as it is; the status, headers and body of the answer (read to EOF)."""
    reader, writer = await asyncio.open_connection(agent.host, agent.port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


async def test_health_and_unknown_paths(agent: LocalAgent) -> None:
    async with httpx.AsyncClient(base_url=agent.url) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.headers["content-type"] == "application/json"
        assert "token-pcm" in health.json()["dialects"]
        missing = await client.get("/nowhere")
        assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
        wrong = await client.delete("/healthz")
        assert wrong.status_code == 405


async def test_a_posted_body_reaches_the_endpoint_whole(agent: LocalAgent) -> None:
    auth = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=agent.url) as client:
        ok = await client.post(TOKEN_PATH, json={"agent_id": "agent-1"}, headers=auth)
        assert ok.status_code == 200 and ok.json()["token"]

        async def chunks():  # no Content-Length: chunked transfer encoding
            yield b'{"agent_'
            yield b'id": "agent-1"}'

        chunked = await client.post(TOKEN_PATH, content=chunks(), headers=auth)
        assert chunked.status_code == 200 and chunked.json()["token"]
        bad = await client.post(TOKEN_PATH, content=b"{not json", headers=auth)
        assert bad.status_code == 400 and bad.json() == {"detail": "body must be JSON"}
        refused = await client.post(TOKEN_PATH, json={})
        assert refused.status_code == 401


async def test_malformed_requests_get_400_and_long_bodies_413(agent: LocalAgent) -> None:
    host = f"Host: {agent.host}:{agent.port}\r\n".encode()
    status, headers, body = await raw(agent, b"NONSENSE\r\n\r\n")
    assert status == 400 and json.loads(body) == {"error": "bad request"}
    assert headers["connection"] == "close"
    status, _, _ = await raw(agent, b"GET /healthz HTTP/1.1\r\n\r\n")  # HTTP/1.1 needs Host
    assert status == 400
    status, _, _ = await raw(agent, b"POST " + TOKEN_PATH.encode() + b" HTTP/1.1\r\n" + host
                             + b"Content-Length: nope\r\n\r\n")
    assert status == 400
    too_long = f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode()
    status, _, body = await raw(agent, b"POST " + TOKEN_PATH.encode() + b" HTTP/1.1\r\n" + host + too_long)
    assert status == 413 and json.loads(body) == {"error": "bad request body"}  # said before reading it


async def test_a_chunked_body_longer_than_the_limit_is_cut_off_with_413(agent: LocalAgent) -> None:
    # one chunk longer than the limit, sent to exactly the byte that goes over it
    head = (f"POST {TOKEN_PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            f"{MAX_BODY + 1:x}\r\n").encode()
    status, _, body = await raw(agent, head + b"x" * (MAX_BODY + 1))
    assert status == 413 and json.loads(body) == {"error": "bad request body"}
    async with httpx.AsyncClient(base_url=agent.url) as client:  # and the agent serves on
        assert (await client.get("/healthz")).status_code == 200


async def test_a_client_that_leaves_early_does_not_disturb_the_server(agent: LocalAgent) -> None:
    reader, writer = await asyncio.open_connection(agent.host, agent.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # no end of head
    writer.close()
    await writer.wait_closed()
    status, _, body = await raw(agent, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 200 and json.loads(body)["status"] == "ok"
