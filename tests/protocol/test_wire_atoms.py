"""The Atoms wire vocabulary against the vendor schema (tests/fixtures/schemas/atoms_*.json):
drawn messages and the schema's own examples parse, every message the client adapter and
the local agent build validates, malformed frames raise a ``WireError`` that names the field.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.protocol import schemas
from tests.protocol.schema_strategies import messages
from tests.protocol.test_wire_elevenlabs import contained
from voicecli.agent.dialects.atoms import CONNECT_PATH, AtomsServer
from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    Closing,
    ErrorOut,
    Interrupted,
    Ready,
    TalkStart,
    TalkStop,
    TranscriptOut,
    UpgradeRequest,
)
from voicecli.agent.keys import LocalKeys
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.commands import Close, CommitAudio, HoldTurn, SendAudio, SendText
from voicecli.protocol.wire import WireError
from voicecli.protocol.wire import atoms as wire
from voicecli.protocol.wire.codec import MISSING, Message, to_object

SERVER = messages("atoms", "server")
CLIENT = messages("atoms", "client")
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALLOWED = {"sample_rate": list(wire.RATES), "channels": list(wire.CHANNELS)}  # what the schema's prose says


def schema_examples(side: str) -> list[dict[str, Any]]:
    out = []
    for name, schema in schemas.document("atoms", side)["messages"].items():
        for example in schema.get("examples", []):
            value = example["value"]
            if name == "input_audio_buffer.append" and value["audio"].endswith("..."):
                continue  # an elided illustration ("UklGRi..."), not base64
            out.append(value)
    return out


def test_the_vocabulary_names_the_vendor_messages() -> None:
    assert {m.TYPE for m in wire.SERVER_MESSAGES} == set(SERVER)
    assert {m.TYPE for m in wire.CLIENT_MESSAGES} == set(CLIENT)


@pytest.mark.parametrize(("side", "example"), [("server", e) for e in schema_examples("server")]
                         + [("client", e) for e in schema_examples("client")], ids=lambda v: str(v)[:30])
def test_the_schema_examples_parse(side: str, example: dict[str, Any]) -> None:
    parsed = (wire.parse_server if side == "server" else wire.parse_client)(json.dumps(example))
    assert parsed.TYPE == example["type"]
    contained(to_object(parsed), example)


@pytest.mark.parametrize("kind", sorted(SERVER))
@EXAMPLES
@given(data=st.data())
def test_every_server_message_the_vendor_allows_parses(kind: str, data: st.DataObject) -> None:
    message = data.draw(SERVER[kind])
    if kind == "session.created":  # the schema types them as integers; its prose lists the values
        message.update({k: data.draw(st.sampled_from(v)) for k, v in ALLOWED.items()})
    parsed = wire.parse_server(json.dumps(message))
    assert parsed.TYPE == kind
    contained(to_object(parsed), message)


@pytest.mark.parametrize("kind", sorted(CLIENT))
@EXAMPLES
@given(data=st.data())
def test_every_client_message_the_vendor_allows_parses(kind: str, data: st.DataObject) -> None:
    message = data.draw(CLIENT[kind])
    if kind == "input_audio_buffer.append" and not message["audio"]:
        return  # the local agent answers empty audio with an error (as the hosted gateway does)
    parsed = wire.parse_client(json.dumps(message))
    assert parsed.TYPE == kind
    contained(to_object(parsed), message)


def test_every_client_message_the_adapter_builds_validates() -> None:
    adapter = AtomsAdapter(DialectConfig(url="https://api.smallest.ai", agent_id="a"))
    frames = [f for c in (SendAudio(b"\x01\x00" * 80), HoldTurn(), CommitAudio(), SendText("hi"), Close())
              for f in adapter.encode(c)]
    assert len(frames) == 5
    for frame in frames:
        assert isinstance(frame, str)
        schemas.validate("atoms", frame)
        wire.parse_client(frame)  # and the local agent reads it


def outputs() -> list[AgentOutput]:
    return [Ready("s-1", 16000, 16000), TranscriptOut("user", "hel", final=False),
            TranscriptOut("user", "hello", final=True), TalkStart(1), AudioOut(b"\x01\x00" * 320, 1, 0),
            TranscriptOut("agent", "Hi", final=False, turn=1), Interrupted(1, "Hi"),
            TranscriptOut("agent", "Hi", final=True, turn=1), TalkStop(1), ErrorOut("invalid_event", "bad"),
            Closing("client_requested")]


@pytest.mark.parametrize("mode", ["webcall", "chat"])
def test_every_server_message_the_local_agent_builds_validates(mode: str) -> None:
    server = AtomsServer()
    assert server.accept(UpgradeRequest(CONNECT_PATH, {"agent_id": "a", "mode": mode}, {}),
                         LocalKeys()) is None
    frames = [f for o in outputs() for f in server.encode(o)]
    kinds = set()
    for frame in frames:
        assert isinstance(frame, str)
        kinds.add(schemas.validate("atoms", frame, side="server")["type"])
        wire.parse_server(frame)  # and the client reads it
    voice = {"output_audio.delta", "agent_start_talking", "agent_stop_talking", "interruption"}
    assert kinds >= {"session.created", "transcript", "transcript.delta", "error", "session.closed"}
    assert (kinds >= voice) if mode == "webcall" else not (kinds & voice)


@given(frame=st.text(max_size=60) | st.binary(max_size=60)
       | st.dictionaries(st.sampled_from(["type", "audio", "text", "role", "sample_rate"]),
                         st.sampled_from(list(SERVER) + list(CLIENT)) | st.none() | st.integers()
                         | st.text(max_size=6), max_size=4).map(json.dumps))
@EXAMPLES
def test_anything_parses_or_raises_wire_error(frame: str | bytes) -> None:
    for parse in (wire.parse_server, wire.parse_client):
        try:
            assert isinstance(parse(frame), Message)
        except WireError as err:
            assert str(err)


@pytest.mark.parametrize(("frame", "field", "missing"), [
    ({"type": "output_audio.delta"}, "audio", True), ({"type": "transcript", "role": "user"}, "text", True),
    ({"type": "output_audio.delta", "audio": "@@"}, "audio", False),
    ({"type": "transcript", "role": 1, "text": "x"}, "role", False),
    ({"type": "session.created", "sample_rate": 44100}, "sample_rate", False),
    ({"type": "session.created", "sample_rate": None}, "sample_rate", False),
    ({"type": "session.created", "channels": 3}, "channels", False),
])
def test_a_bad_server_field_is_named(frame: dict[str, Any], field: str, missing: bool) -> None:
    with pytest.raises(WireError) as caught:
        wire.parse_server(json.dumps(frame))
    assert caught.value.field == field and caught.value.message_type == frame["type"]
    assert (caught.value.kind == MISSING) is missing


@pytest.mark.parametrize(("frame", "words"), [
    ("not json", "not valid JSON"), ({"audio": "AAAA"}, "type is required"),
    ({"type": "input_audio_buffer.append"}, "audio is required"),
    ({"type": "input_audio_buffer.append", "audio": "%%"}, "audio is not valid base64"),
    ({"type": "input_text.send", "text": ""}, "text is required"), ({"type": "no.such"}, "unknown event type"),
])
def test_the_local_agent_answers_unreadable_messages_with_invalid_event(frame: Any, words: str) -> None:
    server = AtomsServer()
    (out,) = server.feed(frame if isinstance(frame, str) else json.dumps(frame))
    assert isinstance(out, ErrorOut) and out.code == "invalid_event" and words in out.message
