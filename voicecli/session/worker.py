"""The session worker: one conversation with one provider.

Tasks, all on one asyncio loop:

- receive: socket frame → ``adapter.feed`` → events (audio to playback, pings answered);
- send: command queue → ``adapter.encode`` → socket;
- mic: capture frames (20 ms, session rate) → ``SendAudio`` → socket, gated by mute/PTT;
- push-to-talk (``set_push_to_talk``): opening the gate holds the user's turn
  (``HoldTurn``), closing it is the release (``CommitAudio``); in between no pause ends the
  turn on the client's side (no client-VAD commit, no turn-end mark), and the ``reply``
  latency counts from the release; where the wire has no hold message (token-pcm,
  PerfVoice) the pauses are kept off it and the release sends the trailing silence at once
  (:mod:`voicecli.session.hold`);
- meters: throttled mic and agent levels.

The first task to finish ends the connection; the others are cancelled, the socket closed.
Without ``options.reconnect`` that ends the session: the streams are closed and ``run()``
returns the final :class:`SessionClosed` (also emitted). With it, :mod:`voicecli.session.redial`
retries failed connections (``connection()``, a fresh adapter each) on the same event stream;
the audio devices stay open, and mic frames are dropped until the new connection is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

from voicecli.audio.base import AudioBackend, CaptureStream, PlaybackStream
from voicecli.audio.vad import EnergyVad
from voicecli.errors import AudioDeviceError, ProtocolError, SessionTimeout, VoicecliError
from voicecli.protocol.base import Adapter, Frame, Handshake, HttpRequest
from voicecli.protocol.commands import (
    Close,
    Command,
    CommitAudio,
    HoldTurn,
    Interrupt,
    Pong,
    SendAudio,
    SendText,
    SendToolResult,
)
from voicecli.protocol.events import (
    AgentAudio,
    AgentStartedTalking,
    AgentStoppedTalking,
    AudioFormat,
    ErrorEvent,
    Event,
    Interruption,
    Ping,
    SessionEnded,
    SessionStarted,
    TextDelta,
    ToolCall,
    TranscriptCorrection,
    TranscriptDelta,
    TranscriptFinal,
)
from voicecli.secrets import redact
from voicecli.session.audio_link import AudioLink
from voicecli.session.ending import closed_from_end, merge_end
from voicecli.session.events import Connected, Connecting, Mark, Reconnected, SessionClosed, TextSent, TurnLatency
from voicecli.session.hold import PauseSqueezer
from voicecli.session.lean_mic import run_lean_mic
from voicecli.session.options import SessionOptions
from voicecli.session.reconnect import Failure
from voicecli.session.redial import ConnectionOutcome, Redialer
from voicecli.transport import Connection, ConnectionEnded, HandshakeRejected, http_request
from voicecli.transport import connect as ws_connect

log = logging.getLogger("voicecli.session")

Connector = Callable[..., Awaitable[Connection]]
HttpCaller = Callable[[HttpRequest], Awaitable[tuple[int, bytes]]]
AdapterFactory = Callable[[], Adapter]
RECENT_AUDIO_S = 1.0  # agent audio this recent: a reply was streaming (dialects with no talk events)


class Session:
    """One conversation. Use ``run()`` in a task, read ``events()``, call ``submit()``."""

    def __init__(self, adapter: Adapter, audio: AudioBackend | None = None,
                 options: SessionOptions | None = None, *, connector: Connector = ws_connect,
                 http: HttpCaller = http_request, adapter_factory: AdapterFactory | None = None) -> None:
        self.adapter = adapter
        # a reconnect needs a fresh adapter (new token, new signed URL, new turn ids)
        self.adapter_factory: AdapterFactory = adapter_factory or (lambda: type(adapter)(adapter.config))
        self.audio = audio
        self.options = options or SessionOptions()
        self._connector = connector
        self._http = http
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._commands: asyncio.Queue[Command] = asyncio.Queue()
        self._conn: Connection | None = None
        self.link = AudioLink(audio, self.options, self._emit)
        self._started = asyncio.Event()
        self._closing = False
        self.close_requested = asyncio.Event()
        self.redial_now = asyncio.Event()  # /reconnect: skip the wait, try now
        self.redial_attempt = 0  # the reconnect try in progress (0: the first connection)
        self.reconnecting_off = False
        self._audio_formats: tuple[AudioFormat, AudioFormat] | None = None
        self._talk_events = False  # the dialect says when the agent talks
        self._audio_turn: int | None = None  # the provider turn of the last agent audio played
        self._cut_turn: int | None = None  # a reply the user cut: its audio is dropped
        self._last_audio_at = -RECENT_AUDIO_S
        self._ended: SessionEnded | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._mic_task: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()
        self.muted = self.options.start_muted
        self.gate_open = True  # push-to-talk gate; True = open mic
        self.push_to_talk = False  # the gate is push-to-talk's: an open gate holds the turn
        self.holding = False  # push-to-talk holds the user's turn (pressed, not released)
        self.agent_talking = False
        self.session_started: SessionStarted | None = None
        self.closed: SessionClosed | None = None
        # figures
        self.t_start = 0.0
        self.connect_ms: float | None = None
        self.ready_ms: float | None = None
        self.agent_audio_s = 0.0
        self.frames_sent = 0
        self.silence_frames_sent = 0
        self._turn_end: tuple[float, str] | None = None
        self._vad = self._new_vad(16000)  # replaced at the capture's rate when the mic opens
        self._pauses = PauseSqueezer(self.options.frame_ms, self.options.vad_threshold_db)
        self._last_voiced = 0.0

    # ---- public API ------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[Event]:
        """Every event, protocol and session-level, ending with :class:`SessionClosed`."""
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, SessionClosed):
                return

    def submit(self, command: Command) -> None:
        """Queue a command (text, commit, interrupt, close, ...). Never blocks."""
        if isinstance(command, SendText):
            if self.adapter.capabilities.client_interrupt:
                self._cut_reply("user_typing")  # the provider cuts its reply on new input too
            self._mark_turn_end("text")
            self._emit(TextSent(command.text))
        elif isinstance(command, CommitAudio):
            self._mark_turn_end("commit")
        elif isinstance(command, Interrupt):
            self._cut_reply(command.reason or "client")
        self._commands.put_nowait(command)

    def _cut_reply(self, reason: str) -> None:
        """The user cut the agent's reply: stop it now (playback flushed) and drop the rest
        of that reply's audio as it keeps arriving, until the provider's next agent turn.
        Reported as an :class:`Interruption` (then :class:`PlaybackFlushed`), as a
        provider's own interruption is."""
        if not (self.agent_talking or self.link.busy or self._mid_reply()):
            return  # (a provider with no talk events is mid-reply while its audio arrives)
        self.agent_talking = False
        self._cut_turn = self._audio_turn
        self._emit(Interruption(reason=reason, turn=self._audio_turn))
        self.link.flush()

    def mark(self, label: str) -> None:
        """Put a :class:`Mark` in the event stream, after every event already emitted."""
        self._emit(Mark(label))

    def close(self) -> None:
        """End the session cleanly (the provider's close message, then the socket); while
        reconnecting, end it at once."""
        self.close_requested.set()
        self.submit(Close())

    def reconnect_now(self) -> bool:
        """Reconnect now (during a wait, or after giving up); False when there is nothing to do."""
        if self.live or self.closed is not None or self.options.reconnect is None:
            return False
        self.redial_now.set()
        return True

    def stop_reconnecting(self) -> None:
        """From now on a lost connection ends the session (smoke, once its first turn starts)."""
        self.reconnecting_off = True

    @property
    def live(self) -> bool:
        """Connected, and the provider said it is ready."""
        return self._conn is not None and self._started.is_set()

    def set_muted(self, muted: bool) -> None:
        """Muted: the mic keeps streaming silence, so the provider's VAD sees no gap."""
        self.muted = muted

    def set_aec(self, on: bool | None) -> str:
        """``/aec on|off`` (None: just tell): one line for the user about echo cancellation."""
        why = self.link.set_aec(on) if on is not None else None
        return why or f"echo cancellation is {'on' if self.link.aec else 'off'}"

    def set_gate(self, open_: bool) -> None:
        """Push-to-talk: open or close the mic. Opening holds the user's turn (with
        push-to-talk on); closing releases it and commits the user's turn."""
        was_open = self.gate_open
        self.gate_open = open_
        if open_ and self.push_to_talk and not self.holding:
            self.holding = True
            self._turn_end = None
            self.submit(HoldTurn())
        if was_open and not open_:
            self.holding = False
            self.submit(CommitAudio())

    def set_push_to_talk(self, on: bool) -> None:
        """Push-to-talk drives the gate (toggle/hold modes) or not (open mic). Turning it
        off while the turn is held releases the turn."""
        self.push_to_talk = on
        if not on and self.holding:
            self.holding = False
            self.submit(CommitAudio())

    async def switch_device(self, direction: str, spec: Any) -> None:
        """Open another microphone (``"input"``) or speaker (``"output"``) mid-session:
        the backend's device becomes ``spec`` and the streams reopen at the same formats."""
        attr = "input_device" if direction == "input" else "output_device"
        if self.audio is None or not hasattr(self.audio, attr):
            raise AudioDeviceError("this audio backend has no devices to choose from")
        setattr(self.audio, attr, spec)
        if self.session_started is not None:
            await self._close_audio(keep_recorder=True)
            await self._open_audio(self.session_started)

    @property
    def mic_open(self) -> bool:
        return not self.muted and self.gate_open

    @property
    def playback(self) -> PlaybackStream | None:
        return self.link.playback

    @property
    def capture(self) -> CaptureStream | None:
        return self.link.capture

    async def alive(self, timeout: float) -> bool:
        """Whether the server still answers (a WebSocket ping within ``timeout`` s)."""
        probe = getattr(self._conn, "alive", None)
        return bool(await probe(timeout)) if callable(probe) else self._conn is not None

    async def wait_started(self, timeout: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self._started.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def run(self) -> SessionClosed:
        """Connect, converse until the session ends, clean up. Never raises for
        expected failures: they come back as ``SessionClosed(error=..., exit_code=...)``."""
        self.t_start = time.monotonic()
        try:
            reconnect = self.options.reconnect
            closed = await (self._run() if reconnect is None else Redialer(self, reconnect).run())
        except VoicecliError as exc:
            closed = SessionClosed(reason=exc.kind, error=redact(str(exc)), exit_code=exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - reported as one line, never a traceback
            log.debug("session failed", exc_info=True)
            closed = SessionClosed(reason="internal", exit_code=1,
                                   error=redact(f"internal error: {exc.__class__.__name__}: {exc}"))
        except asyncio.CancelledError:
            await self._teardown()
            closed = SessionClosed(reason="cancelled")
            self.closed = closed
            self._emit(closed)
            raise
        await self._teardown()
        self.closed = closed
        self._emit(closed)
        return closed

    # ---- the run ---------------------------------------------------------------------------

    async def connection(self) -> ConnectionOutcome:
        """One connection from the handshake to its end, for the reconnect loop: the socket
        is closed after it, the audio devices and the mic task are kept."""
        if self.redial_attempt:
            self.adapter = self.adapter_factory()
            while not self._commands.empty():  # meant for the lost connection
                self._commands.get_nowait()
        self._reset_connection()
        try:
            closed = await self._run()
            failure = Failure.from_end(self._ended) if closed.error else \
                Failure(closed.reason, retryable=False, clean=True)
        except VoicecliError as exc:
            closed = SessionClosed(reason=exc.kind, error=redact(str(exc)), exit_code=exc.exit_code)
            failure = Failure.from_error(exc)
        finally:
            mid_reply = self._mid_reply()
            await self._close_connection()
        return ConnectionOutcome(closed, failure, self._started.is_set(), mid_reply)

    def _reset_connection(self) -> None:
        self.t_start = time.monotonic()
        self.connect_ms = self.ready_ms = None
        self._started.clear()
        self._ended = None
        self.agent_talking = False
        self._turn_end = None

    def _mid_reply(self) -> bool:
        if self._talk_events:
            return self.agent_talking
        return self.link.busy or time.monotonic() - self._last_audio_at < RECENT_AUDIO_S

    async def _run(self) -> SessionClosed:
        while (request := self.adapter.prepare()) is not None:
            status, body = await self._http(request)
            self.adapter.on_http_response(status, body)
        handshake = self.adapter.handshake()
        log.debug("connecting to %s (headers: %s; values not logged)", handshake.url,
                  ", ".join(sorted(handshake.headers)) or "none")
        self._emit(Connecting(url=redact(handshake.url), dialect=self.adapter.name))
        self._conn = await self._open(handshake)
        self.connect_ms = (time.monotonic() - self.t_start) * 1000
        self._emit(Connected(url=redact(handshake.url), dialect=self.adapter.name,
                             connect_ms=self.connect_ms))
        for frame in handshake.initial_frames:
            await self._send_frame(frame)
        on_open = getattr(self.adapter, "on_open", None)
        if callable(on_open):
            for event in on_open():
                await self._handle(event)

        receive = asyncio.create_task(self._receive_loop(), name="session-receive")
        send = asyncio.create_task(self._send_loop(), name="session-send")
        meters = asyncio.create_task(self._meter_loop(), name="session-meters")
        self._tasks = [receive, send, meters]
        ready = asyncio.create_task(self._started.wait())
        done, _ = await asyncio.wait({receive, ready}, timeout=self.options.ready_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if not done:
            ready.cancel()
            raise SessionTimeout(f"no ready message from the {self.adapter.name} server within "
                                 f"{self.options.ready_timeout:g} s")
        if ready not in done:
            ready.cancel()
        await asyncio.wait({receive, send}, return_when=asyncio.FIRST_COMPLETED)
        if send.done() and not send.cancelled() and send.exception() is None and not receive.done():
            # the send loop ended because we asked to close: give the server a moment to answer
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(receive), self.options.close_grace_s)
        for task in (receive, send):
            if task.done() and not task.cancelled():
                exc = task.exception()
                if exc is not None:
                    raise exc
        return closed_from_end(self._ended, asked_to_close=self._closing)

    async def _open(self, handshake: Handshake) -> Connection:
        try:
            return await self._connector(handshake, open_timeout=self.options.open_timeout,
                                         allow_insecure=self.options.allow_insecure)
        except HandshakeRejected as exc:
            error = self.adapter.handshake_error(exc.status, exc.body)
            if isinstance(error, VoicecliError):
                raise error from None
            raise ProtocolError(str(error)) from None

    async def _receive_loop(self) -> None:
        assert self._conn is not None
        while True:
            try:
                frame = await self._conn.recv()
            except ConnectionEnded as exc:
                for event in self.adapter.on_close(exc.code, exc.reason):
                    await self._handle(event)
                return
            for event in self.adapter.feed(frame):
                await self._handle(event)

    async def _send_loop(self) -> None:
        while True:
            command = await self._commands.get()
            if isinstance(command, Close):
                self._closing = True
            try:
                for frame in self.adapter.encode(command):
                    await self._send_frame(frame)
            except ConnectionEnded:
                return
            if isinstance(command, Close):
                return

    async def _send_frame(self, frame: Frame) -> None:
        async with self._send_lock:
            if self._conn is None:
                raise ConnectionEnded(None, "not connected")
            await self._conn.send(frame)

    # ---- events ----------------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        self._events.put_nowait(event)

    emit = _emit  # for the reconnect loop

    async def _handle(self, event: Event) -> None:
        if self._of_cut_reply(event):
            return  # the user stopped this reply: the rest of its text is not reported
        if isinstance(event, Ping):
            for frame in self.adapter.encode(Pong(event.event_id)):
                with contextlib.suppress(ConnectionEnded):
                    await self._send_frame(frame)
        elif isinstance(event, SessionStarted):
            await self._on_started(event)
        elif isinstance(event, AgentAudio):
            played = self._on_audio(event)
            if played is None:
                return  # the rest of a reply the user cut: not played, not reported
            event = played
        elif isinstance(event, AgentStartedTalking):
            self.agent_talking = self._talk_events = True
            self.link.agent_turn_started()
        elif isinstance(event, AgentStoppedTalking):
            self.agent_talking = False
        elif isinstance(event, Interruption):
            self.agent_talking = False
            self._emit(event)  # before the flush's PlaybackFlushed: listeners know which turn was cut
            self.link.flush()
            return
        elif isinstance(event, ToolCall) and event.client_side:
            await self._answer_tool(event)
        elif isinstance(event, SessionEnded):
            self._ended = event if self._ended is None else merge_end(self._ended, event)
        elif isinstance(event, ErrorEvent) and event.fatal and self._ended is None:
            if event.code == "unsupported_format" and self.session_started is None:
                raise ProtocolError(event.message)  # the session cannot start: end it now
            self._ended = SessionEnded(reason="error", error=f"{event.code}: {event.message}")
        elif self.link.playback is None and _agent_words(event):
            self._reply_began()  # no speaker (text-only): the reply begins with its first words
        self._emit(event)

    def _reply_began(self) -> None:
        """The first of the agent's reply arrived: the ``reply`` latency of the user's turn."""
        if self._turn_end is not None:
            started, source = self._turn_end
            self._turn_end = None
            self._emit(TurnLatency(ms=(time.monotonic() - started) * 1000, source=source))

    async def _on_started(self, event: SessionStarted) -> None:
        if self.redial_attempt and self.session_started is not None:
            self._emit(Reconnected(self.redial_attempt))
        self.session_started = event
        self.ready_ms = (time.monotonic() - self.t_start) * 1000
        if self.holding:  # a new connection: the key is still down
            self._commands.put_nowait(HoldTurn())
        formats = (event.input_format, event.output_format)
        if formats != self._audio_formats:  # devices stay open across connections at the same rates
            await self._close_audio(keep_recorder=True)
            await self._open_audio(event)
        self._audio_formats = formats
        self._started.set()

    async def _open_audio(self, event: SessionStarted) -> None:
        await self.link.open(event)
        if self.link.capture is not None:
            lean = self.options.lean_mic  # load sessions: voicecli.session.lean_mic
            mic = self._mic_loop(self.link.capture) if lean is None else run_lean_mic(self, self.link.capture, lean)
            self._mic_task = asyncio.create_task(mic, name="session-mic")

    def _of_cut_reply(self, event: Event) -> bool:
        """Agent text of the reply the user cut (the provider, not told, goes on with it)."""
        if self._cut_turn is None or getattr(event, "turn", None) != self._cut_turn:
            return False
        if isinstance(event, (TranscriptDelta, TranscriptFinal)):
            return event.role == "agent"
        return isinstance(event, (TextDelta, TranscriptCorrection))

    def _on_audio(self, event: AgentAudio) -> AgentAudio | None:
        """Play the chunk; returns it as the PCM16 that was played (encoded chunks are
        decoded once, here, so listeners count seconds the same way for every format), or
        None when it belongs to a reply the user cut."""
        if event.turn is not None and event.turn == self._cut_turn:
            return None
        if event.turn != self._audio_turn:
            self.link.agent_turn_started()  # a new reply's first audio
        self._audio_turn, self._cut_turn = event.turn, None
        decoded = self.link.decode(event)
        if decoded is None:
            return event
        pcm, rate = decoded
        self.agent_audio_s += len(pcm) / 2 / rate
        self._last_audio_at = time.monotonic()
        self._reply_began()
        self.link.play(pcm, rate)
        if event.format.encoding == "pcm16" and event.format.channels == 1:
            return event
        return replace(event, data=pcm, format=AudioFormat("pcm16", rate))

    async def _answer_tool(self, call: ToolCall) -> None:
        handler = self.options.client_tools.get(call.name)
        if handler is None:
            result: Any = "no client tools configured"
            is_error = True
        else:
            try:
                result, is_error = handler(call.arguments), False
            except Exception as exc:  # noqa: BLE001 - a tool's failure is reported to the agent
                result, is_error = f"{exc.__class__.__name__}: {exc}", True
        self.submit(SendToolResult(call_id=call.call_id, result=result, is_error=is_error))

    def _mark_turn_end(self, source: str, at: float | None = None) -> None:
        self._turn_end = (at if at is not None else time.monotonic(), source)

    # ---- mic and meters --------------------------------------------------------------------

    async def _mic_loop(self, capture: CaptureStream) -> None:
        was_finished = False
        self._vad = self._new_vad(capture.rate)
        try:
            async for frame in capture.frames():
                if not self.live:
                    continue  # between connections: no audio before the provider is ready
                caps = self.adapter.capabilities
                now = time.monotonic()
                frame, silenced = self.link.gate(frame, self.mic_open, now)
                self.silence_frames_sent += silenced
                await self._on_mic_frame(frame, now, caps.client_turns, caps.client_interrupt)
                squeeze = self.holding and caps.turn_hold == "none"  # no hold message: hide the pauses
                try:
                    for part in self._pauses.frames(frame, squeeze):
                        for out in self.adapter.encode(SendAudio(part)):
                            await self._send_frame(out)
                        self.frames_sent += 1
                except ConnectionEnded:
                    continue  # the receive loop reports the end; the mic stays open
                if self.options.recorder is not None:
                    self.options.recorder.mic(frame, capture.rate)
                if capture.finished and not was_finished:
                    was_finished = True
                    if not self._vad.speaking and self._turn_end is None:
                        self._mark_turn_end("speech", self._last_voiced or now)
        except ConnectionEnded:
            return
        except (AudioDeviceError, OSError) as exc:
            self.link.lose_capture(str(exc))

    async def _on_mic_frame(self, frame: bytes, now: float, client_turns: bool,
                            client_interrupt: bool) -> None:
        """Client-side turn marks: the end of the user's speech (for the latency figure and,
        where the dialect wants it, a commit) and barge-in where the client must interrupt."""
        for marker in self._vad.feed(frame):
            if marker == "speech_start":
                self._turn_end = None
                if client_interrupt and (self.agent_talking or self.link.busy):
                    self.submit(Interrupt("user_speaking"))
            elif marker == "speech_end" and not self.push_to_talk:  # push-to-talk: the release ends it
                self._mark_turn_end("speech", self._last_voiced)
                if client_turns:
                    self._commands.put_nowait(CommitAudio())
        if self._vad.speaking and self._vad.voiced:
            self._last_voiced = now + self.options.frame_ms / 1000

    def _new_vad(self, rate: int) -> EnergyVad:
        return EnergyVad(rate, threshold_db=self.options.vad_threshold_db,
                         hangover_ms=self.options.vad_hangover_ms)

    async def _meter_loop(self) -> None:
        if self.options.lean_mic is not None:
            return  # load sessions: no meters
        await self._started.wait()
        while True:
            await asyncio.sleep(self.options.level_interval_s)
            levels = self.link.levels(self.mic_open)
            if levels is not None:
                self._emit(levels)

    async def _teardown(self) -> None:
        await self._close_connection()
        await self._close_audio(keep_recorder=False)

    async def _close_connection(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def _close_audio(self, keep_recorder: bool) -> None:
        mic, self._mic_task = self._mic_task, None
        if mic is not None:
            mic.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await mic
        if not keep_recorder:
            await self.link.close()
            return
        for stream in (self.link.capture, self.link.playback):  # other rates: reopen, same recorder
            if stream is not None:
                with contextlib.suppress(Exception):
                    await stream.close()
        self.link.capture = self.link.playback = None


def _agent_words(event: Event) -> bool:
    if isinstance(event, (TranscriptDelta, TranscriptFinal)):
        return event.role == "agent" and bool(event.text.strip())
    return isinstance(event, TextDelta) and event.kind == "text" and bool(event.text.strip())
