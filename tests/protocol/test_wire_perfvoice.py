"""The PerfVoice wire vocabulary against what PerfVoice documents (PROTOCOLS.md section E: the
message names; the hand-written ``tests/fixtures/schemas/perfvoice_client.json``) and the
recorded frames in ``tests/protocol/frames/perfvoice`` (ElevenLabs-shaped and flat layouts).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.protocol import schemas
from tests.protocol.schema_strategies import messages
from tests.protocol.test_wire_elevenlabs import contained
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.commands import Pong, SendAudio
from voicecli.protocol.perfvoice import PerfVoiceAdapter
from voicecli.protocol.wire import WireError
from voicecli.protocol.wire import elevenlabs as el
from voicecli.protocol.wire import perfvoice as wire
from voicecli.protocol.wire.codec import MISSING, Message, to_object
from voicecli.secrets import Secret

FRAMES = Path(__file__).parent / "frames" / "perfvoice"
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# PROTOCOLS.md section E, "Server → client": the names the docs give (and ``error``, which
# the SDK reports)
DOCUMENTED = {"conversation_initiation_metadata", "audio", "agent_response", "user_transcript", "ping",
              "interruption", "error"}
CLIENT = messages("perfvoice", "client")


def recorded() -> list[tuple[dict[str, Any], list[str]]]:
    out = []
    for path in sorted(FRAMES.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                entry = json.loads(line)
                if entry.get("dir") == "in" and entry.get("expect") and "Unknown" not in entry["expect"]:
                    out.append((json.loads(entry["frame"]), entry["expect"]))
    return out


def test_the_vocabulary_names_the_documented_messages() -> None:
    assert {m.TYPE for m in wire.SERVER_MESSAGES} == DOCUMENTED
    assert {m.TYPE for m in wire.CLIENT_MESSAGES} == set(CLIENT)


@pytest.mark.parametrize(("message", "expect"), recorded(), ids=lambda m: m.get("type") if isinstance(m, dict) else "")
def test_every_recorded_server_frame_parses(message: dict[str, Any], expect: list[str]) -> None:
    if message["type"] == el.ConversationMetadata.TYPE and expect == ["ErrorEvent"]:
        with pytest.raises(WireError, match="unsupported audio format"):  # the session ends at once
            wire.parse_server(json.dumps(message))
        return
    parsed = wire.parse_server(json.dumps(message))
    assert parsed.TYPE == message["type"]
    if parsed.BODY in message and isinstance(message[parsed.BODY], dict):  # the ElevenLabs layout
        contained(to_object(parsed)[parsed.BODY], message[parsed.BODY])


@pytest.mark.parametrize("kind", sorted(CLIENT))
@EXAMPLES
@given(data=st.data())
def test_every_client_message_the_schema_allows_parses(kind: str, data: st.DataObject) -> None:
    message = data.draw(CLIENT[kind])
    parsed = wire.parse_client(json.dumps(message))
    assert parsed.TYPE == kind
    contained(to_object(parsed), message)


def test_every_client_message_the_adapter_builds_validates() -> None:
    adapter = PerfVoiceAdapter(DialectConfig(url="https://api.withperf.pro", agent_id="a", api_key=Secret("pk_1")))
    adapter.feed(json.dumps({"type": "conversation_initiation_metadata"}))
    frames = adapter.encode(SendAudio(b"\x01\x00" * 80)) + adapter.encode(Pong(3)) + adapter.encode(Pong(None))
    assert len(frames) == 3
    for frame in frames:
        assert isinstance(frame, str)
        schemas.validate("perfvoice", frame)
        assert wire.parse_client(frame)  # and the local agent reads it


@pytest.mark.parametrize(("flat", "nested"), [
    ({"type": "ping", "event_id": "5"}, el.Ping(5, None)),
    ({"type": "ping", "ping_event": [], "event_id": 2}, el.Ping(2, None)),
    ({"type": "audio", "data": "AAA="}, el.Audio(b"\x00\x00")),
    ({"type": "agent_response", "text": "hi", "event_id": 4}, el.AgentResponse("hi", 4)),
    ({"type": "error", "error": {"message": "nested"}, "code": 7}, el.Error(error_type="7", message="nested")),
    ({"type": "conversation_initiation_metadata", "conversationId": 12, "output_format": "pcm_24000"},
     el.ConversationMetadata("12", "pcm_24000")),
])
def test_flat_layouts_read_as_the_elevenlabs_messages(flat: dict[str, Any], nested: Message) -> None:
    parsed = wire.parse_server(json.dumps(flat))
    assert to_object(parsed) == to_object(nested)


@given(frame=st.text(max_size=60) | st.binary(max_size=60)
       | st.dictionaries(st.sampled_from(["type", "audio_event", "data", "text", "event_id", "error"]),
                         st.sampled_from(sorted(DOCUMENTED)) | st.none() | st.integers() | st.text(max_size=6)
                         | st.dictionaries(st.text(max_size=4), st.integers(), max_size=2), max_size=4).map(json.dumps))
@EXAMPLES
def test_anything_parses_or_raises_wire_error(frame: str | bytes) -> None:
    for parse in (wire.parse_server, wire.parse_client):
        try:
            assert isinstance(parse(frame), Message)
        except WireError as err:
            assert str(err)


@pytest.mark.parametrize(("frame", "field"), [
    ({"type": "audio", "data": 5}, "audio_event.audio_base_64"),
    ({"type": "audio"}, "audio_event.audio_base_64"),
    ({"type": "user_transcript", "text": ["a"]}, "user_transcription_event.user_transcript"),
])
def test_a_bad_field_is_named(frame: dict[str, Any], field: str) -> None:
    with pytest.raises(WireError) as caught:
        wire.parse_server(json.dumps(frame))
    assert caught.value.field == field and caught.value.message_type == frame["type"]
    assert (caught.value.kind == MISSING) is (len(frame) == 1)
