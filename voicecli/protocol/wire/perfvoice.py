"""The PerfVoice (withperf) socket's messages (seed 004; PROTOCOLS.md section E), shared by the
client adapter (:mod:`voicecli.protocol.perfvoice`) and the local agent
(``agent/dialects/perfvoice.py``).

PerfVoice documents its message names, which are ElevenLabs' (``conversation_initiation_metadata``,
``audio``, ``agent_response``, ``user_transcript``, ``ping``, ``interruption``, ``error``;
mic audio ``{"user_audio_chunk": ...}`` and ``pong``), but not their layouts. The messages are
ElevenLabs' (:mod:`.elevenlabs`), which is what the local agent sends; a client sends only
mic audio and pongs (:func:`parse_client`). A client reads them
leniently (:func:`parse_server`): each field is looked up in the ElevenLabs ``*_event``
object first (when it is an object), then flat beside ``type``, under the names in
:data:`LAYOUTS`; an ``event_id`` or ``ping_ms`` given as a numeric string is read as a
number, and one that is not a number is left out; a ``ping`` may come without an id.
What is left is read by the ElevenLabs vocabulary, so a malformed message raises
:class:`~voicecli.protocol.wire.codec.WireError` from the same place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from voicecli.protocol.wire import elevenlabs as el
from voicecli.protocol.wire.codec import Message, Unhandled, Vocabulary, WireError, keep_null, load_object
from voicecli.protocol.wire.elevenlabs import Pong, UserAudioChunk, encode


@dataclass(frozen=True, slots=True)
class Ping(Message):
    """ElevenLabs' ping, whose id PerfVoice may leave out."""

    TYPE: ClassVar[str] = "ping"
    BODY: ClassVar[str | None] = "ping_event"
    event_id: int | None = None
    ping_ms: int | None = keep_null(default=None)


NUMBERS = frozenset({"event_id", "ping_ms"})

# type → (the message, {its field: the names it may have, nested or flat, in order})
LAYOUTS: dict[str, tuple[type[Message], dict[str, tuple[str, ...]]]] = {
    "conversation_initiation_metadata": (el.ConversationMetadata, {
        "conversation_id": ("conversation_id", "conversationId", "session_id"),
        "agent_output_audio_format": ("agent_output_audio_format", "output_format"),
        "user_input_audio_format": ("user_input_audio_format", "input_format")}),
    "audio": (el.Audio, {"audio_base_64": ("audio_base_64", "audio", "data"), "event_id": ("event_id",)}),
    "agent_response": (el.AgentResponse, {"agent_response": ("agent_response", "text"), "event_id": ("event_id",)}),
    "user_transcript": (el.UserTranscript, {"user_transcript": ("user_transcript", "text"),
                                            "event_id": ("event_id",)}),
    "ping": (Ping, {"event_id": ("event_id",), "ping_ms": ("ping_ms",)}),
    "interruption": (el.Interruption, {"event_id": ("event_id",)}),
    "error": (el.Error, {"error_type": ("error_type", "code"), "message": ("message", "error", "reason")}),
}
SERVER_MESSAGES: tuple[type[Message], ...] = tuple(cls for cls, _ in LAYOUTS.values())
CLIENT_MESSAGES: tuple[type[Message], ...] = (UserAudioChunk, Pong)
SERVER = Vocabulary(SERVER_MESSAGES, optional_body=("interruption", "error", "ping"))
CLIENT = Vocabulary(CLIENT_MESSAGES)


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _value(field: str, value: Any) -> Any:
    """A value as the ElevenLabs field wants it, where PerfVoice's may differ in form."""
    if field in NUMBERS:
        return _number(value)
    if field == "conversation_id":
        return str(value)
    if field == "error_type" and not isinstance(value, str):
        return str(value)
    if field == "message" and isinstance(value, dict):
        return value.get("message")
    return value


def _first(sources: tuple[Mapping[str, Any], ...], names: tuple[str, ...]) -> Any:
    for source in sources:
        for name in names:
            if source.get(name) is not None:
                return source[name]
    return None


def normalized(message: Mapping[str, Any]) -> dict[str, Any]:
    """A PerfVoice message in the ElevenLabs layout (a type with no layout: as it came)."""
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in LAYOUTS:
        return dict(message)
    cls, fields = LAYOUTS[kind]
    assert cls.BODY is not None  # every layout nests its fields
    inner = message.get(cls.BODY)
    sources = ((inner,) if isinstance(inner, dict) else ()) + (message,)
    body = {}
    for field, names in fields.items():
        value = _first(sources, names)
        if value is not None:
            body[field] = _value(field, value)
    return {"type": kind, cls.BODY: body}


def parse_server(text: str | bytes) -> Message:
    """A server's frame as one of :data:`SERVER_MESSAGES`, read leniently (see above)."""
    return SERVER.read(normalized(load_object(text)))


def parse_client(text: str | bytes) -> Message:
    """A client's frame: mic audio or a pong (other messages are not documented)."""
    return CLIENT.parse(text)


__all__ = ["Message", "Pong", "Unhandled", "UserAudioChunk", "WireError", "encode", "parse_client", "parse_server"]
