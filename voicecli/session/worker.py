"""The session worker: one conversation with one provider.

:class:`Session` is the public API and each connection's run; what it holds and shares is
:mod:`voicecli.session.state`, the devices, microphone and meters
:mod:`voicecli.session.mic_loop`, the handling of each provider event
:mod:`voicecli.session.incoming`. Tasks, all on one asyncio loop:

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
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from voicecli.audio.base import CaptureStream, DeviceChoice, PlaybackStream
from voicecli.errors import AudioDeviceError, ProtocolError, SessionTimeout, VoicecliError
from voicecli.protocol.base import Handshake
from voicecli.protocol.commands import Close, CommitAudio, HoldTurn
from voicecli.protocol.events import Event
from voicecli.secrets import redact
from voicecli.session.ending import closed_from_end
from voicecli.session.events import Connected, Connecting, Mark, SessionClosed
from voicecli.session.incoming import IncomingEvents
from voicecli.session.reconnect import Failure
from voicecli.session.redial import ConnectionOutcome, Redialer
from voicecli.session.state import RECENT_AUDIO_S, AdapterFactory, Connector, HttpCaller, WireConnection
from voicecli.transport import ConnectionEnded, HandshakeRejected

if TYPE_CHECKING:
    from voicecli.audio.devices import DeviceSpec
    from voicecli.session.surface import Direction

__all__ = ["RECENT_AUDIO_S", "AdapterFactory", "Connector", "HttpCaller", "Session", "WireConnection"]

log = logging.getLogger("voicecli.session")


class Session(IncomingEvents):
    """One conversation. Use ``run()`` in a task, read ``events()``, call ``submit()``."""

    # ---- public API ------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[Event]:
        """Every event, protocol and session-level, ending with :class:`SessionClosed`."""
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, SessionClosed):
                return

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

    async def switch_device(self, direction: Direction, spec: DeviceSpec) -> None:
        """Open another microphone (``"input"``) or speaker (``"output"``) mid-session:
        the backend's device becomes ``spec`` and the streams reopen at the same formats."""
        if not isinstance(self.audio, DeviceChoice):
            raise AudioDeviceError("this audio backend has no devices to choose from")
        if direction == "input":
            self.audio.input_device = spec
        else:
            self.audio.output_device = spec
        if self.session_started is not None:
            await self._close_audio(keep_recorder=True)
            await self._open_audio(self.session_started)

    @property
    def playback(self) -> PlaybackStream | None:
        return self.link.playback

    @property
    def capture(self) -> CaptureStream | None:
        return self.link.capture

    async def alive(self, timeout: float) -> bool:
        """Whether the server still answers (a WebSocket ping within ``timeout`` s)."""
        return self._conn is not None and await self._conn.alive(timeout)

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
        for event in self.adapter.on_open():
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
        if send.done() and not send.cancelled() and send.exception() is None and not receive.done() \
                and self._close_sent:
            # the send loop ended because we asked to close with the provider's end message:
            # give the server a moment to answer it (with no such message, nothing will come)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(receive), self.options.close_grace_s)
        for task in (receive, send):
            if task.done() and not task.cancelled():
                exc = task.exception()
                if exc is not None:
                    raise exc
        return closed_from_end(self._ended, asked_to_close=self._closing)

    async def _open(self, handshake: Handshake) -> WireConnection:
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
                frames = self.adapter.encode(command)
                if isinstance(command, Close):
                    self._close_sent = bool(frames)
                for frame in frames:
                    await self._send_frame(frame)
            except ConnectionEnded:
                return
            if isinstance(command, Close):
                return

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
