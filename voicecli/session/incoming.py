"""What the session does with each event from the provider, in order.

Pings are answered; ``SessionStarted`` opens the audio (at its formats) and makes the
session live; agent audio is played (decoded once, here) unless it belongs to a reply the
user cut, whose remaining text and audio are dropped until the provider's next agent turn;
talk and interruption events follow who is speaking (an interruption flushes playback
after it is emitted); client-side tool calls are answered from ``options.client_tools``;
the provider's end and fatal errors are kept for the session's close. The first of a
reply, audio or (text-only) words, gives the ``reply`` latency of the user's turn.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import replace
from typing import Any

from voicecli.errors import ProtocolError
from voicecli.protocol.commands import HoldTurn, Pong, SendToolResult
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
from voicecli.session.ending import merge_end
from voicecli.session.events import Reconnected, TurnLatency
from voicecli.session.mic_loop import MicAndMeters
from voicecli.transport import ConnectionEnded

log = logging.getLogger(__name__)


class IncomingEvents(MicAndMeters):
    """Handles the provider's events (see the module docstring)."""

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
            log.debug("agent started talking (turn %s)", event.turn)
        elif isinstance(event, AgentStoppedTalking):
            self.agent_talking = False
            playback = self.link.playback
            log.debug("agent stopped talking (turn %s); %.2f s of its audio still to play", event.turn,
                      playback.buffered_seconds if playback is not None else 0.0)
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

    def _of_cut_reply(self, event: Event) -> bool:
        """Agent text of the reply the user cut (the provider, not told, goes on with it)."""
        if self._cut_turn is None:
            return False
        if isinstance(event, (TranscriptDelta, TranscriptFinal)):
            return event.role == "agent" and event.turn == self._cut_turn
        if isinstance(event, (TextDelta, TranscriptCorrection)):
            return event.turn == self._cut_turn
        return False

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


def _agent_words(event: Event) -> bool:
    if isinstance(event, (TranscriptDelta, TranscriptFinal)):
        return event.role == "agent" and bool(event.text.strip())
    return isinstance(event, TextDelta) and event.kind == "text" and bool(event.text.strip())
