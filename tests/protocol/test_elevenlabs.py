"""ElevenLabs adapter: URLs, signed URLs, initiation data, events, commands, closes."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from tests.protocol import schemas
from voicecli import __version__
from voicecli.errors import AuthError, NetworkError, NotFoundError, ProtocolError, UsageError
from voicecli.pcm import ulaw
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.commands import (
    Close,
    CommitAudio,
    ContextUpdate,
    Interrupt,
    Pong,
    SendAudio,
    SendText,
    SendToolResult,
    UserActivity,
)
from voicecli.protocol.elevenlabs import ElevenLabsAdapter, parse_format
from voicecli.protocol.events import (
    AgentAudio,
    AudioFormat,
    ErrorEvent,
    Interruption,
    Ping,
    SessionEnded,
    SessionStarted,
    TextDelta,
    ToolCall,
    ToolResult,
    TranscriptCorrection,
    TranscriptDelta,
    TranscriptFinal,
    TurnComplete,
    Unknown,
    VadScore,
)
from voicecli.protocol.registry import adapter_class, infer_dialect
from voicecli.secrets import Secret, redact


def make(url: str = "https://api.elevenlabs.io", **kw: object) -> ElevenLabsAdapter:
    kw.setdefault("agent_id", "agent_1")
    return ElevenLabsAdapter(DialectConfig(url=url, **kw))  # type: ignore[arg-type]


def metadata(out: str = "pcm_16000", inp: str = "pcm_16000") -> str:
    return json.dumps({"type": "conversation_initiation_metadata", "conversation_initiation_metadata_event": {
        "conversation_id": "conv_1", "agent_output_audio_format": out, "user_input_audio_format": inp}})


def audio(event_id: int, data: bytes = b"\x01\x00\x02\x00") -> str:
    return json.dumps({"type": "audio", "audio_event": {
        "audio_base_64": base64.b64encode(data).decode(), "event_id": event_id}})


def started(adapter: ElevenLabsAdapter, out: str = "pcm_16000", inp: str = "pcm_16000") -> SessionStarted:
    (ev,) = adapter.feed(metadata(out, inp))
    assert isinstance(ev, SessionStarted)
    return ev


# ---- registry and URLs ------------------------------------------------------------------

def test_registered_and_inferred() -> None:
    assert adapter_class("elevenlabs") is ElevenLabsAdapter
    assert infer_dialect("wss://api.eu.residency.elevenlabs.io") == "elevenlabs"
    assert ElevenLabsAdapter.name == "elevenlabs"
    assert "api.elevenlabs.io" in ElevenLabsAdapter.known_hosts


def test_public_agent_url() -> None:
    hs = make().handshake()
    parts = urlsplit(hs.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("wss", "api.elevenlabs.io", "/v1/convai/conversation")
    assert parse_qs(parts.query) == {"agent_id": ["agent_1"], "source": ["unknown"], "version": [__version__]}
    assert hs.headers == {}


@pytest.mark.parametrize(("url", "expected"), [
    ("http://127.0.0.1:9000", "ws://127.0.0.1:9000/v1/convai/conversation"),
    ("wss://api.eu.residency.elevenlabs.io", "wss://api.eu.residency.elevenlabs.io/v1/convai/conversation"),
    ("ws://localhost:1234/custom/path", "ws://localhost:1234/custom/path"),
])
def test_url_forms(url: str, expected: str) -> None:
    assert make(url).handshake().url.split("?")[0] == expected


def test_agent_id_from_full_url_and_environment() -> None:
    a = make("wss://api.elevenlabs.io/v1/convai/conversation?agent_id=agent_q", agent_id=None,
             options={"environment": "staging"})
    q = parse_qs(urlsplit(a.handshake().url).query)
    assert q["agent_id"] == ["agent_q"] and q["environment"] == ["staging"]


def test_agent_id_required() -> None:
    with pytest.raises(UsageError):
        make(agent_id=None).handshake()


def test_bad_url_and_mode() -> None:
    with pytest.raises(UsageError):
        make("ftp://x")
    with pytest.raises(UsageError):
        make(mode="video")


# ---- signed URL -------------------------------------------------------------------------

def test_no_key_no_prepare() -> None:
    assert make().prepare() is None


def test_signed_url_request() -> None:
    a = make(api_key=Secret("xi_key_12345"), options={"include_conversation_id": True, "branch_id": "b1"})
    req = a.prepare()
    assert req is not None and req.method == "GET" and req.body is None
    parts = urlsplit(req.url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https", "api.elevenlabs.io", "/v1/convai/conversation/get-signed-url")
    assert parse_qs(parts.query) == {"agent_id": ["agent_1"], "include_conversation_id": ["true"],
                                     "branch_id": ["b1"]}
    assert req.headers["xi-api-key"] == "xi_key_12345"


def test_signed_url_used_as_given_for_remote_base() -> None:
    a = make(api_key=Secret("xi_key_12345"))
    signed = "wss://api.elevenlabs.io/v1/convai/conversation?agent_id=agent_1&token=tok_secret_9"
    a.on_http_response(200, json.dumps({"signed_url": signed}).encode())
    assert a.prepare() is None
    url = a.handshake().url
    assert url.startswith(signed + "&")
    assert parse_qs(urlsplit(url).query)["source"] == ["unknown"]
    assert "tok_secret_9" not in redact(f"connecting to {url}")


def test_signed_url_rebased_on_loopback() -> None:
    a = make("http://127.0.0.1:8765", api_key=Secret("xi_key_12345"))
    req = a.prepare()
    assert req is not None and req.url.startswith("http://127.0.0.1:8765/v1/convai/conversation/get-signed-url?")
    a.on_http_response(200, json.dumps({
        "signed_url": "wss://api.elevenlabs.io/v1/convai/conversation?agent_id=agent_1&token=t1234"}).encode())
    url = a.handshake().url
    assert url.startswith("ws://127.0.0.1:8765/v1/convai/conversation?agent_id=agent_1&token=t1234")


@pytest.mark.parametrize(("status", "error"), [(401, AuthError), (403, AuthError), (404, NotFoundError),
                                               (422, NotFoundError), (503, NetworkError), (500, ProtocolError)])
def test_signed_url_failures(status: int, error: type[Exception]) -> None:
    a = make(api_key=Secret("xi_key_12345"))
    with pytest.raises(error):
        a.on_http_response(status, b'{"detail": {"status": "invalid_api_key"}}')


@pytest.mark.parametrize("body", [b"", b"{}", b'{"signed_url": 5}', b'{"signed_url": "https://x"}', b"[]"])
def test_signed_url_bad_body(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        make(api_key=Secret("xi_key_12345")).on_http_response(200, body)


def test_handshake_errors() -> None:
    assert isinstance(make().handshake_error(403, b""), AuthError)
    assert "ELEVENLABS_API_KEY" in str(make().handshake_error(401, b""))
    assert isinstance(make().handshake_error(404, b""), NotFoundError)
    assert isinstance(make().handshake_error(503, b""), NetworkError)


# ---- initiation data --------------------------------------------------------------------

def test_minimal_initiation() -> None:
    (frame,) = make().handshake().initial_frames
    assert schemas.validate("elevenlabs", frame) == {"type": "conversation_initiation_client_data"}


def test_full_initiation_validates() -> None:
    a = make(variables={"name": "Ada", "n": 3, "vip": True, "tags": ["a", "b"]}, mode="text", options={
        "prompt": "Be brief.", "llm": "gemini-2.0-flash", "first_message": "Hello!", "language": "fr",
        "voice_id": "v1", "stability": 0.4, "speed": 1.2, "similarity_boost": "0.8",
        "keywords": "voicecli, Ada", "client_events": ["audio", "agent_chat_response_part", "vad_score"],
        "user_id": "u-9", "custom_llm_extra_body": {"temperature": 0.1}})
    (frame,) = a.handshake().initial_frames
    m = schemas.validate("elevenlabs", frame)
    o = m["conversation_config_override"]
    assert o["agent"] == {"first_message": "Hello!", "language": "fr",
                          "prompt": {"prompt": "Be brief.", "llm": "gemini-2.0-flash"}}
    assert o["tts"] == {"voice_id": "v1", "stability": 0.4, "speed": 1.2, "similarity_boost": 0.8}
    assert o["asr"] == {"keywords": ["voicecli", "Ada"]}
    assert o["conversation"] == {"text_only": True,
                                 "client_events": ["audio", "agent_chat_response_part", "vad_score"]}
    assert m["dynamic_variables"] == {"name": "Ada", "n": 3, "vip": True, "tags": '["a","b"]'}
    assert m["user_id"] == "u-9" and m["custom_llm_extra_body"] == {"temperature": 0.1}


def test_schema_catches_a_bad_override() -> None:
    (frame,) = make(options={"language": "klingon"}).handshake().initial_frames
    with pytest.raises(Exception, match="klingon"):
        schemas.validate("elevenlabs", frame)


# ---- audio gating and formats -----------------------------------------------------------

def test_no_audio_before_metadata() -> None:
    a = make()
    assert a.encode(SendAudio(b"\x00\x00" * 160)) == []
    assert a.encode(SendAudio(b"\x00\x00" * 160)) == []
    assert a.dropped_audio_frames == 2
    started(a)
    (frame,) = a.encode(SendAudio(b"\x01\x00" * 160))
    m = schemas.validate("elevenlabs", frame)
    assert base64.b64decode(m["user_audio_chunk"]) == b"\x01\x00" * 160


def test_text_only_never_sends_audio() -> None:
    a = make(options={"text_only": True})
    started(a)
    assert a.encode(SendAudio(b"\x00\x00")) == []
    (frame,) = a.encode(SendText("hi"))
    assert schemas.validate("elevenlabs", frame) == {"type": "user_message", "text": "hi"}


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 24000, 44100, 48000])
def test_pcm_formats(rate: int) -> None:
    assert parse_format(f"pcm_{rate}") == AudioFormat("pcm16", rate)
    ev = started(make(), out=f"pcm_{rate}")
    assert ev.output_format == AudioFormat("pcm16", rate)
    assert ev.input_format == AudioFormat("pcm16", 16000)
    assert ev.conversation_id == "conv_1"


@pytest.mark.parametrize("bad", ["mp3_44100", "pcm_12345", "ulaw_16000", "pcm", "pcm_x", 16000])
def test_bad_formats(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_format(bad)


def test_metadata_with_unsupported_format_is_a_fatal_error() -> None:
    (ev,) = make().feed(metadata(out="opus_48000"))
    assert isinstance(ev, ErrorEvent) and ev.fatal and ev.code == "unsupported_format"
    assert "opus_48000" in ev.message and "allowed: pcm_8000" in ev.message


def test_ulaw_both_ways() -> None:
    a = make()
    ev = started(a, out="ulaw_8000", inp="ulaw_8000")
    assert ev.output_format == AudioFormat("ulaw", 8000) and ev.input_format == AudioFormat("ulaw", 8000)
    codes = bytes([0xFF, 0x00, 0x80, 0x7F])
    (out,) = a.feed(audio(1, codes))
    assert isinstance(out, AgentAudio) and out.format == AudioFormat("pcm16", 8000)
    assert np.frombuffer(out.data, "<i2").tolist() == [0, -32124, 32124, 0]
    pcm = np.array([0, 1000, -1000, 32000], "<i2").tobytes()
    (frame,) = a.encode(SendAudio(pcm))
    sent = base64.b64decode(schemas.validate("elevenlabs", frame)["user_audio_chunk"])
    assert sent == ulaw.encode(pcm) and len(sent) == 4


# ---- events -----------------------------------------------------------------------------

def test_interruption_drops_audio_up_to_its_event_id() -> None:
    a = make()
    started(a)
    assert len(a.feed(audio(5))) == 1
    (ev,) = a.feed(json.dumps({"type": "interruption", "interruption_event": {"event_id": 5}}))
    assert ev == Interruption(event_id=5)
    assert a.feed(audio(4)) == [] and a.feed(audio(5)) == []
    assert a.dropped_audio_events == 2
    (later,) = a.feed(audio(6))
    assert isinstance(later, AgentAudio) and later.event_id == 6
    # an older interruption does not lower the bar
    a.feed(json.dumps({"type": "interruption", "interruption_event": {"event_id": 2}}))
    assert a.feed(audio(5)) == []


def test_interruption_without_an_id_still_flushes() -> None:
    a = make()
    started(a)
    assert a.feed('{"type":"interruption"}') == [Interruption(event_id=None)]
    assert a.feed('{"type":"interruption","interruption_event":{}}') == [Interruption(event_id=None)]
    assert len(a.feed(audio(1))) == 1


def test_event_details() -> None:
    a = make()
    started(a)

    def one(message: dict[str, object]) -> object:
        (ev,) = a.feed(json.dumps(message))
        return ev

    assert one({"type": "ping", "ping_event": {"event_id": 9, "ping_ms": 120}}) == Ping(9, 120)
    assert one({"type": "ping", "ping_event": {"event_id": 10, "ping_ms": None}}) == Ping(10, None)
    assert one({"type": "agent_response", "agent_response_event": {"agent_response": "Hi", "event_id": 2}}) \
        == TranscriptFinal(role="agent", text="Hi", event_id=2, turn=2, as_heard=False)
    assert one({"type": "agent_response_correction", "agent_response_correction_event": {
        "original_agent_response": "Hi there", "corrected_agent_response": "Hi", "event_id": 2}}) \
        == TranscriptCorrection(original="Hi there", corrected="Hi", event_id=2, turn=2)
    assert one({"type": "tentative_user_transcript", "tentative_user_transcription_event": {
        "user_transcript": "wha", "event_id": 3}}) == TranscriptDelta(role="user", text="wha", event_id=3)
    assert one({"type": "user_transcript", "user_transcription_event": {"user_transcript": "what", "event_id": 3}}) \
        == TranscriptFinal(role="user", text="what", event_id=3)
    assert one({"type": "agent_chat_response_part", "text_response_part": {
        "text": "He", "type": "delta", "event_id": 4}}) == TextDelta(text="He", phase="delta", turn=4)
    assert one({"type": "agent_chat_response_part", "text_response_part": {
        "text": "", "type": "start", "event_id": 4}}) == TextDelta(text="", phase="start", turn=4)
    assert one({"type": "agent_reasoning_response_part", "reasoning_response_part": {
        "text": "hmm", "type": "delta", "event_id": "r1"}}) == TextDelta(text="hmm", kind="reasoning")
    assert one({"type": "vad_score", "vad_score_event": {"vad_score": 0.5}}) == VadScore(0.5)
    assert one({"type": "client_tool_call", "client_tool_call": {
        "tool_name": "t", "tool_call_id": "c1", "parameters": {"a": 1}, "event_id": 4}}) \
        == ToolCall(call_id="c1", name="t", arguments={"a": 1}, client_side=True)
    assert one({"type": "agent_tool_request", "agent_tool_request": {
        "tool_name": "web", "tool_call_id": "c2", "tool_type": "webhook", "event_id": 5}}) \
        == ToolCall(call_id="c2", name="web", client_side=False)
    assert a.feed(json.dumps({"type": "agent_tool_request", "agent_tool_request": {
        "tool_name": "t", "tool_call_id": "c1", "tool_type": "client", "event_id": 5}})) == []
    assert one({"type": "agent_tool_response", "agent_tool_response": {
        "tool_name": "web", "tool_call_id": "c2", "tool_type": "webhook", "is_error": True,
        "is_called": True, "event_id": 6}}) == ToolResult(call_id="c2", name="web", is_error=True)
    assert one({"type": "internal_tentative_agent_response", "tentative_agent_response_internal_event": {
        "tentative_agent_response": "Let me"}}) == TranscriptDelta(role="agent", text="Let me")
    assert one({"type": "agent_response_complete"}) == TurnComplete()
    unknown = one({"type": "mcp_connection_status", "mcp_connection_status": {"integrations": []}})
    assert isinstance(unknown, Unknown) and not unknown.malformed


def test_error_event() -> None:
    a = make()
    (ev,) = a.feed(json.dumps({"type": "error", "error_event": {
        "code": 1008, "error_type": "missing_dynamic_variable", "message": "Missing variable 'name'"}}))
    assert ev == ErrorEvent(code="missing_dynamic_variable", message="Missing variable 'name'", fatal=True)
    (ended,) = a.on_close(1008, "")
    assert isinstance(ended, SessionEnded) and "Missing variable 'name'" in (ended.error or "")
    (ev,) = make().feed(json.dumps({"type": "error", "error_event": {"code": 1011}}))
    assert isinstance(ev, ErrorEvent) and ev.code == "1011"


# ---- commands ---------------------------------------------------------------------------

def test_every_command_encodes_valid_messages() -> None:
    a = make()
    started(a)
    cases = [
        SendAudio(b"\x00\x01" * 80), SendText("hello"), Pong(3), ContextUpdate("on page 2"),
        UserActivity(), SendToolResult("c1", "done"), SendToolResult("c2", {"rows": [1, 2]}, is_error=False),
        SendToolResult("c3", "no client tools configured", is_error=True),
    ]
    for command in cases:
        (frame,) = a.encode(command)
        schemas.validate("elevenlabs", frame)
    (frame,) = a.encode(SendToolResult("c2", {"rows": [1, 2]}))
    assert json.loads(json.loads(frame)["result"]) == {"rows": [1, 2]}
    for silent in (CommitAudio(), Interrupt(), Pong(None), SendText(""), ContextUpdate(""), Close()):
        assert a.encode(silent) == [], silent


# ---- closes -----------------------------------------------------------------------------

def test_close_after_client_close() -> None:
    a = make()
    a.encode(Close())
    assert a.on_close(1000, "") == [SessionEnded(reason="ended by the user", close_code=1000)]


def test_close_1000_agent_ended() -> None:
    (ev,) = make().on_close(1000, "")
    assert ev.error is None and ev.reason == "the agent ended the conversation"


def test_close_1000_max_duration() -> None:
    a = make()
    a.feed(json.dumps({"type": "error", "error_event": {"code": 1000, "error_type": "max_duration_exceeded"}}))
    (ev,) = a.on_close(1000, "")
    assert ev.error is None and "maximum call duration" in ev.reason


@pytest.mark.parametrize(("code", "words", "retryable"), [
    (1002, "protocol or operational error", False), (1008, "rejected", False), (1011, "internal", True),
    (1006, "lost (no close frame)", True), (None, "lost (no close frame)", True)])
def test_error_closes(code: int | None, words: str, retryable: bool) -> None:
    (ev,) = make().on_close(code, "")
    assert isinstance(ev, SessionEnded) and ev.close_code == code
    assert ev.error is not None and words in ev.error and ev.retryable is retryable
    if code is not None and code != 1006:
        assert f"code {code}" in ev.error
