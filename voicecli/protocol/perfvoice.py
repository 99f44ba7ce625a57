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

import base64
import json
from typing import Any, ClassVar

from voicecli.errors import AuthError, NotFoundError, UsageError
from voicecli.protocol.base import (
    Capabilities,
    DialectConfig,
    Frame,
    Handshake,
    JsonAdapter,
    default_handshake_error,
    ws_url,
)
from voicecli.protocol.closing import unexpected_close
from voicecli.protocol.commands import Command, Pong, SendAudio
from voicecli.protocol.convai import ConvaiAdapter, int_or_none, parse_format
from voicecli.protocol.events import (
    AudioFormat,
    Event,
    Ping,
    SessionEnded,
    TranscriptFinal,
    Unknown,
)

CONVERSATION_PATH = "/v1/voice/conversation"
DEFAULT_FORMAT = AudioFormat("pcm16", 16000)


def _first(m: dict[str, Any], nested: str, *keys: str) -> Any:
    """The first present value of ``keys`` in ``m[nested]`` (when a dict), then in ``m``."""
    inner = m.get(nested)
    for source in ((inner,) if isinstance(inner, dict) else ()) + (m,):
        for key in keys:
            if key in source and source[key] is not None:
                return source[key]
    return None


class PerfVoiceAdapter(ConvaiAdapter, JsonAdapter):
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

    def _format(self, raw: Any) -> AudioFormat:
        return parse_format(raw) if raw is not None else DEFAULT_FORMAT

    def dispatch(self, kind: str, m: dict[str, Any]) -> list[Event]:
        if kind == "audio":
            b64 = _first(m, "audio_event", "audio_base_64", "audio", "data")
            if not isinstance(b64, str):
                raise TypeError("no audio payload")
            data = base64.b64decode(b64, validate=True)
            audio = self._agent_audio(data, int_or_none(_first(m, "audio_event", "event_id")))
            if audio is None:
                return []
            if len(audio.data) % 2:
                raise ValueError("odd-length PCM16 audio")
            return [audio]
        if kind == "ping":
            nested = "ping_event"
            return [Ping(event_id=int_or_none(_first(m, nested, "event_id")),
                         ping_ms=int_or_none(_first(m, nested, "ping_ms")))]
        if kind == "interruption":
            return self._interruption(int_or_none(_first(m, "interruption_event", "event_id")))
        if kind == "conversation_initiation_metadata":
            nested = "conversation_initiation_metadata_event"
            out_raw = _first(m, nested, "agent_output_audio_format", "output_format")
            in_raw = _first(m, nested, "user_input_audio_format", "input_format")
            cid = _first(m, nested, "conversation_id", "conversationId", "session_id")
            return self._session_started(out_raw, in_raw, str(cid) if cid is not None else None)
        if kind == "agent_response":
            text = _first(m, "agent_response_event", "agent_response", "text")
            if not isinstance(text, str):
                raise TypeError("no agent_response text")
            event_id = int_or_none(_first(m, "agent_response_event", "event_id"))
            return [TranscriptFinal(role="agent", text=text, event_id=event_id, turn=event_id)]
        if kind == "user_transcript":
            text = _first(m, "user_transcription_event", "user_transcript", "text")
            if not isinstance(text, str):
                raise TypeError("no user_transcript text")
            return [TranscriptFinal(role="user", text=text,
                                    event_id=int_or_none(_first(m, "user_transcription_event", "event_id")))]
        if kind == "error":
            code = _first(m, "error_event", "error_type", "code")
            text = _first(m, "error_event", "message", "error", "reason")
            if isinstance(text, dict):
                text = text.get("message")
            return self._fatal_error(str(code or "error"), str(text or code or "error"))
        return [Unknown(type=kind, raw=json.dumps(m))]

    def encode(self, command: Command) -> list[Frame]:
        if isinstance(command, SendAudio):
            return self._user_audio(command.pcm)  # dropped before the metadata: the server closes with 1008
        if isinstance(command, Pong):
            message: dict[str, Any] = {"type": "pong"}
            if command.event_id is not None:
                message["event_id"] = command.event_id
            return [json.dumps(message)]
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
