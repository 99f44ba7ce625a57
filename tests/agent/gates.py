"""Test parts that let a test hold the agent at a chosen point: a voice whose sentences
wait for the test's go-ahead, and a brain that writes its reply in two steps."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

from voicecli.agent.tone import ToneSynthesizer
from voicecli.agent.voice_contracts import BaseBrain


class GatedSynth:
    """The tone voice; after the first ``allow`` sentences each one waits for :meth:`release`."""

    name = "gated-tone"

    def __init__(self, allow: int = 0, rate: int = 24000) -> None:
        self.rate = rate
        self._inner = ToneSynthesizer(rate)
        self._allow = allow
        self._lock = threading.Lock()
        self._open = threading.Event()

    def synthesize(self, text: str) -> bytes:
        with self._lock:
            self._allow -= 1
            held = self._allow < 0
        if held:
            self._open.wait(10)
        return self._inner.synthesize(text)

    def release(self) -> None:
        self._open.set()


class StepBrain(BaseBrain):
    """Writes ``first``, then waits for ``go`` before writing ``rest``; ``started`` is set
    when a reply begins."""

    name = "step"

    def __init__(self, first: str, rest: str, go: asyncio.Event) -> None:
        self.first, self.rest, self.go = first, rest, go
        self.started = asyncio.Event()

    def greeting(self) -> str | None:
        return None

    async def reply(self, user_text: str) -> AsyncIterator[str]:
        self.started.set()
        yield self.first
        await self.go.wait()
        yield self.rest
