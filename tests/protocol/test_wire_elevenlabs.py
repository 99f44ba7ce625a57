"""The ElevenLabs wire vocabulary against the vendor schema (tests/fixtures/schemas), never
only against itself:

- it names the vendor's messages (and says which it adds);
- every message the vendor schema allows, drawn from the schema, parses, and what it
  keeps re-encodes to a part of what came in;
- every message the client adapter and the local agent build validates (strictly);
- malformed frames raise one ``WireError`` naming the message type and the field.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.protocol import schemas
from tests.protocol.schema_strategies import messages
from voicecli.agent.dialects.elevenlabs import ElevenLabsServer
from voicecli.agent.dialects.perfvoice import PerfVoiceServer
from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    ErrorOut,
    Interrupted,
    PingOut,
    ProtocolViolation,
    Ready,
    ReplyText,
    TalkStart,
    TextOut,
    ToolCallOut,
    TranscriptOut,
    UpgradeRequest,
)
from voicecli.agent.keys import LocalKeys
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.elevenlabs import ElevenLabsAdapter
from voicecli.protocol.wire import Unhandled, WireError
from voicecli.protocol.wire import elevenlabs as wire
from voicecli.protocol.wire.codec import MISSING, Message, to_object

SERVER = messages("elevenlabs", "server")
CLIENT = messages("elevenlabs", "client")
LOCAL_ONLY = {"agent_response_complete"}  # sent by older servers, not in the vendor schema
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def contained(ours: Any, theirs: Any, path: str = "") -> None:
    """Every value ``ours`` holds is in ``theirs`` at the same place (None: left out)."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict), path
        for key, value in ours.items():
            if value is not None:
                assert key in theirs, f"{path}.{key}"
                contained(value, theirs[key], f"{path}.{key}")
    elif isinstance(ours, list):
        assert isinstance(theirs, list) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            contained(a, b, f"{path}[{i}]")
    else:
        assert ours == theirs and type(ours) is type(theirs) or (
            isinstance(ours, float) and ours == theirs), f"{path}: {ours!r} != {theirs!r}"


# ---- names --------------------------------------------------------------------------------

def test_the_vocabulary_names_the_vendor_messages() -> None:
    server = {m.TYPE for m in wire.SERVER_MESSAGES}
    assert server - set(SERVER) == LOCAL_ONLY
    assert set(SERVER) == (server - LOCAL_ONLY) | set(wire.UNHANDLED_SERVER)
    assert {m.TYPE for m in wire.CLIENT_MESSAGES} == set(CLIENT)


# ---- what the vendor allows parses --------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(SERVER))
@EXAMPLES
@given(data=st.data())
def test_every_server_message_the_vendor_allows_parses(kind: str, data: st.DataObject) -> None:
    message = data.draw(SERVER[kind])
    parsed = wire.parse_server(json.dumps(message))
    if kind in wire.UNHANDLED_SERVER:
        assert isinstance(parsed, Unhandled) and parsed.name == kind
        return
    assert parsed.TYPE == kind
    contained(to_object(parsed), message)


@pytest.mark.parametrize("kind", sorted(CLIENT))
@EXAMPLES
@given(data=st.data())
def test_every_client_message_the_vendor_allows_parses(kind: str, data: st.DataObject) -> None:
    message = data.draw(CLIENT[kind])
    parsed = wire.parse_client(json.dumps(message))
    assert parsed.TYPE == kind
    contained(to_object(parsed), message)


# ---- what we build validates ----------------------------------------------------------------

ALL_EVENTS = ["audio", "agent_response", "agent_response_correction", "agent_chat_response_part",
              "interruption", "user_transcript", "tentative_user_transcript", "ping", "client_tool_call"]


def opened(server: ElevenLabsServer | PerfVoiceServer, query: dict[str, str]) -> list[str]:
    server.accept(UpgradeRequest(server.path, query, {}), LocalKeys())
    init = {"type": "conversation_initiation_client_data",
            "conversation_config_override": {"conversation": {"client_events": ALL_EVENTS}}}
    out = server.feed(json.dumps(init)) if isinstance(server, ElevenLabsServer) else []
    ready = next((o for o in out if isinstance(o, Ready)), Ready("s-1", 16000, 16000))
    return server.encode(ready)


def outputs(turn: int) -> list[AgentOutput]:
    pcm = b"\x01\x00" * 320
    return [
        TranscriptOut("user", "hel", final=False), TranscriptOut("user", "hello", final=True),
        TalkStart(turn), TextOut("", turn, "start"), TextOut("Hi there.", turn), TextOut("", turn, "stop"),
        ReplyText(turn, "Hi there."), AudioOut(pcm, turn, 0, text="Hi there.", offset=0, length=1280),
        AudioOut(pcm, turn, 1, text="Hi there.", offset=640, length=1280),
        Interrupted(turn, "Hi"), TranscriptOut("agent", "Hi", final=True, turn=turn),
        PingOut(1), ToolCallOut("c1", "get_local_time", {"zone": "UTC"}),
        ErrorOut("invalid_message", "bad"), ErrorOut("internal", "boom"),
    ]


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("query", [{"agent_id": "a1"}, {"agent_id": "a1", "output_format": "ulaw_8000"}])
def test_every_server_message_the_local_agent_builds_validates(legacy: bool, query: dict[str, str]) -> None:
    server = ElevenLabsServer()
    if legacy:
        server.variants = frozenset({"legacy-order"})
    frames = opened(server, query)
    for output in outputs(1) + [AudioOut(b"\x00\x00" * 160, 2, 0)]:
        frames += server.encode(output)
    kinds = set()
    for frame in frames:
        assert isinstance(frame, str)
        kinds.add(schemas.validate("elevenlabs", frame, side="server")["type"])
        assert wire.parse_server(frame).TYPE in kinds  # and the client's side reads it back
    assert kinds >= {"conversation_initiation_metadata", "audio", "agent_response", "interruption",
                     "user_transcript", "tentative_user_transcript", "ping", "client_tool_call",
                     "agent_chat_response_part", "error"}


def test_perfvoice_server_messages_are_elevenlabs_shaped() -> None:
    server = PerfVoiceServer()
    frames = opened(server, {"api_key": "", "agent_id": "a1"})
    for output in outputs(1):
        frames += server.encode(output)
    assert frames
    for frame in frames:
        assert isinstance(frame, str)
        schemas.validate("elevenlabs", frame, side="server")


@given(first=st.text(max_size=20), prompt=st.text(max_size=20), speed=st.floats(0.7, 5.0),
       keywords=st.lists(st.text(min_size=1, max_size=8).filter(lambda k: "," not in k and k.strip() == k),
                         max_size=3),
       variables=st.dictionaries(st.text(max_size=6), st.text(max_size=6) | st.integers() | st.booleans()
                                 | st.lists(st.integers(), max_size=2), max_size=3),
       text_only=st.booleans())
@EXAMPLES
def test_every_initiation_the_client_builds_validates(first: str, prompt: str, speed: float, keywords: list[str],
                                                      variables: dict[str, Any], text_only: bool) -> None:
    options = {"first_message": first, "prompt": prompt, "llm": "gpt", "language": "en", "voice_id": "v",
               "speed": speed, "stability": 0.5, "keywords": keywords, "client_events": "audio,ping",
               "user_id": "u1", "custom_llm_extra_body": {"t": 1}, "text_only": text_only}
    adapter = ElevenLabsAdapter(DialectConfig(url="https://api.elevenlabs.io", agent_id="a", options=options,
                                              variables=variables))
    (frame,) = adapter.handshake().initial_frames
    assert isinstance(frame, str)
    schemas.validate("elevenlabs", frame)
    parsed = wire.parse_client(frame)  # and the local agent reads it back
    assert isinstance(parsed, wire.ConversationInitiation) and parsed.conversation_config_override is not None


# ---- malformed frames -------------------------------------------------------------------------

@given(frame=st.text(max_size=60) | st.binary(max_size=60)
       | st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=6),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                          st.sampled_from(["type", "audio_event", "user_audio_chunk", "event_id", "x"]),
                          inner, max_size=3)).map(json.dumps))
@EXAMPLES
def test_anything_parses_or_raises_wire_error(frame: str | bytes) -> None:
    for parse in (wire.parse_server, wire.parse_client):
        try:
            assert isinstance(parse(frame), Message)
        except WireError as err:
            assert str(err)


def required_fields(cls: type[Message]) -> list[str]:
    return [f.metadata.get("wire", f.name) for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]


def declared_fields(cls: type[Message]) -> list[str]:
    hints = typing.get_type_hints(cls)
    return [f.metadata.get("wire", f.name) for f in dataclasses.fields(cls) if hints[f.name] is not Any]


READ: list[tuple[str, type[Message]]] = [("server", m) for m in wire.SERVER_MESSAGES if m.TYPE in SERVER] + [
    ("client", m) for m in wire.CLIENT_MESSAGES]


def _parse(side: str, obj: dict[str, Any]) -> Message:
    return (wire.parse_server if side == "server" else wire.parse_client)(json.dumps(obj))


def _fields_of(cls: type[Message], obj: dict[str, Any]) -> dict[str, Any]:
    return obj[cls.BODY] if cls.BODY else obj


@pytest.mark.parametrize(("side", "cls"), [(s, c) for s, c in READ if required_fields(c) and c.TYPED],
                         ids=lambda v: getattr(v, "TYPE", v))
@EXAMPLES
@given(data=st.data())
def test_a_missing_required_field_is_named(side: str, cls: type[Message], data: st.DataObject) -> None:
    # (an untyped message without its one field is no message at all: ``no_type``, tested below)
    message = data.draw((SERVER if side == "server" else CLIENT)[cls.TYPE])
    name = data.draw(st.sampled_from(required_fields(cls)))
    del _fields_of(cls, message)[name]
    with pytest.raises(WireError) as caught:
        _parse(side, message)
    assert caught.value.kind == MISSING and caught.value.message_type == cls.TYPE
    assert caught.value.field == (f"{cls.BODY}.{name}" if cls.BODY else name)


@pytest.mark.parametrize(("side", "cls"), [(s, c) for s, c in READ if declared_fields(c)],
                         ids=lambda v: getattr(v, "TYPE", v))
@EXAMPLES
@given(data=st.data())
def test_a_field_of_the_wrong_type_is_named(side: str, cls: type[Message], data: st.DataObject) -> None:
    message = data.draw((SERVER if side == "server" else CLIENT)[cls.TYPE])
    name = data.draw(st.sampled_from(declared_fields(cls)))
    fields = _fields_of(cls, message)
    fields[name] = "not-a-list" if isinstance(fields.get(name), list) else [1]
    with pytest.raises(WireError) as caught:
        _parse(side, message)
    assert caught.value.message_type == cls.TYPE
    assert caught.value.field == (f"{cls.BODY}.{name}" if cls.BODY else name)


@pytest.mark.parametrize(("frame", "kind", "where"), [
    ("{not json", "json", None), ("[1]", "json", None), ('{"x": 1}', "no_type", None),
    ('{"type": "mystery"}', "unknown_type", "mystery"),
    ('{"type": "audio", "audio_event": {"audio_base_64": "%%%"}}', "invalid", "audio: audio_event.audio_base_64"),
    ('{"type": "ping", "ping_event": {"event_id": true}}', "invalid", "ping: ping_event.event_id"),
    ('{"type": "conversation_initiation_metadata", "conversation_initiation_metadata_event": '
     '{"agent_output_audio_format": "opus_48000"}}', "invalid",
     "conversation_initiation_metadata: conversation_initiation_metadata_event.agent_output_audio_format"),
])
def test_malformed_server_frames(frame: str, kind: str, where: str | None) -> None:
    with pytest.raises(WireError) as caught:
        wire.parse_server(frame)
    assert caught.value.kind == kind
    if where:
        assert str(caught.value).startswith(where)


@given(frame=st.text(max_size=40) | st.binary(max_size=40))
@EXAMPLES
def test_the_local_agent_answers_any_frame_with_inputs_or_a_violation(frame: str | bytes) -> None:
    server = ElevenLabsServer()
    opened(server, {"agent_id": "a1"})
    out = server.feed(frame)
    assert all(not isinstance(o, ProtocolViolation) or o.close_code == 1008 for o in out)
