"""What one session holds, and the small steps every part of it shares.

:class:`SessionState` is the base of :class:`voicecli.session.worker.Session`: the state
set up for a conversation (its queues, the connection, the audio link, the turn and reply
bookkeeping, the figures), queueing commands (``submit``, which also cuts a reply the user
talks or types over), and the turn-end mark for the ``reply`` latency. The parts are
:mod:`voicecli.session.mic_loop` (devices, microphone, meters),
:mod:`voicecli.session.incoming` (each event from the provider) and
:mod:`voicecli.session.worker` (the public API and each connection's run).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from voicecli.audio.base import AudioBackend
from voicecli.audio.vad import EnergyVad
from voicecli.protocol.base import Adapter, Frame, HttpRequest
from voicecli.protocol.commands import Command, CommitAudio, Interrupt, SendText
from voicecli.protocol.events import AudioFormat, Event, Interruption, SessionEnded, SessionStarted
from voicecli.session.audio_link import AudioLink
from voicecli.session.events import SessionClosed, TextSent
from voicecli.session.hold import PauseSqueezer
from voicecli.session.options import SessionOptions
from voicecli.transport import ConnectionEnded, http_request
from voicecli.transport import connect as ws_connect


class WireConnection(Protocol):
    """An open WebSocket to the provider (:class:`voicecli.transport.Connection`);
    ``send`` and ``recv`` raise :class:`~voicecli.transport.ConnectionEnded`."""

    async def send(self, frame: Frame) -> None: ...

    async def recv(self) -> Frame: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...

    async def alive(self, timeout: float) -> bool:
        """Whether the peer answers a WebSocket ping within ``timeout`` seconds."""
        ...


Connector = Callable[..., Awaitable[WireConnection]]
HttpCaller = Callable[[HttpRequest], Awaitable[tuple[int, bytes]]]
AdapterFactory = Callable[[], Adapter]
RECENT_AUDIO_S = 1.0  # agent audio this recent: a reply was streaming (dialects with no talk events)


class SessionState:
    """A session's state and shared steps (see the module docstring)."""

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
        self._conn: WireConnection | None = None
        self.link = AudioLink(audio, self.options, self._emit)
        self._started = asyncio.Event()
        self._closing = False
        self._close_sent = False  # the provider's end message went out (the server may answer it)
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

    @property
    def live(self) -> bool:
        """Connected, and the provider said it is ready."""
        return self._conn is not None and self._started.is_set()

    @property
    def mic_open(self) -> bool:
        return not self.muted and self.gate_open

    def _mid_reply(self) -> bool:
        if self._talk_events:
            return self.agent_talking
        return self.link.busy or time.monotonic() - self._last_audio_at < RECENT_AUDIO_S

    def _mark_turn_end(self, source: str, at: float | None = None) -> None:
        self._turn_end = (at if at is not None else time.monotonic(), source)

    def _emit(self, event: Event) -> None:
        self._events.put_nowait(event)

    emit = _emit  # for the reconnect loop

    async def _send_frame(self, frame: Frame) -> None:
        async with self._send_lock:
            if self._conn is None:
                raise ConnectionEnded(None, "not connected")
            await self._conn.send(frame)

    def _new_vad(self, rate: int) -> EnergyVad:
        return EnergyVad(rate, threshold_db=self.options.vad_threshold_db,
                         hangover_ms=self.options.vad_hangover_ms)
