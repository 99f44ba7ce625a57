"""The VoiceAgent SDK protocol (npm ``voice-agent-ai-sdk``; seed 003; PROTOCOLS.md section D),
client side.

- No authentication is built into the SDK and there is no handshake: the socket is live
  once open, so :meth:`VoiceAgentAdapter.on_open` reports :class:`SessionStarted`. Headers
  from ``DialectConfig.headers`` are sent as given (for deployments that check one). The
  option ``auth``: ``auto`` (the default) sends ``Authorization: Bearer <API key>`` when a
  key is configured (the SDK's docs suggest deployments check that header), ``bearer``
  requires a key, ``none`` never sends one.
- The URL is used as given when it has a path; otherwise the option ``path``
  (default ``/``) is appended to the base URL.
- Typed text: ``{"type": "transcript", "text": ...}``.
- Speech: the server wants one encoded clip per utterance. ``SendAudio`` frames (PCM16
  mono at the session's input rate) are buffered, and ``CommitAudio`` sends them as one
  ``{"type": "audio", "data": <base64 WAV>, "format": "wav"}`` message. The client ends
  turns itself (``capabilities.client_turns``); with push-to-talk the clip is sent on
  release (``HoldTurn`` sends nothing: the session commits only on release). The buffer is capped below the server's
  default 10 MB limit (base64 included); frames beyond it are dropped and counted.
- ``Interrupt`` → ``{"type": "interrupt", "reason": ...}``. ``Close`` sends nothing.
- Agent audio: ``audio_chunk{chunkId, data, format, text}`` and ``audio{data, format}``
  are standalone encoded files; they are reported as-is with the encoding taken from
  ``format`` (``mpeg``/``mpga`` read as mp3, ``pcm`` as raw PCM16). The server sends
  chunks in ``chunkId`` order from a per-connection counter starting at 0; a chunk that
  arrives early is held until the missing ones arrive, at most
  ``REORDER_WINDOW`` chunks, or until ``speech_stream_end`` (ids may have gaps: a chunk
  whose synthesis failed is never sent). After ``speech_interrupted`` every chunk with
  an id at or below the highest seen is dropped as stale, and the next chunk to arrive
  starts the new sequence (the ids of the chunks the server discarded never come).
- ``speech_stream_start`` → :class:`AgentStartedTalking`. ``speech_stream_end`` means the
  server has *sent* the last chunk of the stream, not that playback finished; it is
  reported as :class:`AgentStoppedTalking` with ``timestamp="stream_end"`` so the session
  can tell it from a playback-based stop. ``response_complete`` → an agent
  :class:`TranscriptFinal` plus :class:`TurnComplete`; audio arriving after it still plays.
  Its text is what the model generated (after a cut: streamed so far), not what was heard
  (``as_heard=False``).

The mic keeps sending frames between turns (silence included), so the clip does not
start until a frame reaches ``clip_threshold_db`` (RMS, dBFS); the ``PREROLL_MS`` before
it are kept. A commit with no such frame sends nothing.

Options: ``path``, ``auth`` (``auto``, ``none`` or ``bearer``), ``output_format`` (the
encoding announced in SessionStarted before any chunk arrives; default ``mp3``),
``output_rate`` (default 24000), ``max_clip_bytes``, ``clip_threshold_db`` (default -50;
-100 keeps everything).
"""

from __future__ import annotations

from collections import deque
from enum import Enum
from typing import ClassVar, Literal, cast

from voicecli.errors import ConfigError, UsageError
from voicecli.pcm.levels import rms_db
from voicecli.pcm.wav import wav_bytes
from voicecli.protocol.base import (
    Adapter,
    Capabilities,
    DialectConfig,
    Frame,
    Handshake,
    default_handshake_error,
    split_base,
    unknown_from,
    ws_url,
)
from voicecli.protocol.commands import Close, Command, CommitAudio, Interrupt, SendAudio, SendText
from voicecli.protocol.events import (
    AgentAudio,
    AgentStartedTalking,
    AgentStoppedTalking,
    AudioFormat,
    ErrorEvent,
    Event,
    Interruption,
    SessionEnded,
    SessionStarted,
    TextDelta,
    ToolCall,
    ToolResult,
    TranscriptFinal,
    TurnComplete,
    Unknown,
)
from voicecli.protocol.wire import Unhandled, WireError
from voicecli.protocol.wire import voiceagent as wire
from voicecli.protocol.wire.voiceagent import encoding_of as encoding_of  # re-exported

DEFAULT_INPUT_RATE = 16000
DEFAULT_OUTPUT_RATE = 24000
REORDER_WINDOW = 4
# 10 MB server limit on the base64 text: 3/4 of it, minus the WAV header and margin
MAX_CLIP_BYTES = 7_000_000
PREROLL_MS = 300
CLIP_THRESHOLD_DB = -50.0
STREAM_END = "stream_end"

# server messages about the agent's reply: stamped with the reply's turn
_AGENT_MESSAGES = (
    wire.AudioChunk, wire.AudioFull, wire.TextDelta, wire.TextStart, wire.TextEnd, wire.ReasoningDelta,
    wire.ReasoningStart, wire.ReasoningEnd, wire.SpeechStreamStart, wire.SpeechStreamEnd,
    wire.SpeechInterrupted, wire.ResponseComplete)

# server messages with nothing for the client to show
_IGNORED = (
    wire.StreamFinish, wire.StepStart, wire.StepFinish, wire.StreamAbort, wire.ToolInputStart,
    wire.ToolInputDelta, wire.ToolInputEnd, wire.Source, wire.File)

# a text part → (kind, phase) of its TextDelta event
_Part = tuple[Literal["text", "reasoning"], Literal["start", "delta", "stop"]]
_TEXT_PARTS: dict[type[wire.Message], _Part] = {
    wire.TextStart: ("text", "start"), wire.TextDelta: ("text", "delta"), wire.TextEnd: ("text", "stop"),
    wire.ReasoningStart: ("reasoning", "start"), wire.ReasoningDelta: ("reasoning", "delta"),
    wire.ReasoningEnd: ("reasoning", "stop"),
}


class Speech(Enum):
    """The agent turn's speech stream, as ``speech_stream_start``/``_end`` say."""

    NONE = "none"
    STARTED = "started"
    ENDED = "ended"


class VoiceAgentAdapter(Adapter):
    name: ClassVar[str] = "voiceagent"
    capabilities: ClassVar[Capabilities] = Capabilities(
        text_input=True, interruption_signal=True, client_interrupt=True,
        client_turns=True, context_update=False, keepalive=False, transcripts=True, turn_hold="always")
    known_hosts: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: DialectConfig) -> None:
        super().__init__(config)
        split_base(config.url)  # validates the URL early
        o = config.options
        self.path = str(o.get("path", "/"))
        self.auth = str(o.get("auth", "auto"))
        if self.auth not in ("auto", "none", "bearer"):
            raise UsageError(f"voiceagent auth must be auto, none or bearer; got {self.auth!r}")
        self.input_rate = int(config.sample_rate or DEFAULT_INPUT_RATE)
        if not 8000 <= self.input_rate <= 48000:
            raise UsageError(f"voiceagent sample rate must be 8000..48000; got {self.input_rate}")
        try:
            out_encoding = encoding_of(o.get("output_format", "mp3"))
        except ValueError as exc:
            raise UsageError(f"voiceagent output_format: {exc}") from exc
        self.output_format = AudioFormat(out_encoding, int(o.get("output_rate", DEFAULT_OUTPUT_RATE)))
        self.max_clip_bytes = int(o.get("max_clip_bytes", MAX_CLIP_BYTES))
        self.clip_threshold_db = float(o.get("clip_threshold_db", CLIP_THRESHOLD_DB))
        self._clip = bytearray()
        self._voiced = False  # the clip has started (a frame reached the threshold)
        self._preroll: deque[bytes] = deque()
        self.dropped_audio_frames = 0
        self.dropped_chunks = 0
        self._next_chunk = 0
        self._held: dict[int, AgentAudio] = {}
        self._max_seen = -1
        self._stale_below = 0  # chunk ids below this are dropped (after an interruption)
        self._resync = False
        # agent turns: one per LLM stream (``stream_start``); a turn stays open for the
        # audio that trails its ``response_complete`` until ``speech_stream_end``
        self._turn = 0
        self._turn_open = False
        self._text_done = False
        self._speech = Speech.NONE

    # ---- handshake ----------------------------------------------------------------------

    def handshake(self) -> Handshake:
        headers = dict(self.config.headers)
        wanted = self.auth == "bearer" or (self.auth == "auto" and self.config.api_key is not None)
        if wanted and not any(k.lower() == "authorization" for k in headers):
            if not self.config.api_key:
                raise ConfigError("voiceagent auth = \"bearer\" needs an API key (the profile's key_env)")
            headers["Authorization"] = f"Bearer {self.config.api_key.reveal()}"
        return Handshake(url=ws_url(self.config.url, self.path if self.path != "/" else ""), headers=headers)

    def on_open(self) -> list[Event]:
        fmt_in = AudioFormat("pcm16", self.input_rate)
        return [SessionStarted(input_format=fmt_in, output_format=self.output_format,
                               details={"clip_format": "wav"})]

    def handshake_error(self, status: int, body: bytes) -> Exception:
        return default_handshake_error(status, body, "the VoiceAgent server")

    # ---- frames -------------------------------------------------------------------------

    def feed(self, frame: Frame) -> list[Event]:
        try:
            message = wire.parse_server(frame)
        except WireError as err:
            return [unknown_from(err, frame)]
        match message:
            case wire.StreamStart() | Unhandled():  # VideoAgent's messages: nothing to show
                if isinstance(message, wire.StreamStart):
                    self._begin_turn()
                return []
            case _ if isinstance(message, _IGNORED):
                return []
            case _ if isinstance(message, _AGENT_MESSAGES):
                return self._agent_event(message)
        return _other_event(message, frame)

    def _begin_turn(self) -> int:
        self._turn += 1
        self._turn_open, self._text_done, self._speech = True, False, Speech.NONE
        return self._turn

    def _current_turn(self) -> int:
        return self._turn if self._turn_open else self._begin_turn()

    def _agent_event(self, message: wire.Message) -> list[Event]:
        """A message about the agent's reply, stamped with the reply's turn."""
        turn = self._current_turn()
        match message:
            case wire.SpeechStreamStart():
                self._speech = Speech.STARTED
            case wire.SpeechStreamEnd():
                self._speech = Speech.ENDED
            case wire.ResponseComplete():
                self._text_done = True
        events = self._agent_dispatch(message, turn)
        if self._text_done and self._speech is not Speech.STARTED:
            self._turn_open = False  # text done and no speech still coming
        return events

    def _agent_dispatch(self, message: wire.Message, turn: int) -> list[Event]:
        match message:
            case wire.AudioChunk(chunkId=chunk_id, data=data, format=fmt, text=text):
                return self._reorder(self._audio(data, fmt, text, chunk_id, turn))
            case wire.AudioFull(data=data, format=fmt):
                return [self._audio(data, fmt, None, None, turn)]
            case wire.SpeechStreamStart():
                return [AgentStartedTalking(turn=turn)]
            case wire.SpeechStreamEnd():
                return [*self._flush_held(), AgentStoppedTalking(timestamp=STREAM_END, turn=turn)]
            case wire.SpeechInterrupted(reason=reason):
                self._held.clear()
                self._stale_below = max(self._stale_below, self._max_seen + 1)
                self._next_chunk = self._stale_below
                self._resync = True  # the server dropped its queued chunks: their ids never come
                return [Interruption(reason=reason, turn=turn)]
            case wire.ResponseComplete(text=final):
                return [TranscriptFinal(role="agent", text=final, turn=turn, as_heard=False),
                        TurnComplete(text=final, turn=turn)]
        kind, phase = _TEXT_PARTS[type(message)]
        text = message.text if isinstance(message, (wire.TextDelta, wire.ReasoningDelta)) else ""
        return [TextDelta(text=text, kind=kind, phase=phase, turn=turn)]

    def _audio(self, data: bytes, fmt: str | None, text: str | None, chunk_id: int | None,
               turn: int | None) -> AgentAudio:
        encoding = wire.encoding_of(fmt or self.output_format.encoding)
        # the sentence group it speaks; groups are joined by a space in what was heard
        spoken = " " + text.strip() if text is not None and text.strip() else None
        return AgentAudio(data=data, format=AudioFormat(encoding, self.output_format.sample_rate),
                          chunk_id=chunk_id, text=spoken, turn=turn)

    def _reorder(self, audio: AgentAudio) -> list[Event]:
        cid = cast(int, audio.chunk_id)
        if cid < self._stale_below or cid < self._next_chunk or cid in self._held:
            self.dropped_chunks += 1
            return []
        if self._resync:
            self._resync = False
            self._next_chunk = cid
        self._max_seen = max(self._max_seen, cid)
        self._held[cid] = audio
        out = self._release()
        if len(self._held) > REORDER_WINDOW:
            # a missing id is not coming (failed synthesis): skip the gap
            out.extend(self._flush_held())
        return out

    def _release(self) -> list[Event]:
        out: list[Event] = []
        while self._next_chunk in self._held:
            out.append(self._held.pop(self._next_chunk))
            self._next_chunk += 1
        return out

    def _flush_held(self) -> list[Event]:
        out: list[Event] = []
        for cid in sorted(self._held):
            out.append(self._held.pop(cid))
            self._next_chunk = cid + 1
        return out

    def encode(self, command: Command) -> list[Frame]:
        match command:
            case SendAudio(pcm=pcm):
                self._buffer(pcm)
            case CommitAudio() if self._voiced and self._clip:
                pcm = bytes(self._clip[: len(self._clip) - len(self._clip) % 2])
                self._reset_clip()
                return [wire.encode(wire.Audio(data=wav_bytes(pcm, self.input_rate), format="wav"))]
            case SendText(text=text) if text:
                self._reset_clip()  # the typed turn replaces any half-spoken one
                return [wire.encode(wire.Transcript(text=text))]
            case Interrupt(reason=reason):
                return [wire.encode(wire.Interrupt(reason=reason))]
            case CommitAudio() | Close():
                self._reset_clip()
        return []  # no keepalive, context or tool-result message in this protocol

    def _buffer(self, pcm: bytes) -> None:
        if not self._voiced:
            if rms_db(pcm) < self.clip_threshold_db:
                self._preroll.append(pcm)
                limit = self.input_rate * 2 * PREROLL_MS // 1000
                while self._preroll and sum(map(len, self._preroll)) - len(self._preroll[0]) >= limit:
                    self._preroll.popleft()
                return
            self._voiced = True
            self._clip = bytearray(b"".join(self._preroll))
            self._preroll.clear()
        if len(self._clip) + len(pcm) > self.max_clip_bytes:
            self.dropped_audio_frames += 1
            return
        self._clip.extend(pcm)

    def _reset_clip(self) -> None:
        self._clip = bytearray()
        self._preroll.clear()
        self._voiced = False

    def on_close(self, code: int | None, reason: str) -> list[Event]:
        if code == 1008:
            return [SessionEnded(reason=reason or "policy violation", close_code=code,
                                 error=f"the VoiceAgent server refused the session (code 1008): "
                                       f"{reason or 'unauthorized'}; set the header it expects")]
        return super().on_close(code, reason)


def _other_event(message: wire.Message, frame: Frame) -> list[Event]:
    """Events of the messages outside the agent's reply."""
    match message:
        case wire.ToolCall(input=args):
            arguments = args if isinstance(args, dict) else ({} if args is None else {"input": args})
            return [ToolCall(call_id=str(message.toolCallId), name=message.tool, arguments=arguments,
                             client_side=False)]
        case wire.ToolResult(result=result):
            return [ToolResult(call_id=str(message.toolCallId), name=message.tool, result=result)]
        case wire.ToolError(error=error):
            return [ToolResult(call_id=str(message.toolCallId), name=message.tool, result=error, is_error=True)]
        case wire.TranscriptionResult(text=text):
            return [TranscriptFinal(role="user", text=text)]
        case wire.Error() | wire.StreamError() | wire.TranscriptionError():
            return [ErrorEvent(code=message.TYPE, message=message.detail or message.TYPE, fatal=False)]
    return [Unknown(type=message.TYPE, raw=frame)]  # pragma: no cover - every message is matched
