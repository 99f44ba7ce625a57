"""The conversation engine: turn-taking, barge-in and real-time pacing, for any dialect.

The connection feeds :class:`UserInput` values to :meth:`Engine.handle` (synchronous
and quick) and receives :class:`AgentOutput` values through the ``emit`` callback, in
order. Turn-taking:

- user audio goes through an energy VAD; ``hangover_ms`` of silence ends the user's
  turn, a ``UserCommit`` ends it at once, a whole-utterance clip is a turn by itself;
- push-to-talk: while a ``UserHold`` is in force no pause ends the user's turn (the
  speech before and after a pause is one utterance, the pause kept); the commit on
  release ends it at once, trimmed to the speech. A hold with ``ms`` lapses after that
  much user audio without a renewal; then a pause already heard ends the turn at once,
  and otherwise the VAD goes on as usual;
- typed text is a turn by itself;
- in a voice session, user speech (or text) while the agent answers interrupts it:
  ``Interrupted`` at once when its audio had started (then the agent's final transcript,
  which is what had been sent, and ``TalkStop``), and ``TurnDone`` for any turn that had
  said something;
- in a text-only session (``Ready.text_only``, or a dialect without audio output) a
  message that arrives while a reply is being written does not cut it: it is answered
  next, in order.

The :class:`~voicecli.agent.speaker.Speaker` makes each reply: ``TextOut`` as the text
streams, ``ReplyText`` once it is whole (before the first audio when the dialect's
``reply_text_first`` is set), and the audio in ``chunk_ms`` chunks paced in real time
(``paced``; ``speed`` times faster, or at once on a virtual clock when ``speed`` is infinite;
unpaced, each sentence as soon as it is synthesized) with cumulative
transcript deltas revealed word by word as the audio goes out.

Brain hooks (declared by :class:`~voicecli.agent.voice_contracts.Brain`, defaults in
:class:`~voicecli.agent.voice_contracts.BaseBrain`): ``configure(prompt=, language=)`` receives
a client's prompt and language overrides when the session starts; ``bind_client_tools(call)``
receives :meth:`Engine.call_client_tool` when the dialect can ask its client to run tools
(a ``ToolCallOut``, answered by ``UserToolResult``); ``add_context(text)`` receives a
client's contextual update; ``plays_back_audio`` plays the user's audio after each spoken
reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from voicecli.agent.interfaces import (
    AgentOutput,
    ClientClose,
    Closing,
    ErrorOut,
    Interrupted,
    PingOut,
    ProtocolViolation,
    Ready,
    TalkStop,
    ToolCallOut,
    TranscriptOut,
    TurnDone,
    UserAudio,
    UserCommit,
    UserContext,
    UserHold,
    UserInput,
    UserInterrupt,
    UserText,
    UserToolResult,
)
from voicecli.agent.listener import Listener
from voicecli.agent.speaker import Speaker, pace_clock
from voicecli.agent.voice_contracts import Brain, Chunker, Recognizer, Synthesizer
from voicecli.audio.vad import SPEECH_END, SPEECH_START, EnergyVad

log = logging.getLogger(__name__)

PREROLL_MS = 300
MAX_UTTERANCE_S = 60

Emit = Callable[[AgentOutput], None]


@dataclass(frozen=True)
class EngineOptions:
    greeting: str | None = None  # None: the brain's greeting; "": none
    hangover_ms: int = 600
    threshold_db: float = -40.0
    min_speech_ms: int = 60
    barge_in: bool = True
    chunk_ms: int = 40
    ping_interval: float | None = None
    paced: bool = True  # the dialect's ``paced``
    speed: float = 1.0  # the pace against real time (``math.inf``: a virtual clock)
    reply_text_first: bool = False  # the dialect's ``reply_text_first``
    chunker: Callable[[], Chunker] | None = None  # how replies are split for synthesis


async def _once(text: str) -> AsyncIterator[str]:
    yield text


class Engine:
    """One session's conversation. Create it, call :meth:`start` once the session is
    ready, :meth:`handle` every user input, and :meth:`close` at the end."""

    def __init__(self, *, brain: Brain, synth: Synthesizer, recognizer: Recognizer | None,
                 input_rate: int, output_rate: int, audio_out: bool, emit: Emit,
                 options: EngineOptions | None = None, client_tools: bool = False) -> None:
        self.brain = brain
        self.options = options or EngineOptions()
        self.input_rate = input_rate
        self.session_id = str(uuid.uuid4())
        self._emit = emit
        self._speaker = Speaker(synth=synth, rate=output_rate, audio_out=audio_out, emit=emit,
                                chunk_ms=self.options.chunk_ms, paced=self.options.paced,
                                reply_text_first=self.options.reply_text_first,
                                chunker=self.options.chunker, clock=pace_clock(self.options.speed))
        self._stt = Listener(recognizer, input_rate, emit) if recognizer is not None and audio_out else None
        self._vad = EnergyVad(input_rate, threshold_db=self.options.threshold_db,
                              hangover_ms=self.options.hangover_ms, min_speech_ms=self.options.min_speech_ms)
        self._turn_task: asyncio.Task[None] | None = None
        self._text_only = not audio_out
        self._backlog: deque[Callable[[], Awaitable[None]]] = deque()  # text-only: replies to make
        self.prompt: str | None = None  # a client's override of the system prompt (Ready.prompt)
        self.language: str | None = None  # a client's override of the language (Ready.language)
        self._ping_task: asyncio.Task[None] | None = None
        self._preroll: deque[bytes] = deque()
        self._preroll_bytes = 0
        self._utterance: bytearray | None = None
        self._hold: int | None = None  # push-to-talk: bytes of user audio the hold lasts
        self._paused_at: int | None = None  # held: utterance length when the VAD heard a pause
        self._started = False
        self._closed = False
        self._tool_calls: dict[str, asyncio.Future[tuple[Any, bool]]] = {}
        if client_tools:
            brain.bind_client_tools(self.call_client_tool)

    # ---- lifecycle ---------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._started

    def start(self, *, send_ready: bool = True, input_rate: int | None = None,
              output_rate: int | None = None, greeting: str | None = None, text_only: bool = False,
              prompt: str | None = None, language: str | None = None) -> None:
        """The session is open: emit Ready (unless the dialect sent it) and greet.

        ``text_only`` (the client asked for no agent audio) makes every reply whole and
        unpaced, and queues typed messages instead of cutting the reply. ``prompt`` and
        ``language`` (a client's overrides) are kept (``self.prompt``, ``self.language``)
        and go to the brain's ``configure``."""
        if self._started or self._closed:
            return
        self._started = True
        self.prompt, self.language = prompt, language
        if prompt or language:
            self.brain.configure(prompt=prompt, language=language)
        if text_only:
            self._text_only = True
            self._speaker.audio_out = False
        if input_rate and input_rate != self.input_rate:
            self.input_rate = input_rate
            self._vad = EnergyVad(input_rate, threshold_db=self.options.threshold_db,
                                  hangover_ms=self.options.hangover_ms,
                                  min_speech_ms=self.options.min_speech_ms)
            if self._stt is not None:
                self._stt.input_rate = input_rate
        if output_rate:
            self._speaker.rate = output_rate
        if send_ready:
            self._emit(Ready(self.session_id, self.input_rate, self._speaker.rate, text_only=self._text_only))
        if self._stt is not None:
            self._stt.start_worker()
        if self.options.ping_interval:
            self._ping_task = asyncio.create_task(self._pinger(self.options.ping_interval))
        if greeting is None:
            greeting = self.options.greeting
        if greeting is None:
            greeting = self.brain.greeting()
        if greeting:
            said = greeting
            self._reply(lambda: self._speaker.speak(_once(said)))

    async def close(self) -> None:
        self._closed = True
        tasks = [t for t in (self._turn_task, self._ping_task) if t is not None]
        for task in tasks:
            task.cancel()
        if self._stt is not None:
            tasks.extend(self._stt.stop())
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ---- inputs ------------------------------------------------------------------------

    def handle(self, item: UserInput) -> None:
        if self._closed:
            return
        if isinstance(item, UserAudio):
            if item.whole_utterance:
                pcm, rate = item.pcm, item.rate
                self._reply(lambda: self._user_turn(pcm, rate))
            else:
                self._on_audio(item.pcm)
        elif isinstance(item, UserText):
            text = item.text
            self._reply(lambda: self._speaker.speak(self.brain.reply(text)))
        elif isinstance(item, UserCommit):
            paused = self._paused_at is not None
            self._release_hold()
            if self._utterance is not None:
                self._vad.reset()
                self._end_utterance(self.options.hangover_ms if paused else 0)
        elif isinstance(item, UserHold):
            cap = MAX_UTTERANCE_S * self.input_rate * 2
            self._hold = cap if item.ms is None else min(cap, item.ms * self.input_rate // 1000 * 2)
        elif isinstance(item, UserInterrupt):
            self.interrupt()
        elif isinstance(item, UserContext):
            self.brain.add_context(item.text)
        elif isinstance(item, ClientClose):
            self.interrupt(report=False)
            self._emit(Closing("client_requested", 1000))
            self._closed = True
        elif isinstance(item, ProtocolViolation):
            self._emit(ErrorOut(item.code, item.message))
            if item.close_code is not None:
                self.interrupt(report=False)
                self._emit(Closing("protocol_error", item.close_code))
                self._closed = True
        elif isinstance(item, UserToolResult):
            call = self._tool_calls.pop(item.call_id, None)
            if call is not None and not call.done():
                call.set_result((item.result, item.is_error))
        # UserPong: nothing to do (the dialect measures the round trip)

    async def call_client_tool(self, name: str, arguments: Mapping[str, Any]) -> tuple[Any, bool]:
        """Ask the client to run tool ``name``; its ``(result, is_error)``. Unbounded: the
        caller bounds the wait (cancelling it forgets the call)."""
        call_id = f"call_{uuid.uuid4().hex[:16]}"
        future: asyncio.Future[tuple[Any, bool]] = asyncio.get_running_loop().create_future()
        self._tool_calls[call_id] = future
        try:
            self._emit(ToolCallOut(call_id, name, dict(arguments)))
            return await future
        finally:
            self._tool_calls.pop(call_id, None)

    def interrupt(self, report: bool = True) -> None:
        """Stop the current agent turn now (and forget queued ones); report the cut."""
        self._backlog.clear()
        task, self._turn_task = self._turn_task, None
        if task is None or task.done():
            return
        task.cancel()
        self._report_cut(*self._speaker.cut(), report=report)

    def _report_cut(self, turn: int | None, heard: str, audible: bool, *, report: bool = True) -> None:
        if turn is None or not report:
            return
        if audible:
            self._emit(Interrupted(turn, heard))
            self._emit(TranscriptOut("agent", heard, final=True, turn=turn))
            self._emit(TalkStop(turn))
        self._emit(TurnDone(turn, heard))

    # ---- user audio --------------------------------------------------------------------

    def _on_audio(self, pcm: bytes) -> None:
        if self._utterance is not None:
            if len(self._utterance) < MAX_UTTERANCE_S * self.input_rate * 2:
                self._utterance += pcm
            if self._stt is not None:
                self._stt.feed(pcm)
        else:
            self._preroll.append(pcm)
            self._preroll_bytes += len(pcm)
            limit = self.input_rate * 2 * PREROLL_MS // 1000
            while self._preroll_bytes - len(self._preroll[0]) >= limit:
                self._preroll_bytes -= len(self._preroll.popleft())
        for marker in self._vad.feed(pcm):
            if marker == SPEECH_START:
                self._paused_at = None
                if self._utterance is None:
                    self._start_utterance()
            elif marker == SPEECH_END and self._utterance is not None:
                if self._hold is not None:
                    self._paused_at = len(self._utterance)  # held: the pause is part of the turn
                else:
                    self._end_utterance(self.options.hangover_ms)
        if self._hold is not None:
            self._hold -= len(pcm)
            if self._hold <= 0:
                self._lapse_hold()

    def _release_hold(self) -> None:
        self._hold = None
        if self._utterance is not None and self._paused_at is not None:
            del self._utterance[self._paused_at:]  # the silence after the last words
        self._paused_at = None

    def _lapse_hold(self) -> None:
        """The hold was not renewed: a pause already heard ends the turn now."""
        paused = self._paused_at is not None
        self._release_hold()
        if paused and self._utterance is not None:
            self._end_utterance(self.options.hangover_ms)

    def _start_utterance(self) -> None:
        if not self._text_only and (self.options.barge_in or not self._speaker.talking):
            self.interrupt()
        self._utterance = bytearray(b"".join(self._preroll))
        self._preroll.clear()
        self._preroll_bytes = 0
        if self._stt is not None:
            self._stt.begin(bytes(self._utterance))

    def _end_utterance(self, trailing_silence_ms: int = 0) -> None:
        audio, self._utterance = bytes(self._utterance or b""), None
        trim = max(0, trailing_silence_ms - 100) * self.input_rate // 1000 * 2
        if 0 < trim < len(audio):
            audio = audio[:-trim]  # the played-back clip keeps only 100 ms of the hangover
        if self._speaker.talking and not self.options.barge_in and not self._text_only:
            return  # spoke over the agent with barge-in off: ignored
        rate = self.input_rate
        self._reply(lambda: self._user_turn(audio, rate, streamed=True))

    async def _user_turn(self, audio: bytes, rate: int, streamed: bool = False) -> None:
        text = ""
        if self._stt is not None:
            text = await (self._stt.finish() if streamed else self._stt.recognize(audio, rate))
        if text:
            self._emit(TranscriptOut("user", text, final=True))
        playback = audio if self.brain.plays_back_audio else None
        await self._speaker.speak(self.brain.reply(text), playback=playback, playback_rate=rate)

    # ---- tasks -------------------------------------------------------------------------

    def _reply(self, work: Callable[[], Awaitable[None]]) -> None:
        """Answer now (a voice session cuts the turn in progress) or, text-only, next."""
        if not self._text_only:
            self.interrupt()
            self._turn_task = asyncio.create_task(self._guarded(work()))
            return
        self._backlog.append(work)
        if self._turn_task is None or self._turn_task.done():
            self._turn_task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._backlog:
            await self._guarded(self._backlog.popleft()())

    async def _guarded(self, work: Awaitable[None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failing brain must not kill the session
            log.exception("agent turn failed")
            turn, heard, audible = self._speaker.cut()
            self._emit(ErrorOut("internal_error", "the agent failed to answer"))
            if turn is not None and audible:
                self._emit(TranscriptOut("agent", heard, final=True, turn=turn))
                self._emit(TalkStop(turn))
            if turn is not None:
                self._emit(TurnDone(turn, heard))

    async def _pinger(self, interval: float) -> None:
        event_id = 0
        while True:
            await asyncio.sleep(interval)
            event_id += 1
            self._emit(PingOut(event_id))
