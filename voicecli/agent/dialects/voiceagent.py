"""The VoiceAgent SDK protocol (npm ``voice-agent-ai-sdk``; seed 003; PROTOCOLS.md section D),
server side, at ``/voiceagent``.

The peer of ``voicecli.protocol.voiceagent.VoiceAgentAdapter``.

- No handshake: the socket is live once open. When the server has an API key, the
  upgrade needs ``Authorization: Bearer KEY`` (refused with 401 otherwise; the SDK's
  docs suggest checking that header).
- Client messages: ``transcript{text}`` (a typed turn), ``audio{data, format?}`` (one
  whole utterance as an encoded clip: wav, mp3, ogg/webm opus; decoded with
  ``voicecli.audio.codecs``; 10 MB limit), ``interrupt{reason?}``. ``client_ready`` and
  ``video_frame`` are accepted and ignored. A frame that is not JSON is answered with
  ``error{error}``; the socket stays open.
- Server messages per turn: ``stream_start``, ``text_start``/``text_delta``/``text_end``,
  ``speech_stream_start``, ``audio_chunk{chunkId, data, format, text}``…,
  ``speech_stream_end``, ``stream_finish``, ``response_complete{text, toolCalls,
  toolResults}``; a typed or spoken turn by the user also gets
  ``transcription_result{text, language}`` when a recognizer heard something.
- Each ``audio_chunk`` is a standalone file in the connection's format (``mp3`` by
  default; ``?format=opus`` or ``?format=wav`` choose others, a local addition) from
  ``voicecli.audio.codecs.encode``. ``chunkId`` counts from 0 per connection. The
  engine paces its audio in real time, so a chunk holds one sentence, cut at
  ``CHUNK_MAX_S`` seconds so that playback can start early.
- Barge-in: ``speech_interrupted{reason}``; the audio not yet sent is discarded, then
  ``speech_stream_end`` and a ``response_complete`` with the text that was spoken.
- ``tool_call`` is sent for tool calls; errors as ``error{error}`` or
  ``transcription_error{error}``. No keepalive and no close codes are defined.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, ClassVar

from voicecli.agent.dialects import register
from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    ErrorOut,
    Frame,
    Interrupted,
    KeyCheck,
    Reject,
    ServerDialect,
    TalkStart,
    TalkStop,
    TextOut,
    ToolCallOut,
    TranscriptOut,
    TurnDone,
    UpgradeRequest,
    UserAudio,
    UserInput,
    UserInterrupt,
    UserText,
)
from voicecli.audio import codecs

PATH = "/voiceagent"
OUTPUT_RATE = 24000
INPUT_RATE = 16000
CHUNK_MAX_S = 0.5
MAX_AUDIO_BYTES = 10 * 1024 * 1024
FORMATS = ("mp3", "opus", "wav")
_CLIP_FORMATS = {"wav": "wav", "wave": "wav", "mp3": "mp3", "mpeg": "mp3", "opus": "opus", "ogg": "opus",
                 "webm": "opus"}


def _bearer(headers: Any) -> str | None:
    value = headers.get("authorization")
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _clip_format(hint: Any, data: bytes) -> str:
    if data[:4] == b"RIFF":
        return "wav"
    if data[:4] == b"OggS" or data[:4] == b"\x1a\x45\xdf\xa3":
        return "opus"
    if isinstance(hint, str):
        key = hint.lower().split(";", 1)[0].rsplit("/", 1)[-1]
        if key in _CLIP_FORMATS:
            return _CLIP_FORMATS[key]
    return "mp3"


@register
class VoiceAgentServer(ServerDialect):
    name: ClassVar[str] = "voiceagent"
    path: ClassVar[str] = PATH
    # VoiceAgent servers have no fixed path; the SDK's example serves "/", which is what a
    # client given only a base URL connects to
    aliases: ClassVar[tuple[str, ...]] = ("/",)

    def __init__(self) -> None:
        self.input_rate = INPUT_RATE
        self.output_rate = OUTPUT_RATE
        self.format = "mp3"
        self._chunk_id = 0
        self._pcm = bytearray()
        self._sentence: str | None = None
        self._streaming: set[int] = set()

    def accept(self, request: UpgradeRequest, keys: KeyCheck) -> Reject | None:
        if not keys.valid_key(None) and not keys.valid_key(_bearer(request.headers)):
            return Reject(401, "Unauthorized")
        fmt = (request.query.get("format") or "mp3").lower()
        if fmt not in FORMATS:
            return Reject(400, f"format must be one of {', '.join(FORMATS)}")
        self.format = fmt
        return None

    # ---- client frames ---------------------------------------------------------------------

    def feed(self, frame: Frame) -> list[UserInput | AgentOutput]:
        try:
            message = json.loads(frame)
        except (ValueError, UnicodeDecodeError):
            return [ErrorOut("error", "Invalid message format: not JSON")]
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return [ErrorOut("error", "Invalid message format: type is required")]
        kind = message["type"]
        if kind == "transcript":
            text = message.get("text")
            if not isinstance(text, str) or not text.strip():
                return [ErrorOut("error", "transcript needs text")]
            return [UserText(text)]
        if kind == "audio":
            return self._audio(message.get("data"), message.get("format"))
        if kind == "interrupt":
            reason = message.get("reason")
            return [UserInterrupt(reason if isinstance(reason, str) and reason else "client")]
        return []  # client_ready, video_frame and anything else: nothing to do

    def _audio(self, data: Any, hint: Any) -> list[UserInput | AgentOutput]:
        if not isinstance(data, str) or not data:
            return [ErrorOut("transcription_error", "Invalid audio data")]
        try:
            clip = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return [ErrorOut("transcription_error", "audio data is not valid base64")]
        if len(clip) > MAX_AUDIO_BYTES:
            return [ErrorOut("transcription_error", "audio is larger than 10 MB")]
        try:
            pcm, rate = codecs.decode(clip, _clip_format(hint, clip))
        except (codecs.CodecError, ValueError) as exc:
            return [ErrorOut("transcription_error", f"could not decode the audio: {exc}")]
        if not pcm:
            return [ErrorOut("transcription_error", "the audio clip is empty")]
        return [UserAudio(pcm, rate, whole_utterance=True)]

    # ---- agent outputs ---------------------------------------------------------------------

    def encode(self, output: AgentOutput) -> list[Frame]:
        return [json.dumps(m, separators=(",", ":")) for m in self._messages(output)]

    def _messages(self, output: AgentOutput) -> list[dict[str, Any]]:
        if isinstance(output, TextOut):
            text_id = f"text-{output.turn}"
            if output.phase == "start":
                self._streaming.add(output.turn)
                return [{"type": "stream_start"}, {"type": "text_start", "id": text_id}]
            if output.phase == "stop":
                return [{"type": "text_end", "id": text_id}]
            return [{"type": "text_delta", "id": text_id, "text": output.text}]
        if isinstance(output, TalkStart):
            self._pcm.clear()
            self._sentence = None
            return [{"type": "speech_stream_start"}]
        if isinstance(output, AudioOut):
            out: list[dict[str, Any]] = []
            if self._pcm and output.text != self._sentence:
                out.extend(self._flush())
            self._sentence = output.text
            self._pcm += output.pcm
            if len(self._pcm) >= CHUNK_MAX_S * self.output_rate * 2:
                out.extend(self._flush())
            return out
        if isinstance(output, TalkStop):
            return [*self._flush(), {"type": "speech_stream_end"}]
        if isinstance(output, Interrupted):
            self._pcm.clear()
            return [{"type": "speech_interrupted", "reason": "interrupted"}]
        if isinstance(output, TranscriptOut):
            if output.role == "user" and output.final and output.text:
                return [{"type": "transcription_result", "text": output.text, "language": "en"}]
            return []
        if isinstance(output, TurnDone):
            self._streaming.discard(output.turn)
            return [{"type": "stream_finish", "finishReason": "stop", "usage": {}},
                    {"type": "response_complete", "text": output.text, "toolCalls": [], "toolResults": []}]
        if isinstance(output, ToolCallOut):
            return [{"type": "tool_call", "toolName": output.name, "toolCallId": output.call_id,
                     "input": dict(output.arguments)}]
        if isinstance(output, ErrorOut):
            kind = "transcription_error" if output.code == "transcription_error" else "error"
            return [{"type": kind, "error": output.message}]
        return []  # Ready, PingOut, Closing: nothing on this wire

    def _flush(self) -> list[dict[str, Any]]:
        if not self._pcm:
            return []
        pcm = bytes(self._pcm)
        self._pcm.clear()
        data = codecs.encode(pcm, self.output_rate, self.format)
        chunk = {"type": "audio_chunk", "chunkId": self._chunk_id,
                 "data": base64.b64encode(data).decode("ascii"), "format": self.format,
                 "text": self._sentence or ""}
        self._chunk_id += 1
        return [chunk]
