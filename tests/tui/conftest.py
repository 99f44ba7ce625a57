from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.support.waiting import patience
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import LocalAgent
from voicecli.audio.scripted import ScriptedBackend
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import DialectConfig
from voicecli.secrets import Secret
from voicecli.session import Session, SessionOptions
from voicecli.tui import TalkSettings, VoiceApp, create_app
from voicecli.tui.binding import LiveSession
from voicecli.tui.widgets.transcript import TranscriptView

SIZE = (100, 32)


def local_factory(config: AgentConfig, backend: Any, options: SessionOptions | None = None) -> Any:
    """Real sessions over a real WebSocket to an in-process local agent (Atoms dialect)."""

    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[LiveSession]:
        async with LocalAgent(config) as agent:
            adapter = AtomsAdapter(DialectConfig(url=agent.url, agent_id="local", sample_rate=16000,
                                                  api_key=Secret("sk_local_test")))
            yield LiveSession(Session(adapter, backend, options or SessionOptions()),
                              "local agent, offline", local=True, agent="local")

    return factory


@pytest.fixture
def make_local_app(tmp_path: Any) -> Callable[..., tuple[VoiceApp, ScriptedBackend]]:
    def make(*, greeting: str = "", ptt: str = "off", backend: Any = None,
             **agent: Any) -> tuple[VoiceApp, Any]:
        from voicecli.tui.ptt import PttMode

        backend = backend if backend is not None else ScriptedBackend()
        config = AgentConfig(api_key=None, greeting=greeting, speech=False, brain="rules", **agent)
        settings = TalkSettings(dialect="atoms", ptt=PttMode.parse(ptt),
                                transcript_path=tmp_path / "transcript.jsonl")
        return create_app(local_factory(config, backend), settings), backend

    return make


async def wait_until(pilot: Any, predicate: Callable[[], bool], timeout: float = 10.0,
                     what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + patience(timeout)
    while not predicate():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def texts(app: VoiceApp) -> list[str]:
    return app.query_one(TranscriptView).texts


async def submit(pilot: Any, line: str) -> None:
    """Put ``line`` in the message box and press Enter (typing long lines key by key is slow)."""
    pilot.app.message_input.value = line
    await pilot.press("enter")
    await pilot.pause()
