"""PerfVoice (withperf) voice agent WebSocket, client side (seed 004; PROTOCOLS.md section E).

Documented:

- ``wss://api.withperf.pro/v1/voice/conversation?api_key=pk_live_…&agent_id=…``: the key
  travels in the query string (``voicecli.secrets.redact`` masks ``api_key=`` values).
- The server sends ``conversation_initiation_metadata`` when its pipeline is ready; audio
  sent before it makes the server close with 1008, so ``SendAudio`` is dropped (and
  counted in ``dropped_audio_frames``) until then.
- Mic audio: ``{"user_audio_chunk": <base64 PCM16 LE, 16 kHz, mono>}`` (no ``type``).
- Server messages: ``conversation_initiation_metadata``, ``audio``, ``agent_response``,
  ``user_transcript``, ``ping`` (answered with ``{"type": "pong", "event_id": …}``) and
  ``interruption``.

Inferred (the field layouts are not public), parsed defensively, ElevenLabs shape first:

- metadata: ``conversation_initiation_metadata_event.{conversation_id,
  agent_output_audio_format, user_input_audio_format}`` (``pcm_16000`` style), or the
  same fields flat, or ``conversation_id``/``session_id``; formats default to PCM16 16 kHz.
- audio: ``audio_event.audio_base_64`` (+ ``event_id``), or flat ``audio_base_64`` /
  ``audio`` / ``data``; PCM16 at the metadata's output rate (16 kHz by default).
- agent_response: ``agent_response_event.agent_response`` or flat ``agent_response`` /
  ``text``; user_transcript: ``user_transcription_event.user_transcript`` or flat
  ``user_transcript`` / ``text``.
- ping: ``ping_event.event_id`` or flat ``event_id``; ``ping_ms`` likewise.
- interruption: ``interruption_event.event_id`` or flat ``event_id``. With an id, later
  audio at or below it is dropped (the ElevenLabs rule); without one nothing is dropped
  (the session flushes playback on the event).
- error: ``error_event.{code, message}`` or flat ``code`` / ``message`` / ``error``.
- No text input is documented (``SendText`` sends nothing; ``capabilities.text_input``
  is False); the close is the client closing the socket.

Options: ``path`` (default ``/v1/voice/conversation``).
"""

from __future__ import annotations

from typing import ClassVar

from voicecli.errors import AuthError, NotFoundError, UsageError
from voicecli.protocol.base import (
    Capabilities,
    DialectConfig,
    Frame,
    Handshake,
    default_handshake_error,
    unknown_from,
    ws_url,
)
from voicecli.protocol.closing import unexpected_close
from voicecli.protocol.commands import Command, Pong, SendAudio
from voicecli.protocol.convai import ConvaiAdapter
from voicecli.protocol.events import (
    AudioFormat,
    Event,
    Ping,
    SessionEnded,
    TranscriptFinal,
    Unknown,
)
from voicecli.protocol.wire import WireError
from voicecli.protocol.wire import elevenlabs as el
from voicecli.protocol.wire import perfvoice as wire

CONVERSATION_PATH = "/v1/voice/conversation"
DEFAULT_FORMAT = AudioFormat("pcm16", 16000)


class PerfVoiceAdapter(ConvaiAdapter):
    name: ClassVar[str] = "perfvoice"
    capabilities: ClassVar[Capabilities] = Capabilities(
        text_input=False, interruption_signal=True, client_interrupt=False,
        client_turns=False, context_update=False, keepalive=True, transcripts=True)
    known_hosts: ClassVar[tuple[str, ...]] = ("api.withperf.pro",)

    def __init__(self, config: DialectConfig) -> None:
        super().__init__(config, DEFAULT_FORMAT)
        self.path = str(config.options.get("path", CONVERSATION_PATH))

    def handshake(self) -> Handshake:
        if not self.config.api_key:
            raise AuthError("no API key for perfvoice: set PERFVOICE_API_KEY")
        if not self.config.agent_id:
            raise UsageError("perfvoice needs an agent id: pass --agent ID")
        query = {"api_key": self.config.api_key.reveal(), "agent_id": self.config.agent_id}
        return Handshake(url=ws_url(self.config.url, self.path, query), headers=dict(self.config.headers))

    def handshake_error(self, status: int, body: bytes) -> Exception:
        if status in (401, 403):
            return AuthError(f"PerfVoice refused the API key (HTTP {status}); check PERFVOICE_API_KEY")
        if status == 404:
            return NotFoundError(f"PerfVoice has no agent {self.config.agent_id!r} (HTTP 404)")
        return default_handshake_error(status, body, "the PerfVoice server")

    # ---- frames -------------------------------------------------------------------------

    def feed(self, frame: Frame) -> list[Event]:
        try:
            message = wire.parse_server(frame)
        except WireError as err:
            if err.message_type == el.ConversationMetadata.TYPE and (err.field or "").endswith("_format"):
                return [self._unsupported_format(err.problem)]
            return [unknown_from(err, frame)]
        match message:
            case el.ConversationMetadata(conversation_id=cid):
                return self._session_started(message.agent_output_audio_format, message.user_input_audio_format, cid)
            case el.Audio(audio_base_64=data) if len(data) % 2:
                return [Unknown(type=message.TYPE, raw=frame, malformed=True)]  # not PCM16
            case el.Audio(audio_base_64=data, event_id=event_id):
                audio = self._agent_audio(data, event_id)
                return [audio] if audio is not None else []
            case wire.Ping(event_id=event_id, ping_ms=ping_ms):
                return [Ping(event_id=event_id, ping_ms=ping_ms)]
            case el.Interruption(event_id=event_id):
                return self._interruption(event_id)
            case el.AgentResponse(agent_response=text, event_id=event_id):  # the whole reply, as written
                return [TranscriptFinal(role="agent", text=text, event_id=event_id, turn=event_id, as_heard=False)]
            case el.UserTranscript(user_transcript=text, event_id=event_id):
                return [TranscriptFinal(role="user", text=text, event_id=event_id)]
            case el.Error(error_type=code, message=text):
                return self._fatal_error(code or "error", text or code or "error")
        return [Unknown(type=message.TYPE, raw=frame)]  # pragma: no cover - every message is matched

    def encode(self, command: Command) -> list[Frame]:
        match command:
            case SendAudio(pcm=pcm):
                return self._user_audio(pcm)  # dropped before the metadata: the server closes with 1008
            case Pong(event_id=event_id):
                return [wire.encode(wire.Pong(event_id=event_id))]
        return []  # no text, commit, interrupt or end message is documented

    def on_close(self, code: int | None, reason: str) -> list[Event]:
        detail = (self._last_error.message if self._last_error else "") or reason
        if code == 1008:
            what = ("PerfVoice closed the session (code 1008): audio was sent before the session "
                    "was ready, or the request was refused")
            return [SessionEnded(reason=reason or "policy violation", close_code=code,
                                 error=what + (f": {detail}" if detail else ""))]
        if code in (1000, 1001) and self._last_error is None:
            return [SessionEnded(reason=reason or "closed", close_code=code)]
        if code == 1011:
            return [SessionEnded(reason=reason or "server error", close_code=code, retryable=True,
                                 error="PerfVoice had an internal server error (code 1011)"
                                       + (f": {detail}" if detail else ""))]
        if code in (1000, 1001):
            return [SessionEnded(reason=reason or "closed", close_code=code,
                                 error=f"{self._last_error.code}: {detail}" if self._last_error else None)]
        return [unexpected_close(self.name, code, reason, detail)]
