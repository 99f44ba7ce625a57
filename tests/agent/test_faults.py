"""Fault injection, asked for per connection with ?fault=..."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.agent.conftest import atoms_connect, make_config, recv_json, until
from voicecli.agent.faults import FaultPlan, FaultSpecError
from voicecli.agent.server import LocalAgent


async def _say(ws: object, text: str = "hello") -> None:
    await ws.send(json.dumps({"type": "input_text.send", "text": text}))  # type: ignore[attr-defined]


async def _drain(ws: object, timeout: float = 5.0) -> list:
    frames: list = []
    with pytest.raises(ConnectionClosed):
        while True:
            frames.append(await asyncio.wait_for(ws.recv(), timeout))  # type: ignore[attr-defined]
    return frames


async def test_close_with_code_after_n_frames(agent: LocalAgent) -> None:
    async with atoms_connect(agent, fault="close:4001@3") as ws:
        await recv_json(ws)
        await _say(ws)
        frames = await _drain(ws)
    assert len(frames) == 2  # session.created + 2 = 3 frames, then the close
    assert ws.close_code == 4001


async def test_close_at_once(agent: LocalAgent) -> None:
    async with atoms_connect(agent, fault="close:1011") as ws:
        frames = await _drain(ws)
    assert frames == [] and ws.close_code == 1011


async def test_drop_without_close_frame(agent: LocalAgent) -> None:
    async with atoms_connect(agent, fault="drop@1") as ws:
        frames = await _drain(ws)
    assert len(frames) == 1 and ws.close_code == 1006  # no close frame received


async def test_malformed_frame_then_the_session_goes_on(agent: LocalAgent) -> None:
    async with atoms_connect(agent, fault="malformed@1") as ws:
        await recv_json(ws)
        raw = await asyncio.wait_for(ws.recv(), 5)
        with pytest.raises(ValueError):
            json.loads(raw)
        await _say(ws)
        final = await until(ws, "transcript")
    assert final["text"] == "You said: hello."


async def test_stall_keeps_the_socket_open_but_silent(agent: LocalAgent) -> None:
    async with atoms_connect(agent, fault="stall@1") as ws:
        await recv_json(ws)
        await _say(ws)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(ws.recv(), 1.0)
        await _say(ws)  # still writable: the socket is open
        pong = await ws.ping()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(pong, 0.5)


async def test_pause_holds_the_rest_once_while_pings_are_answered(paced_agent: LocalAgent) -> None:
    async with atoms_connect(paced_agent, fault="pause:1200@3", sample_rate=16000) as ws:
        await recv_json(ws)
        await _say(ws, "one two three four five six")
        first, second = await recv_json(ws), await recv_json(ws)  # frames 2 and 3
        asked = time.monotonic()
        await asyncio.wait_for(await ws.ping(), 0.5)  # the connection is up meanwhile
        pinged = time.monotonic()
        seen: list[dict] = []
        final = await until(ws, "transcript", seen=seen)
    held = seen[0]["_t"] - asked
    assert pinged - asked < 0.5 and held >= 1.0, (pinged - asked, held)
    times = [m["_t"] for m in seen]
    assert max(b - a for a, b in zip(times, times[1:], strict=False)) < 1.0  # once: the rest flows
    assert final["text"] == "You said: one two three four five six." and first and second


async def test_error_then_close_4000(agent: LocalAgent) -> None:
    async with atoms_connect(agent, fault="error@1") as ws:
        await recv_json(ws)
        error = await recv_json(ws)
        await _drain(ws)
    assert error["type"] == "error" and error["code"] == "internal_error"
    assert ws.close_code == 4000


async def test_reject_upgrade_with_status(agent: LocalAgent) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with atoms_connect(agent, fault="reject:503"):
            pass
    assert info.value.response.status_code == 503


async def test_delay_holds_every_frame(agent: LocalAgent) -> None:
    start = time.monotonic()
    async with atoms_connect(agent, fault="delay:300") as ws:
        await recv_json(ws)
        created_at = time.monotonic()
    assert created_at - start >= 0.3


async def test_jitter_keeps_order_and_spreads_arrivals(paced_agent: LocalAgent) -> None:
    agent = paced_agent
    async with atoms_connect(agent, fault="jitter:80,seed:7", sample_rate=16000) as ws:
        await recv_json(ws)
        await _say(ws, "jitter test")
        seen: list[dict] = []
        final = await until(ws, "transcript", seen=seen)
    texts = [m["text"] for m in seen if m["type"] == "transcript.delta"]
    assert texts == sorted(texts, key=len) and final["text"] == "You said: jitter test."
    times = [m["_t"] for m in seen if m["type"] == "output_audio.delta"]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert max(gaps) - min(gaps) > 0.03  # paced 40 ms chunks arrive unevenly


async def test_server_wide_fault_plan_applies_to_every_connection() -> None:
    async with LocalAgent(make_config(faults="close:4002@1", allow_faults=False)) as server:
        async with atoms_connect(server) as ws:
            await recv_json(ws)
            await _drain(ws)
    assert ws.close_code == 4002


def test_fault_plan_parsing() -> None:
    plan = FaultPlan.parse("close:4001@5, delay:20,jitter:30,seed:1")
    assert (plan.close_code, plan.close_after, plan.delay_ms, plan.jitter_ms, plan.seed) == (4001, 5, 20, 30, 1)
    assert FaultPlan.parse("stall@2").stall_after == 2
    assert (FaultPlan.parse("pause:2500@4").pause_ms, FaultPlan.parse("pause:2500@4").pause_after) == (2500, 4)
    assert FaultPlan.parse("").empty and not plan.empty
    assert FaultPlan.parse("delay:10").merged(FaultPlan.parse("drop@3")) == FaultPlan(delay_ms=10, drop_after=3)
    for bad in ("explode", "close:99", "delay:x", "stall:3", "delay:5@2", "reject:200", "pause@3", "pause:0"):
        with pytest.raises(FaultSpecError):
            FaultPlan.parse(bad)
