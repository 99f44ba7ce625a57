"""Where the provider has an interrupt message (VoiceAgent), the user's interrupt sends it
as well as stopping playback: a real session against the local agent, its frames tapped."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from voicecli.agent.config import AgentConfig
from voicecli.agent.server import LocalAgent
from voicecli.audio.scripted import ScriptedBackend
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.commands import Interrupt, SendText
from voicecli.protocol.events import AgentAudio, Interruption
from voicecli.protocol.voiceagent import VoiceAgentAdapter
from voicecli.session import Session, SessionOptions
from voicecli.session.events import PlaybackFlushed

LONG = "please read this long sentence back to me slowly so that I can interrupt you. " * 4


async def test_the_users_interrupt_sends_voiceagents_interrupt_message() -> None:
    sent: list[dict[str, Any]] = []

    def tap(dialect: str, side: str, frame: Any) -> None:
        if side == "client" and isinstance(frame, str):
            sent.append(json.loads(frame))

    config = AgentConfig(api_key=None, greeting="", speech=False, brain="echo")
    async with LocalAgent(config, tap=tap) as agent:
        url = agent.url.rstrip("/") + "/voiceagent"
        session = Session(VoiceAgentAdapter(DialectConfig(url=url)), ScriptedBackend(), SessionOptions())
        run = asyncio.create_task(session.run())
        seen: list[Any] = []
        heard = asyncio.Event()

        async def collect() -> None:
            async for event in session.events():
                seen.append(event)
                if isinstance(event, AgentAudio):
                    heard.set()

        events = asyncio.create_task(collect())
        assert await session.wait_started(5)
        session.submit(SendText(LONG))
        await asyncio.wait_for(heard.wait(), 10)
        session.submit(Interrupt("user"))
        for _ in range(100):
            if any(m.get("type") == "interrupt" for m in sent):
                break
            await asyncio.sleep(0.02)
        session.close()
        await asyncio.wait_for(run, 10)
        await asyncio.wait_for(events, 5)
    assert [m for m in sent if m.get("type") == "interrupt"], [m.get("type") for m in sent]
    kinds = [type(e) for e in seen]
    assert Interruption in kinds and kinds.index(Interruption) + 1 == kinds.index(PlaybackFlushed)
