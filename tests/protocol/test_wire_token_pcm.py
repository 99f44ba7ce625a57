"""The token-pcm wire vocabulary against the message table of PROTOCOLS.md section C (copied
below), the recorded frames in ``tests/protocol/frames/token_pcm`` and the hand-written
``tests/fixtures/schemas/token_pcm_client.json``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.protocol import schemas
from tests.protocol.schema_strategies import messages
from tests.protocol.test_wire_elevenlabs import contained
from voicecli.agent.dialects.token_pcm import CLOSE_CODES, TokenPcmServer
from voicecli.agent.interfaces import Closing, ErrorOut, ProtocolViolation, Ready
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.token_pcm import TokenPcmAdapter
from voicecli.protocol.wire import WireError
from voicecli.protocol.wire import token_pcm as wire
from voicecli.protocol.wire.codec import MISSING, Message, to_object
from voicecli.secrets import Secret

FRAMES = Path(__file__).parent / "frames" / "token_pcm"
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# PROTOCOLS.md section C, "Server → client": type → fields
SERVER_TABLE = {"connected": set(), "agent_ready": set(), "session_ended": {"reason"}, "error": {"code", "message"}}
CLIENT = messages("token_pcm", "client")


def recorded() -> list[dict[str, Any]]:
    out = []
    for path in sorted(FRAMES.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                entry = json.loads(line)
                if (entry.get("dir") == "in" and isinstance(entry.get("frame"), str) and entry.get("expect")
                        and "Unknown" not in entry["expect"]):
                    out.append(json.loads(entry["frame"]))
    return out


def test_the_vocabulary_names_the_documented_messages() -> None:
    assert {m.TYPE: {f.name for f in dataclasses.fields(m)} for m in wire.SERVER_MESSAGES} == SERVER_TABLE
    assert set(wire.ERROR_CODES) == set(CLOSE_CODES)  # the server closes with a code for each
    assert {m.TYPE for m in wire.CLIENT_MESSAGES} == set(CLIENT)


@pytest.mark.parametrize("message", recorded(), ids=lambda m: m.get("type"))
def test_every_recorded_server_frame_parses(message: dict[str, Any]) -> None:
    parsed = wire.parse_server(json.dumps(message))
    assert parsed.TYPE == message["type"] and set(message) - {"type"} <= SERVER_TABLE[parsed.TYPE]
    contained(to_object(parsed), message)


@EXAMPLES
@given(data=st.data())
def test_every_token_message_the_schema_allows_parses(data: st.DataObject) -> None:
    message = data.draw(CLIENT["token"])
    parsed = wire.parse_client(json.dumps(message))
    assert isinstance(parsed, wire.Token) and parsed.token == message["token"]


def test_the_token_message_the_client_builds_validates_and_the_server_reads_it() -> None:
    adapter = TokenPcmAdapter(DialectConfig(url="http://127.0.0.1:9", api_key=Secret("k")))
    adapter.on_http_response(200, json.dumps({"token": "jwt.abc", "ws_url": "ws://127.0.0.1:9/x"}).encode())
    (frame,) = adapter.handshake().initial_frames
    assert isinstance(frame, str)
    schemas.validate("token_pcm", frame)
    assert wire.parse_client(frame) == wire.Token("jwt.abc")


def test_every_server_message_the_local_agent_builds_is_in_the_table() -> None:
    server = TokenPcmServer()
    frames = [f for o in (Ready("s", 16000, 16000), ErrorOut("AUTH_FAILED", "Invalid or expired token"),
                          ErrorOut("auth_timeout", "late"), Closing("client_requested"), Closing("ended"))
              for f in server.encode(o)]
    kinds = []
    for frame in frames:
        assert isinstance(frame, str)
        message = json.loads(frame)
        assert set(message) - {"type"} <= SERVER_TABLE[message["type"]]
        kinds.append(wire.parse_server(frame).TYPE)
    assert kinds == ["connected", "agent_ready", "error", "error", "session_ended", "session_ended"]


@given(frame=st.text(max_size=60) | st.binary(max_size=60)
       | st.dictionaries(st.sampled_from(["type", "token", "code", "reason", "message"]),
                         st.sampled_from(sorted(SERVER_TABLE)) | st.none() | st.integers() | st.text(max_size=6),
                         max_size=3).map(json.dumps))
@EXAMPLES
def test_anything_parses_or_raises_wire_error(frame: str | bytes) -> None:
    for parse in (wire.parse_server, wire.parse_client):
        try:
            assert isinstance(parse(frame), Message)
        except WireError as err:
            assert str(err)


@pytest.mark.parametrize(("frame", "field", "missing"), [
    ({"type": "error", "code": 5}, "code", False), ({"type": "error", "message": ["x"]}, "message", False),
])
def test_a_bad_server_field_is_named(frame: dict[str, Any], field: str, missing: bool) -> None:
    with pytest.raises(WireError) as caught:
        wire.parse_server(json.dumps(frame))
    assert caught.value.field == field and (caught.value.kind == MISSING) is missing


@pytest.mark.parametrize("frame", ["nope", json.dumps({"token": ""}), json.dumps({"token": 5}),
                                   json.dumps({"type": "hello"}), json.dumps([1])])
def test_a_first_message_without_a_token_is_invalid_auth(frame: str) -> None:
    with pytest.raises(WireError):
        wire.parse_client(frame)
    server = TokenPcmServer()
    (out,) = server.feed(frame)
    assert isinstance(out, ProtocolViolation) and out.code == "INVALID_AUTH" and out.close_code == 4002
