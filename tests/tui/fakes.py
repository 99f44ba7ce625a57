"""Sessions for the app tests: a scripted fake (deterministic, for snapshots) and a
factory for real sessions against the in-process local agent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

from voicecli.errors import AudioDeviceError
from voicecli.protocol.base import Capabilities
from voicecli.protocol.commands import Close, Command, SendText
from voicecli.protocol.events import Event
from voicecli.session.events import SessionClosed, TextSent
from voicecli.session.options import SessionOptions
from voicecli.tui.binding import LiveSession


class FakeAdapter:
    name = "fake"

    def __init__(self, capabilities: Capabilities | None = None) -> None:
        self.capabilities = capabilities or Capabilities()


class FakeLevels:
    volume = 1.0
    gain = 1.0


class FakeSession:
    """Replays ``script`` (events, and floats meaning "sleep that long"), then stays
    open until closed; records what the app asked of it. The rest of the session's
    surface (``voicecli.session.surface``) answers as a session without audio devices,
    echo cancellation, reconnection or a socket to ping."""

    def __init__(self, script: Iterable[Event | float] = (), *, capabilities: Capabilities | None = None,
                 end: SessionClosed | None = None, reply: str | None = None) -> None:
        self.adapter = FakeAdapter(capabilities)
        self.script = list(script)
        self.end = end  # closes by itself with this after the script
        self.reply = reply
        self.muted = False
        self.gate_open = True
        self.push_to_talk = False
        self.commands: list[Command] = []
        self.gates: list[bool] = []
        self.options = SessionOptions()
        self.audio = None
        self.link = FakeLevels()
        self.playback = None
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._closed = asyncio.Event()

    async def run(self) -> SessionClosed:
        for item in self.script:
            if isinstance(item, float):
                await asyncio.sleep(item)
            else:
                self._queue.put_nowait(item)
        if self.end is not None:
            closed = self.end
        else:
            await self._closed.wait()
            closed = SessionClosed(reason="client_requested", close_code=1000)
        self._queue.put_nowait(closed)
        return closed

    async def events(self) -> AsyncIterator[Event]:
        while True:
            event = await self._queue.get()
            yield event
            if isinstance(event, SessionClosed):
                return

    def submit(self, command: Command) -> None:
        self.commands.append(command)
        if isinstance(command, SendText):
            self._queue.put_nowait(TextSent(command.text))
        if isinstance(command, Close):
            self._closed.set()

    def emit(self, event: Event) -> None:
        self._queue.put_nowait(event)

    def close(self) -> None:
        self.submit(Close())

    def set_muted(self, muted: bool) -> None:
        self.muted = muted

    def set_gate(self, open_: bool) -> None:
        self.gate_open = open_
        self.gates.append(open_)

    def set_push_to_talk(self, on: bool) -> None:
        self.push_to_talk = on

    def set_aec(self, on: bool | None) -> str:
        return "echo cancellation is unavailable: no audio"

    def reconnect_now(self) -> bool:
        return False

    async def switch_device(self, direction: str, spec: Any) -> None:
        raise AudioDeviceError("this audio backend has no devices to choose from")

    async def alive(self, timeout: float) -> bool:
        return False  # no socket to ping: no round trip measured


def fake_factory(session: Any, label: str = "fake provider", local: bool = False) -> Any:
    @contextlib.asynccontextmanager
    async def factory() -> AsyncIterator[LiveSession]:
        yield LiveSession(session, label, local=local)

    return factory
