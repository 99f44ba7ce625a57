"""One scripted conversation over a :class:`~voicecli.session.Session`: the turn engine of
``voicecli smoke`` and of scenario runs (``voicecli test``, ``voicecli load``).

Turns run in the order given. Each turn waits for a reply that begins after the input's
last speech (a clip's trailing silence is not waited for twice), then for the agent to fall
quiet (or, with an interrupt delay of S seconds, for S seconds of the reply before the next
turn barges in); with a reply wait of S seconds a turn that gets no reply within S seconds
is reported as ``no_reply`` and the next one starts. A reply begins with a new agent turn
in the transcript, or agent activity after a pause where the provider gives neither turns
nor transcripts; what arrives before the provider's interruption belongs to the reply it cut,
not to the current input. Where the provider sends a reply's whole text and, with its audio,
the characters each chunk speaks (ElevenLabs' alignment), the reply is not over while its text
is not all spoken: a pause mid-sentence (a starved speech service) is waited for, up to
``PAUSE_GRACE_S`` more. Figures per turn: time from the end of the input to the first agent audio,
agent audio seconds, transcripts. Transcripts and audio seconds come from the
conversation's turns (:mod:`voicecli.scenario.attribution`), so a reply is reported on the
turn that asked for it whatever order its pieces arrived in.

A run never passes falsely (:func:`voicecli.scenario.attribution.verdict`): a turn passes
only when the agent answered it (text or audio) and its reply finished while the session
was open (quiet, or the provider's end-of-reply event before a clean close); a session
that ends before or during a turn fails with its own exit code and names the turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voicecli.audio.audiofile import load_clip
from voicecli.audio.resample import resample
from voicecli.audio.scripted import ScriptedBackend
from voicecli.errors import SessionTimeout, UsageError
from voicecli.pcm.convert import FloatArray, float_to_pcm16
from voicecli.protocol.commands import SendText
from voicecli.protocol.events import (
    AgentAudio,
    AgentStartedTalking,
    AgentStoppedTalking,
    ErrorEvent,
    Event,
    Interruption,
    Ping,
    TextDelta,
    ToolCall,
    TranscriptDelta,
    TranscriptFinal,
    TurnComplete,
    Unknown,
    VadScore,
)
from voicecli.scenario.attribution import SmokeReport, TurnReport, attribute, verdict
from voicecli.scenario.unspoken import UnspokenText
from voicecli.session import Session
from voicecli.session.events import Connected, Levels, Mark, Notice, Reconnecting, SessionClosed, TurnLatency
from voicecli.session.transcript import Transcript

IDLE_S = 1.0  # agent silence that ends a reply
GREETING_WAIT_S = 2.0  # how long to wait for a greeting to start
PONG_WAIT_S = 3.0  # a reply that went quiet counts only if the server still answers a ping
REPLY_GAP_S = 0.3  # agent activity after this much quiet begins a reply
PAUSE_GRACE_S = 8.0  # more quiet allowed while a reply's alignment says its text is not all spoken


QUIET_EVENTS = (Levels, Ping, VadScore)  # too frequent to list in a turn's events


@dataclass
class Step:
    """One scripted turn. ``text`` types ``value``; ``audio`` and ``say`` speak ``clip`` (or
    the file ``value``); ``silence`` sends ``seconds`` of quiet; ``wait`` waits up to
    ``seconds`` for an event named ``value`` (:func:`event_name`). A turn that
    ``needs_reply`` fails the run without one; ``barge_in_after`` and ``reply_wait`` override
    the runner's for this turn."""

    kind: str  # "text" | "audio" | "say" | "silence" | "wait"
    value: str
    clip: tuple[FloatArray, int] | None = None  # an audio step's samples, read before connecting
    seconds: float = 0.0
    needs_reply: bool = True
    barge_in_after: float | None = None
    reply_wait: float | None = None


def event_name(event: Event) -> str:
    """``AgentStoppedTalking`` → ``agent_stopped_talking``: how scenarios name events."""
    name = type(event).__name__
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


class SmokeRunner:
    """Drives one session through the planned steps and fills a :class:`SmokeReport`."""

    def __init__(self, session: Session, backend: ScriptedBackend, steps: list[Step],
                 interrupt_after: float | None, idle_s: float = IDLE_S,
                 greeting_wait_s: float = GREETING_WAIT_S, reply_wait: float | None = None) -> None:
        self.session = session
        self.idle_s = idle_s
        self.greeting_wait_s = greeting_wait_s
        self.backend = backend
        self.steps = steps
        self.interrupt_after = interrupt_after
        self.reply_wait = reply_wait
        self.report = SmokeReport(dialect=session.adapter.name)
        self.transcript = Transcript()
        self.boundaries: list[int] = []  # where each step's turns begin in the transcript
        self.current: TurnReport | None = None
        self.last_activity = 0.0
        self.reply_started_at = 0.0  # when the latest agent turn began
        self._agent_turns: set[int] = set()
        self.activity_since_input = asyncio.Event()
        self.reply_ended = False  # the provider said the reply to the current input is over
        self.heard: set[int] = set()  # turns the agent sent text or audio for after their input
        self.stalled: int | None = None  # the turn after which the server answered no ping
        self.closed: SessionClosed | None = None
        self.closed_by_us = False  # every step ran and the runner ended the session
        self._changed = asyncio.Event()
        self._ended = asyncio.Event()  # the session closed
        self.events_seen: dict[int, list[str]] = {}  # each turn's event names, in order
        self.tool_calls: dict[int, list[ToolCall]] = {}
        self.errors: list[str] = []  # errors the server reported
        self.unspoken = UnspokenText()  # what of a reply its alignment has yet to speak

    async def run(self) -> SmokeReport:
        session_task = asyncio.create_task(self.session.run())
        consumer = asyncio.create_task(self._consume())
        try:
            started = asyncio.create_task(self.session.wait_started())
            await asyncio.wait({started, session_task}, return_when=asyncio.FIRST_COMPLETED)
            started.cancel()
            if self.session.session_started is not None:
                await self._greeting()
                await self._wait_for(lambda: self.session.live or self.closed is not None, None)
                self.session.stop_reconnecting()  # from the first turn on, a failure is the outcome
                for index, step in enumerate(self.steps, 1):
                    if self.closed is not None or self.stalled is not None:
                        break
                    await self._turn(index, step, last=index == len(self.steps))
                if self.closed is None:
                    self.closed_by_us = True
                    self.session.close()
            await session_task
            await consumer
        finally:
            for task in (session_task, consumer):
                if not task.done():
                    task.cancel()
        return self._finish()

    async def run_within(self, timeout: float) -> SmokeReport:
        """:meth:`run`, failing with a timeout (naming the turn) after ``timeout`` seconds."""
        try:
            return await asyncio.wait_for(self.run(), timeout)
        except TimeoutError:
            report = self._finish()
            waiting = next((t.index for t in report.turns if t.reply_ms is None), None)
            report.ok = False
            report.error = f"timed out after {timeout:g} s" + (
                f" waiting for the reply to turn {waiting}" if waiting else "")
            report.exit_code = SessionTimeout.exit_code
            return report

    # ---- event intake ----------------------------------------------------------------------

    async def _consume(self) -> None:
        async for event in self.session.events():
            self._take(event)
            self._changed.set()

    def _take(self, event: Event) -> None:
        now = time.monotonic()
        if self.current is not None and not isinstance(event, QUIET_EVENTS):
            seen = self.events_seen.setdefault(self.current.index, [])
            name = event_name(event)
            if not seen or seen[-1] != name:  # a run of one kind (audio chunks) is one entry
                seen.append(name)
            if isinstance(event, ToolCall):
                self.tool_calls.setdefault(self.current.index, []).append(event)
        for turn in self.transcript.apply(event):
            if turn.role == "agent" and turn.kind == "speech" and id(turn) not in self._agent_turns:
                self._agent_turns.add(id(turn))
                self.reply_started_at = now
        if isinstance(event, Connected):
            self.report.url = event.url
        elif isinstance(event, Unknown) and event.malformed:
            self.report.warnings.append(f"ignored a malformed {event.type} frame from the server")
        elif isinstance(event, ErrorEvent):
            self.report.warnings.append(f"the server reported error {event.code}: {event.message}")
            self.errors.append(f"{event.code}: {event.message}")
        elif isinstance(event, Notice) and event.level != "info":
            self.report.warnings.append(event.text)
        elif isinstance(event, SessionClosed):
            self.closed = event
            self._ended.set()
        elif isinstance(event, Reconnecting):
            self.report.warnings.append(f"retry {event.attempt}/{event.attempts} after: {event.error}")
        agent_activity = isinstance(event, (AgentAudio, AgentStartedTalking, TextDelta, TurnComplete)) or (
            isinstance(event, (TranscriptDelta, TranscriptFinal)) and event.role == "agent")
        if agent_activity:
            if now - self.last_activity >= REPLY_GAP_S:
                self.reply_started_at = now
            self.last_activity = now
            self.activity_since_input.set()
            if self.current is not None and isinstance(event, (AgentAudio, TextDelta, TranscriptDelta,
                                                               TranscriptFinal)):
                self.heard.add(self.current.index)
        if isinstance(event, (AgentStoppedTalking, TurnComplete)) and self.activity_since_input.is_set():
            self.reply_ended = True
        self.unspoken.take(event)
        if isinstance(event, Interruption) and self.current is not None:
            # what came before it belonged to the reply it cut, not to the current input's
            self.activity_since_input.clear()
            self.reply_ended = False
        if isinstance(event, Mark):
            self.boundaries.append(len(self.transcript.turns))
        elif isinstance(event, TurnLatency) and self.current is not None and self.current.first_audio_ms is None:
            self.current.first_audio_ms = round(event.ms, 1)

    # ---- steps -----------------------------------------------------------------------------

    async def _greeting(self) -> None:
        await self._wait_for(lambda: self.last_activity > 0, self.greeting_wait_s)
        if self.last_activity > 0:
            await self._wait_quiet()

    async def _turn(self, index: int, step: Step, last: bool) -> None:
        turn = TurnReport(index=index, input=step.kind, content=step.value)
        self.report.turns.append(turn)
        self.activity_since_input = asyncio.Event()
        self.reply_ended = False
        if step.kind in ("silence", "wait"):
            self.current = turn
            self.session.mark(f"turn {index}")
            if step.kind == "silence":
                await self._wait_for(lambda: self.closed is not None, step.seconds)
            else:
                await self._wait_for(lambda: self.closed is not None or step.value in self.events_seen.get(index, ()),
                                     step.seconds)
            return
        if step.kind == "text":
            if not self.session.adapter.capabilities.text_input:
                raise UsageError(f"{self.session.adapter.name} does not accept typed text: use --audio FILE.wav")
            self.current = turn
            self.session.mark(f"turn {index}")
            self.session.submit(SendText(step.value))
            input_end = spoken_end = time.monotonic()
        else:
            capture = self.backend.capture
            if capture is None:
                raise UsageError("this session has no audio input (the provider negotiated text only)")
            samples, rate = step.clip or load_clip(step.value)
            pcm = float_to_pcm16(resample(samples, rate, capture.rate) if rate != capture.rate else samples)
            self.session.mark(f"turn {index}")
            done = capture.say(pcm)
            await done.wait()
            self.current = turn
            input_end = time.monotonic()
            # the clip's own rate, on the capture's clock (a scripted one may run faster)
            spoken_end = input_end - trailing_silence_s(samples, rate) / capture.speed
            self.activity_since_input = asyncio.Event()
            self.reply_ended = False

        # a reply that began before the input's last speech answered only part of it (an
        # utterance the agent split): wait for the one that answers the end
        def answered() -> bool:
            if step.kind == "text":
                return self.activity_since_input.is_set()
            return self.reply_started_at >= spoken_end

        replied = await self._wait_reply(index, answered, step.reply_wait)
        if not replied or (self.closed is not None and not self.reply_ended):
            return
        barge_in = step.barge_in_after if step.barge_in_after is not None else self.interrupt_after
        if barge_in is not None and not last:
            await self._wait_for(lambda: self.closed is not None, barge_in)
        else:
            await self._wait_quiet(index)
            if self.stalled is not None:
                return
        if self.closed is not None and not self.reply_ended:
            return  # the session ended before the reply did: the turn is not answered
        turn.reply_ms = round((time.monotonic() - input_end) * 1000, 1)

    async def _wait_reply(self, turn: int, answered: Callable[[], bool], reply_wait: float | None = None) -> bool:
        """Until a reply ``answered`` the input or the session ends. False when none came
        within ``reply_wait``, or when the server stopped answering pings meanwhile (the
        turn is then marked stalled)."""
        reply_wait = self.reply_wait if reply_wait is None else reply_wait
        deadline = None if reply_wait is None else time.monotonic() + reply_wait
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            wait = max(self.idle_s, 1.0) if left is None else max(0.0, min(left, max(self.idle_s, 1.0)))
            if await self._wait_for(lambda: answered() or self.closed is not None, wait):
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            if not await self.session.alive(PONG_WAIT_S) and self.closed is None:
                self.stalled = turn
                return False

    async def _wait_quiet(self, turn: int | None = None) -> None:
        """Until the agent has been quiet for ``idle_s``. During a turn, a quiet spell counts
        only if the server still answers a ping: one that stalled mid-reply (or holds the
        agent "talking" forever) answers nothing, and the turn is marked stalled."""
        probed = -1.0
        while self.closed is None:
            playback = self.session.playback
            buffered = playback.buffered_seconds if playback is not None else 0.0
            idle = time.monotonic() - self.last_activity
            if turn is not None and idle >= self.idle_s and probed != self.last_activity:
                probed = self.last_activity
                if not await self.session.alive(PONG_WAIT_S):
                    if self.closed is None:
                        self.stalled = turn
                    return
                continue
            paused = self.unspoken.pending and idle < self.idle_s + PAUSE_GRACE_S
            if idle >= self.idle_s and not self.session.agent_talking and buffered <= 0 and not paused:
                return
            await self._pause(max(0.05, min(self.idle_s - idle, 0.2)))

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, less if the session closes; other events (a reply's audio
        chunks) do not wake it."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._ended.wait()

    async def _wait_for(self, predicate: Callable[[], bool], timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not predicate():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._changed.clear()
            try:
                async with asyncio.timeout(remaining):  # (no task per wait, unlike wait_for)
                    await self._changed.wait()
            except TimeoutError:
                return predicate()
        return True

    def _finish(self) -> SmokeReport:
        report = self.report
        session = self.session
        report.connect_ms = _ms(session.connect_ms)
        report.session_ready_ms = _ms(session.ready_ms)
        if session.session_started is not None:
            report.session_id = session.session_started.session_id
            report.conversation_id = session.session_started.conversation_id
        report.agent_audio_s = round(session.agent_audio_s, 3)
        attribute(report, self.transcript, self.boundaries)
        verdict(report, self.closed or session.closed, started=session.session_started is not None,
                planned=len(self.steps), heard=self.heard, closed_by_us=self.closed_by_us,
                needs_reply={i for i, step in enumerate(self.steps, 1) if step.needs_reply})
        if self.stalled is not None:
            report.ok, report.exit_code = False, SessionTimeout.exit_code
            report.error = (f"the server stopped answering during turn {self.stalled} "
                            f"(no reply to a ping within {PONG_WAIT_S:g} s)")
        return report


def trailing_silence_s(samples: np.ndarray, rate: int, threshold_db: float = -40.0) -> float:
    """Seconds of silence (20 ms frames below ``threshold_db`` RMS) at the end of a clip."""
    frame = max(1, rate // 50)
    data = np.asarray(samples, dtype=np.float32)
    limit = 10 ** (threshold_db / 20)
    end = data.size
    while end > 0:
        chunk = data[max(0, end - frame): end]
        if float(np.sqrt(np.mean(chunk * chunk))) >= limit:
            break
        end -= chunk.size
    return (data.size - end) / rate


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
