"""The VoiceAgent SDK protocol (npm ``voice-agent-ai-sdk``; seed 003; PROTOCOLS.md section D),
server side, at ``/voiceagent``.

The peer of ``voicecli.protocol.voiceagent.VoiceAgentAdapter``.

- No handshake: the socket is live once open.
- Client messages: ``transcript{text}`` (a typed turn), ``audio{data, format?}`` (one
  whole utterance as an encoded clip: wav, mp3, ogg/webm opus; decoded with
  ``voicecli.audio.codecs``; 10 MB limit), ``interrupt{reason?}``. ``client_ready`` and
  ``video_frame`` are accepted and ignored. A frame that is not JSON is answered with
  ``error{error}``; the socket stays open.
- Server messages per turn, in the SDK's order (``StreamProcessor``/``SpeechManager``):
  ``stream_start``, ``step_start``, ``text_start``, ``text_delta``…, ``text_end``,
  ``step_finish``, ``stream_finish``, ``response_complete{text, toolCalls, toolResults}``
  as soon as the text is done; ``speech_stream_start`` goes out as soon as the first
  sentence group is queued for speech (before the ``text_delta`` that completed it), and
  one ``audio_chunk{chunkId, data, format, text}`` per group as soon as it is synthesized
  (not paced), so chunks may come before and after ``response_complete``;
  ``speech_stream_end`` whenever no group is left to send (the speech queue ran dry: at
  the end of the turn, or earlier when speech overtakes the text, and then the next group
  starts a new speech stream). A spoken turn by the user also gets
  ``transcription_result{text, language}`` first when a recognizer heard something.
- Sentence groups are the SDK's: sentences end at ``.!?``; a group is at least
  ``MIN_GROUP`` characters (shorter sentences join the previous or the next), and text
  longer than ``MAX_GROUP`` without a sentence end is split at a clause (``,;:``).
  ``chunkId`` counts groups from 0 per connection as they are queued, so the ids of groups
  dropped by an interruption are never sent.
- Each ``audio_chunk`` is a standalone file in the connection's format (``mp3`` by
  default; ``?format=opus`` or ``?format=wav`` choose others, a local addition) from
  ``voicecli.audio.codecs.encode``.
- A cut turn (a client ``interrupt``, or a new ``transcript`` or ``audio``, which cut the
  reply first): ``speech_interrupted{reason}`` when speech was active or queued, then
  ``stream_abort{reason}`` and ``response_complete`` with the text streamed so far when
  the text was still streaming, then ``speech_stream_end`` (speech was active). The
  reason is ``user_speaking`` for new input, the ``interrupt``'s reason otherwise
  (default ``client_request``).
- No greeting: the SDK has none (``AgentConfig.greeting`` / ``serve --greeting`` give one).
- Auth: none (the SDK has none built in); with ``AgentConfig.voiceagent_auth`` (``serve
  --voiceagent-auth``) the upgrade needs ``Authorization: Bearer KEY`` and is refused
  with 401 otherwise (what the SDK's docs suggest).
- ``tool_call`` is sent for tool calls; errors as ``error{error}`` or
  ``transcription_error{error}``. No keepalive and no close codes are defined.
- ``variant:legacy-order`` keeps the local agent's older order for tests: paced audio
  cut in chunks of at most ``CHUNK_MAX_S`` seconds, ``speech_stream_end``, then
  ``stream_finish`` and ``response_complete`` at the end of the turn.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from voicecli.agent.dialects import register
from voicecli.agent.dialects._voiceagent_groups import SpeechGroups
from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    ErrorOut,
    Frame,
    Interrupted,
    KeyCheck,
    Reject,
    ReplyText,
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
from voicecli.protocol.wire import Message, WireError
from voicecli.protocol.wire import voiceagent as wire
from voicecli.protocol.wire.codec import JSON, NO_TYPE, UNKNOWN_TYPE

PATH = "/voiceagent"
OUTPUT_RATE = 24000
INPUT_RATE = 16000
CHUNK_MAX_S = 0.5  # legacy order: longest audio_chunk
MAX_AUDIO_BYTES = 10 * 1024 * 1024
FORMATS = ("mp3", "opus", "wav")
LEGACY = "legacy-order"
NEW_INPUT_REASON = "user_speaking"
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


def _usage(text: str) -> dict[str, int]:
    tokens = len(text.split())
    return {"inputTokens": 0, "outputTokens": tokens, "totalTokens": tokens}


def _complete(text: str) -> wire.ResponseComplete:
    return wire.ResponseComplete(text=text, toolCalls=[], toolResults=[])


@register
class VoiceAgentServer(ServerDialect):
    name: ClassVar[str] = "voiceagent"
    path: ClassVar[str] = PATH
    # VoiceAgent servers have no fixed path; the SDK's example serves "/", which is what a
    # client given only a base URL connects to
    aliases: ClassVar[tuple[str, ...]] = ("/",)
    default_greeting = ""  # the SDK never speaks first

    def __init__(self) -> None:
        self.input_rate = INPUT_RATE
        self.output_rate = OUTPUT_RATE
        self.format = "mp3"
        self.require_key = False  # set by the server (AgentConfig.voiceagent_auth)
        self.paced = False
        self.chunker = SpeechGroups
        self._legacy = False
        self._chunk_id = 0
        self._reason = "client_request"  # why the next cut happens
        # the turn in progress, as the SDK's stream and speech managers see it
        self._text = ""
        self._streaming = False  # stream_start sent, response_complete not yet
        self._speaking = False  # speech_stream_start sent, speech_stream_end not yet
        self._groups = SpeechGroups()
        self._queued: deque[tuple[int, str]] = deque()
        # legacy order
        self._pcm = bytearray()
        self._sentence: str | None = None

    def accept(self, request: UpgradeRequest, keys: KeyCheck) -> Reject | None:
        if self.require_key and not keys.valid_key(_bearer(request.headers)):
            return Reject(401, "Unauthorized")
        fmt = (request.query.get("format") or "mp3").lower()
        if fmt not in FORMATS:
            return Reject(400, f"format must be one of {', '.join(FORMATS)}")
        self.format = fmt
        if LEGACY in self.variants:
            self._legacy, self.paced, self.chunker = True, True, None
        return None

    # ---- client frames ---------------------------------------------------------------------

    def feed(self, frame: Frame) -> list[UserInput | AgentOutput]:
        try:
            message = wire.parse_client(frame)
        except WireError as err:
            return self._unreadable(err)
        match message:
            case wire.Transcript(text=text):
                self._reason = NEW_INPUT_REASON
                return [UserText(text)]
            case wire.Audio(data=clip, format=hint):
                return self._audio(clip, hint)
            case wire.Interrupt(reason=reason):
                self._reason = reason or "client_request"
                return [UserInterrupt(self._reason)]
        return []  # client_ready, video_frame: nothing to do

    def _unreadable(self, err: WireError) -> list[UserInput | AgentOutput]:
        """The SDK's answers to what it cannot read; the socket stays open."""
        if err.kind == JSON:
            return [ErrorOut("error", "Invalid message format: not JSON")]
        if err.kind == NO_TYPE:
            return [ErrorOut("error", "Invalid message format: type is required")]
        if err.kind == UNKNOWN_TYPE:
            return []  # anything else: nothing to do
        if err.message_type == wire.Audio.TYPE:  # the SDK cuts the reply before reading the clip
            self._reason = NEW_INPUT_REASON
            return [UserInterrupt(NEW_INPUT_REASON), ErrorOut("transcription_error", f"Invalid audio data: {err}")]
        return [ErrorOut("error", str(err))]

    def _audio(self, clip: bytes, hint: str | None) -> list[UserInput | AgentOutput]:
        # the SDK cuts the reply as soon as the clip arrives, before decoding it
        self._reason = NEW_INPUT_REASON
        cut = UserInterrupt(NEW_INPUT_REASON)
        if len(clip) > MAX_AUDIO_BYTES:
            return [cut, ErrorOut("transcription_error", "audio is larger than 10 MB")]
        try:
            pcm, rate = codecs.decode(clip, _clip_format(hint, clip))
        except (codecs.CodecError, ValueError) as exc:
            return [cut, ErrorOut("transcription_error", f"could not decode the audio: {exc}")]
        if not pcm:
            return [cut, ErrorOut("transcription_error", "the audio clip is empty")]
        return [UserAudio(pcm, rate, whole_utterance=True)]

    # ---- agent outputs ---------------------------------------------------------------------

    def encode(self, output: AgentOutput) -> list[Frame]:
        messages = self._legacy_messages(output) if self._legacy else self._messages(output)
        return [wire.encode(m) for m in messages]

    def _messages(self, output: AgentOutput) -> list[Message]:
        if isinstance(output, TextOut):
            return self._text_part(output)
        if isinstance(output, ReplyText):
            if not self._streaming:
                return []
            self._streaming = False
            return [wire.StepFinish("stop", _usage(self._text)), wire.StreamFinish("stop", _usage(self._text)),
                    _complete(self._text)]
        if isinstance(output, AudioOut):
            out = [] if self._speaking else self._speech_start()
            said = (output.text or "").strip()
            if output.text is not None and self._queued and self._queued[0][1] == said:
                chunk_id, text = self._queued.popleft()
            else:  # audio that is not a queued group (the echo brain's playback)
                chunk_id, text = self._next_id(), said
            out.append(self._chunk(bytes(output.pcm), chunk_id, text))
            # the SDK's speech queue ends its stream whenever it runs dry, even while the text
            # is still streaming (the next group starts a new one)
            return out if self._queued else [*out, *self._speech_end()]
        if isinstance(output, TalkStop):
            return self._speech_end()
        if isinstance(output, (Interrupted, TurnDone)):
            return self._cut()  # after a normal turn both streams are over: nothing
        return self._common(output)

    def _text_part(self, output: TextOut) -> list[Message]:
        text_id = f"text-{output.turn}"
        if output.phase == "start":
            self._text, self._streaming = "", True
            self._groups = SpeechGroups()
            return [wire.StreamStart(), wire.StepStart(warnings=[]), wire.TextStart(id=text_id)]
        if output.phase == "stop":
            return [*self._queue(self._groups.flush()), wire.TextEnd(id=text_id)]
        self._text += output.text
        return [*self._queue(self._groups.feed(output.text)), wire.TextDelta(text=output.text, id=text_id)]

    def _queue(self, groups: list[str]) -> list[Message]:
        out: list[Message] = []
        for group in groups:
            if not self._speaking:
                out.extend(self._speech_start())
            self._queued.append((self._next_id(), group))
        return out

    def _next_id(self) -> int:
        self._chunk_id += 1
        return self._chunk_id - 1

    def _speech_start(self) -> list[Message]:
        self._speaking = True
        return [wire.SpeechStreamStart()]

    def _speech_end(self) -> list[Message]:
        if not self._speaking:
            return []
        self._speaking = False
        self._queued.clear()
        return [wire.SpeechStreamEnd()]

    def _cut(self) -> list[Message]:
        out: list[Message] = []
        if self._speaking:
            out.append(wire.SpeechInterrupted(reason=self._reason))
        if self._streaming:
            self._streaming = False
            out += [wire.StreamAbort(reason=self._reason), _complete(self._text)]
        return [*out, *self._speech_end()]

    def _chunk(self, pcm: bytes, chunk_id: int, text: str) -> wire.AudioChunk:
        data = codecs.encode(pcm, self.output_rate, self.format)
        return wire.AudioChunk(chunkId=chunk_id, data=data, format=self.format, text=text)

    def _common(self, output: AgentOutput) -> list[Message]:
        if isinstance(output, TranscriptOut):
            if output.role == "user" and output.final and output.text:
                return [wire.TranscriptionResult(text=output.text, language="en")]
            return []
        if isinstance(output, ToolCallOut):
            return [wire.ToolCall(toolCallId=output.call_id, toolName=output.name, input=dict(output.arguments))]
        if isinstance(output, ErrorOut):
            if output.code == "transcription_error":
                return [wire.TranscriptionError(error=output.message)]
            return [wire.Error(error=output.message)]
        return []  # Ready, PingOut, Closing, TalkStart: nothing on this wire

    # ---- the older order (variant:legacy-order) ---------------------------------------------

    def _legacy_messages(self, output: AgentOutput) -> list[Message]:
        if isinstance(output, TextOut):
            text_id = f"text-{output.turn}"
            if output.phase == "start":
                return [wire.StreamStart(), wire.TextStart(id=text_id)]
            if output.phase == "stop":
                return [wire.TextEnd(id=text_id)]
            return [wire.TextDelta(text=output.text, id=text_id)]
        if isinstance(output, TalkStart):
            self._pcm.clear()
            self._sentence = None
            return [wire.SpeechStreamStart()]
        if isinstance(output, AudioOut):
            out: list[Message] = []
            if self._pcm and output.text != self._sentence:
                out.extend(self._flush())
            self._sentence = output.text
            self._pcm += output.pcm
            if len(self._pcm) >= CHUNK_MAX_S * self.output_rate * 2:
                out.extend(self._flush())
            return out
        if isinstance(output, TalkStop):
            return [*self._flush(), wire.SpeechStreamEnd()]
        if isinstance(output, Interrupted):
            self._pcm.clear()
            return [wire.SpeechInterrupted(reason="interrupted")]
        if isinstance(output, TurnDone):
            return [wire.StreamFinish("stop", {}), _complete(output.text)]
        return self._common(output)

    def _flush(self) -> list[Message]:
        if not self._pcm:
            return []
        pcm = bytes(self._pcm)
        self._pcm.clear()
        return [self._chunk(pcm, self._next_id(), self._sentence or "")]
