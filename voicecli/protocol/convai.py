"""The ElevenLabs-shaped conversation socket, client side: what ElevenLabs Agents and
PerfVoice have in common.

Both servers send JSON messages of the same names (``conversation_initiation_metadata``,
``audio``, ``interruption``, ``ping``, ``agent_response``, ``user_transcript``,
``error``) and take mic audio as ``{"user_audio_chunk": <base64>}``: the messages of
:mod:`voicecli.protocol.wire.elevenlabs` (PerfVoice's vocabulary reads them leniently,
:mod:`voicecli.protocol.wire.perfvoice`). What the values mean is decided here:

- audio formats are named ``pcm_16000`` / ``ulaw_8000`` (:func:`parse_format`);
- the adapter's :class:`Phase` goes ``CONNECTING`` → ``CONVERSING`` (the metadata sets
  the formats and the conversation id) → ``CLOSING`` (the client asked to end); mic audio
  outside ``CONVERSING`` is dropped and counted in ``dropped_audio_frames``;
- after ``interruption{event_id: N}`` every ``audio`` whose ``event_id <= N`` is dropped
  and counted in ``dropped_audio_events``; an interruption without an id drops nothing;
- an agent message's ``event_id`` is its agent turn (``turn`` on the event): a reply's
  ``agent_response`` and its ``audio`` chunks share one id, whatever order they come in;
- μ-law audio is converted from and to PCM16 at the edge;
- an ``error`` is fatal and remembered for the close that follows it.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from voicecli.pcm import ulaw
from voicecli.protocol.base import Adapter, DialectConfig, Frame, split_base
from voicecli.protocol.events import (
    AgentAudio,
    AudioFormat,
    ErrorEvent,
    Event,
    Interruption,
    SessionStarted,
)
from voicecli.protocol.wire.elevenlabs import PCM_RATES, UserAudioChunk, encode, read_format

FORMAT_RATES = PCM_RATES


def parse_format(value: Any) -> AudioFormat:
    """``pcm_16000`` → pcm16@16000, ``ulaw_8000`` → ulaw@8000. Raises ValueError."""
    codec, rate = read_format(value)
    return AudioFormat("pcm16" if codec == "pcm" else "ulaw", rate)


class Phase(Enum):
    """Where a conversation is: mic audio goes out only while ``CONVERSING``."""

    CONNECTING = "connecting"  # no conversation_initiation_metadata yet
    CONVERSING = "conversing"
    CLOSING = "closing"  # the client asked to end the session


class ConvaiAdapter(Adapter):
    """The session state and the message handling an ElevenLabs-shaped adapter shares."""

    def __init__(self, config: DialectConfig, default_format: AudioFormat) -> None:
        super().__init__(config)
        split_base(config.url)  # validates the URL early
        self.phase = Phase.CONNECTING
        self.input_format = default_format
        self.output_format = default_format
        self.conversation_id: str | None = None
        self.dropped_audio_frames = 0
        self.dropped_audio_events = 0
        self._last_interrupt_id: int | None = None
        self._last_error: ErrorEvent | None = None

    # ---- server messages -----------------------------------------------------------------

    def _format(self, raw: Any) -> AudioFormat:
        """The audio format a metadata message names. Raises ValueError."""
        return parse_format(raw)

    def _session_started(self, out_raw: Any, in_raw: Any, conversation_id: str | None,
                         **details: Any) -> list[Event]:
        """``conversation_initiation_metadata``: the formats, the id, and ready."""
        try:
            out_fmt = self._format(out_raw)
            in_fmt = self._format(in_raw)
        except ValueError as exc:
            return [self._unsupported_format(str(exc))]
        self.input_format, self.output_format = in_fmt, out_fmt
        self.conversation_id = conversation_id
        self.phase = Phase.CONVERSING
        return [SessionStarted(input_format=in_fmt, output_format=out_fmt,
                               conversation_id=conversation_id, details=details)]

    def _unsupported_format(self, problem: str) -> ErrorEvent:
        allowed = ", ".join(f"pcm_{rate}" for rate in FORMAT_RATES) + ", ulaw_8000"
        message = (f"the {self.name} server announced an audio format the provider does not "
                   f"allow ({problem[:160]}; allowed: {allowed})")
        return ErrorEvent(code="unsupported_format", message=message, fatal=True)

    def _agent_audio(self, data: bytes, event_id: int | None, spoken: str | None = None) -> AgentAudio | None:
        """The decoded payload of an ``audio`` message as PCM16 (``spoken``: the characters
        it speaks, from its alignment), or None when an interruption made it stale."""
        if (event_id is not None and self._last_interrupt_id is not None
                and event_id <= self._last_interrupt_id):
            self.dropped_audio_events += 1
            return None
        fmt = self.output_format
        if fmt.encoding == "ulaw":
            data, fmt = ulaw.decode(data), AudioFormat("pcm16", fmt.sample_rate)
        return AgentAudio(data=data, format=fmt, event_id=event_id, turn=event_id, text=spoken)

    def _interruption(self, event_id: int | None) -> list[Event]:
        if event_id is not None:  # without an id: the session flushes, nothing is dropped
            self._last_interrupt_id = max(self._last_interrupt_id or 0, event_id)
        return [Interruption(event_id=event_id)]

    def _fatal_error(self, code: str, message: str) -> list[Event]:
        err = ErrorEvent(code=code, message=message, fatal=True)
        self._last_error = err
        return [err]

    # ---- commands ------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """The metadata came and the client has not asked to close."""
        return self.phase is Phase.CONVERSING

    def _audio_allowed(self) -> bool:
        return self.ready

    def _user_audio(self, pcm: bytes) -> list[Frame]:
        """A ``user_audio_chunk`` frame, or nothing (counted) while audio is not allowed."""
        if not self._audio_allowed():
            self.dropped_audio_frames += 1
            return []
        data = ulaw.encode(pcm) if self.input_format.encoding == "ulaw" else pcm
        return [encode(UserAudioChunk(data))]
