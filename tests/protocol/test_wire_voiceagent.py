"""The VoiceAgent wire vocabulary against what the SDK sends, never only against itself.

VoiceAgent publishes no schema. The server's messages are checked against the message table
of PROTOCOLS.md section D (copied below, from the SDK's ``StreamProcessor``,
``SpeechManager`` and ``TranscriptionManager``) and the recorded frames in
``tests/protocol/frames/voiceagent``; the client's against the hand-written
``tests/fixtures/schemas/voiceagent_client.json``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.protocol import schemas
from tests.protocol.schema_strategies import messages
from tests.protocol.test_wire_elevenlabs import contained
from voicecli.agent.dialects.voiceagent import VoiceAgentServer
from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    ErrorOut,
    Interrupted,
    ReplyText,
    TalkStart,
    TalkStop,
    TextOut,
    ToolCallOut,
    TranscriptOut,
    TurnDone,
    UpgradeRequest,
)
from voicecli.agent.keys import LocalKeys
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.commands import CommitAudio, Interrupt, SendAudio, SendText
from voicecli.protocol.voiceagent import VoiceAgentAdapter
from voicecli.protocol.wire import Unhandled, WireError
from voicecli.protocol.wire import voiceagent as wire
from voicecli.protocol.wire.codec import MISSING, Message, to_object

FRAMES = Path(__file__).parent / "frames" / "voiceagent"
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# PROTOCOLS.md section D, "Server → client": type → the fields the SDK sends
SERVER_TABLE: dict[str, set[str]] = {
    "stream_start": set(), "stream_finish": {"finishReason", "usage"}, "stream_error": {"error"},
    "stream_abort": {"reason"}, "step_start": {"warnings"}, "step_finish": {"finishReason", "usage"},
    "text_start": {"id"}, "text_delta": {"id", "text"}, "text_end": {"id"},
    "reasoning_start": {"id"}, "reasoning_delta": {"id", "text"}, "reasoning_end": {"id"},
    "tool_input_start": {"id", "toolName"}, "tool_input_delta": {"id", "delta"}, "tool_input_end": {"id"},
    "tool_call": {"toolName", "toolCallId", "input"}, "tool_result": {"toolName", "toolCallId", "result"},
    "tool_error": {"toolName", "toolCallId", "error"}, "source": {"source"}, "file": {"file"},
    "response_complete": {"text", "reasoning", "toolCalls", "toolResults", "sources", "files"},
    "speech_stream_start": set(), "speech_stream_end": set(), "speech_interrupted": {"reason"},
    "audio_chunk": {"chunkId", "data", "format", "text"}, "audio": {"data", "format"},
    "transcription_result": {"text", "language"}, "transcription_error": {"error"}, "error": {"error"},
}
VIDEO_ONLY = {"capture_frame", "frame_ack", "session_init"}
CLIENT = messages("voiceagent", "client")
# what the SDK's WebSocketManager calls a typed turn: blank text is not one
CLIENT_RULES = {"transcript": lambda m: bool(m["text"].strip())}


def recorded() -> list[dict[str, Any]]:
    out = []
    for path in sorted(FRAMES.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                entry = json.loads(line)
                if entry.get("dir") == "in" and entry.get("expect") and "Unknown" not in entry["expect"]:
                    out.append(json.loads(entry["frame"]))
    return out


def test_the_vocabulary_names_the_sdk_messages() -> None:
    assert {m.TYPE for m in wire.SERVER_MESSAGES} == set(SERVER_TABLE)
    assert set(wire.VIDEO_ONLY_SERVER) == VIDEO_ONLY
    assert {m.TYPE for m in wire.CLIENT_MESSAGES} == set(CLIENT)


@pytest.mark.parametrize("message", recorded(), ids=lambda m: m.get("type"))
def test_every_recorded_server_frame_parses(message: dict[str, Any]) -> None:
    parsed = wire.parse_server(json.dumps(message))
    if message["type"] in VIDEO_ONLY:
        assert isinstance(parsed, Unhandled)
        return
    assert parsed.TYPE == message["type"]
    assert set(message) - {"type"} <= SERVER_TABLE[parsed.TYPE]
    contained(to_object(parsed), message)


@pytest.mark.parametrize("kind", sorted(CLIENT))
@EXAMPLES
@given(data=st.data())
def test_every_client_message_the_schema_allows_parses(kind: str, data: st.DataObject) -> None:
    message = data.draw(CLIENT[kind].filter(CLIENT_RULES.get(kind, lambda m: True)))
    parsed = wire.parse_client(json.dumps(message))
    assert parsed.TYPE == kind
    contained(to_object(parsed), message)


# ---- what we build ------------------------------------------------------------------------------

def test_every_client_message_the_adapter_builds_validates() -> None:
    adapter = VoiceAgentAdapter(DialectConfig(url="ws://localhost:8080"))
    tone = (b"\x00\x40\x00\xc0" * 400)
    frames = adapter.encode(SendText("hello")) + adapter.encode(Interrupt("user_interrupt"))
    frames += adapter.encode(SendAudio(tone)) + adapter.encode(CommitAudio())
    assert [json.loads(f)["type"] for f in frames] == ["transcript", "interrupt", "audio"]
    for frame in frames:
        assert isinstance(frame, str)
        schemas.validate("voiceagent", frame)
        assert wire.parse_client(frame).TYPE == json.loads(frame)["type"]  # the local agent reads it


def turn(n: int) -> list[AgentOutput]:
    said = "Hello there, this is a sentence long enough to be one speech group."
    pcm = b"\x01\x00" * 2400
    return [
        TranscriptOut("user", "hi", final=True), TalkStart(n), TextOut("", n, "start"), TextOut(said, n),
        TextOut("", n, "stop"), AudioOut(pcm, n, 0, text=said, offset=0, length=len(pcm)),
        ReplyText(n, said), TalkStop(n), TurnDone(n, said), ToolCallOut("c1", "get_time", {"zone": "UTC"}),
        ErrorOut("transcription_error", "bad clip"), ErrorOut("error", "no model"),
        TalkStart(n + 1), TextOut("", n + 1, "start"), TextOut(said + " More", n + 1), Interrupted(n + 1, "Hello"),
    ]


@pytest.mark.parametrize("legacy", [False, True])
def test_every_server_message_the_local_agent_builds_is_in_the_table(legacy: bool) -> None:
    server = VoiceAgentServer()
    if legacy:
        server.variants = frozenset({"legacy-order"})
    server.accept(UpgradeRequest("/voiceagent", {"format": "wav"}, {}), LocalKeys())
    kinds = set()
    for output in turn(1):
        for frame in server.encode(output):
            assert isinstance(frame, str)
            message = json.loads(frame)
            assert set(message) - {"type"} <= SERVER_TABLE[message["type"]], message
            parsed = wire.parse_server(frame)  # and the client's side reads it back
            contained(to_object(parsed), message)
            kinds.add(parsed.TYPE)
    assert {"stream_start", "text_delta", "speech_stream_start", "audio_chunk", "response_complete",
            "tool_call", "error", "transcription_error", "speech_interrupted"} <= kinds


# ---- malformed frames ---------------------------------------------------------------------------

@given(frame=st.text(max_size=60) | st.binary(max_size=60)
       | st.dictionaries(st.sampled_from(["type", "chunkId", "data", "text", "toolName", "toolCallId"]),
                         st.sampled_from(list(SERVER_TABLE) + ["x"]) | st.none() | st.integers()
                         | st.text(max_size=6), max_size=4).map(json.dumps))
@EXAMPLES
def test_anything_parses_or_raises_wire_error(frame: str | bytes) -> None:
    for parse in (wire.parse_server, wire.parse_client):
        try:
            assert isinstance(parse(frame), Message)
        except WireError as err:
            assert str(err)


@pytest.mark.parametrize(("frame", "field"), [
    ({"type": "audio_chunk", "data": "AAAA", "format": "mp3"}, "chunkId"),
    ({"type": "audio_chunk", "chunkId": 0, "format": "mp3"}, "data"),
    ({"type": "text_delta", "id": "t"}, "text"),
    ({"type": "tool_call", "toolName": "x"}, "toolCallId"),
    ({"type": "transcription_result"}, "text"),
])
def test_a_missing_field_is_named(frame: dict[str, Any], field: str) -> None:
    with pytest.raises(WireError) as caught:
        wire.parse_server(json.dumps(frame))
    assert caught.value.kind == MISSING and caught.value.field == field
    assert caught.value.message_type == frame["type"]


@pytest.mark.parametrize(("frame", "field"), [
    ({"type": "audio_chunk", "chunkId": -1, "data": "", "format": "mp3"}, "chunkId"),
    ({"type": "audio_chunk", "chunkId": True, "data": "", "format": "mp3"}, "chunkId"),
    ({"type": "audio_chunk", "chunkId": 0, "data": "@@@", "format": "mp3"}, "data"),
    ({"type": "audio_chunk", "chunkId": 0, "data": "", "format": "flac"}, "format"),
    ({"type": "tool_call", "toolCallId": "c", "toolName": 1}, "toolName"),
    ({"type": "tool_call", "toolCallId": "c"}, "toolName"),
    ({"type": "text_delta", "text": 5}, "text"),
])
def test_a_bad_field_is_named(frame: dict[str, Any], field: str) -> None:
    with pytest.raises(WireError) as caught:
        wire.parse_server(json.dumps(frame))
    assert caught.value.field == field and caught.value.message_type == frame["type"]


@pytest.mark.parametrize(("frame", "kind"), [
    ({"type": "transcript", "text": "  "}, "error"), ({"type": "transcript"}, "error"),
    ({"type": "audio", "data": "%%%"}, "transcription_error"), ({"type": "audio"}, "transcription_error"),
    ({"text": "no type"}, "error"),
])
def test_the_local_agent_answers_unreadable_client_messages_with_an_error(frame: dict[str, Any], kind: str) -> None:
    server = VoiceAgentServer()
    server.accept(UpgradeRequest("/voiceagent", {}, {}), LocalKeys())
    out = server.feed(json.dumps(frame))
    assert [o.code for o in out if isinstance(o, ErrorOut)] == [kind]
    assert server.feed(json.dumps({"type": "video_frame", "image": {}})) == []
    assert server.feed(json.dumps({"type": "something_new"})) == []
    assert server.feed(base64.b64encode(b"x").decode()) != []  # not JSON: an error, the socket stays open
