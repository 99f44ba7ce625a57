"""``voicecli load``'s engine: N concurrent sessions of one scenario in this process.

Session slots start ``ramp`` per second; each slot holds the scenario's conversation again
and again (a new connection each time, through the same engine as ``voicecli test``) until
``duration`` seconds after the first start, then finishes the conversation in progress
(within the scenario's ``timeout_s`` and 10 s more; later ones are counted as
``unfinished``).
The microphone audio is prepared once (``say`` text spoken once) and shared by every
session; no devices are used. Sessions are lean (:mod:`voicecli.load.backend`): every
microphone sends on one shared frame clock (:mod:`voicecli.load.clock`), each audio chunk's
wire message is encoded once and reused, and no levels, VAD or meters are computed (but
for dialects whose turns the client's VAD ends, VoiceAgent: their mic path stays whole). The
steady phase, from the last slot's start to the end of the duration, is when the
generator's CPU per session is measured.
"""

from __future__ import annotations

import asyncio
import gc
import time
from array import array
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from voicecli.errors import VoicecliError
from voicecli.load.backend import LoadBackend, WireFrames
from voicecli.load.clock import FrameClock
from voicecli.load.stats import LoadStats
from voicecli.protocol.base import Adapter
from voicecli.scenario.conversation import Step
from voicecli.scenario.loader import ScenarioFile
from voicecli.scenario.results import Failure, ScenarioResult
from voicecli.scenario.runner import run_scenario, steps_for

AdapterFactory = Callable[[], Awaitable[Adapter]]
GRACE_S = 10.0  # after the duration, conversations get their scenario's timeout and this to finish


@dataclass(frozen=True)
class LoadPlan:
    sessions: int
    ramp: float  # session starts per second
    duration: float  # seconds from the first start during which conversations begin


class LoadRun:
    def __init__(self, file: ScenarioFile, adapter: AdapterFactory, plan: LoadPlan, *,
                 steps: list[Step] | None = None, allow_insecure: bool = False) -> None:
        self.file = file
        self.adapter = adapter
        self.plan = plan
        self.steps = steps if steps is not None else steps_for(file)
        self.allow_insecure = allow_insecure
        self.stats = LoadStats()
        self.clock = FrameClock()
        self.wire = WireFrames()

    async def conversation(self, lateness_ms: array[float] | None = None) -> ScenarioResult:
        """One conversation, counted in the stats (a failure to connect is a failed one);
        its frames' lateness goes to ``lateness_ms`` (default: the run's)."""
        self.stats.begin()
        try:
            late = self.stats.lateness_ms if lateness_ms is None else lateness_ms
            backend = LoadBackend(self.clock, late, self.wire)
            adapter = await self.adapter()
            caps = adapter.capabilities
            # a dialect whose turns the client's VAD ends (or interrupts) keeps the full mic path
            lean = None if caps.client_turns or caps.client_interrupt else backend.lean_mic
            result = await run_scenario(self.file, adapter, steps=self.steps, allow_insecure=self.allow_insecure,
                                        backend=backend, lean_mic=lean)
        except VoicecliError as exc:
            result = ScenarioResult(self.file.scenario.name, str(self.file.path), error=str(exc),
                                    exit_code=exc.exit_code, failures=[Failure(None, "session", str(exc))])
        self.stats.end(result)
        return result

    async def _slot(self, index: int, end: float) -> None:
        await asyncio.sleep(index / self.plan.ramp)
        if index == self.plan.sessions - 1 and time.monotonic() < end:
            self.stats.mark()  # every slot has started: the steady phase begins
        while time.monotonic() < end:
            await self.conversation()

    async def run(self, progress: Callable[[dict[str, Any]], None] | None = None,
                  every: float = 1.0) -> dict[str, Any]:
        gc.freeze()  # what is loaded by now (models, modules) is never scanned by the collector again
        self.stats = LoadStats()
        end = self.stats.started + self.plan.duration
        slots = [asyncio.create_task(self._slot(i, end)) for i in range(self.plan.sessions)]
        ticker = asyncio.create_task(self._tick(progress, every, end)) if progress else None
        try:
            await asyncio.sleep(max(0.0, end - time.monotonic()))
            if self.stats.steady:
                self.stats.mark()  # the steady phase ends
            grace = self.file.scenario.settings.timeout_s + GRACE_S
            _, unfinished = await asyncio.wait(slots, timeout=grace)
            if unfinished:  # a generator that fell far behind: its last conversations are cut
                self.stats.errors["unfinished"] += len(unfinished)
        finally:
            for task in [*slots, *([ticker] if ticker else [])]:
                task.cancel()
        return self.stats.report(sessions=self.plan.sessions, ramp=self.plan.ramp, duration=self.plan.duration)

    async def _tick(self, progress: Callable[[dict[str, Any]], None], every: float, end: float) -> None:
        while True:
            await asyncio.sleep(every)
            progress(self.stats.snapshot())
