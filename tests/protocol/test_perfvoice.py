"""PerfVoice adapter: query-string key, gating before metadata, defensive parsing, closes."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.protocol import schemas
from voicecli.errors import AuthError, NotFoundError, UsageError
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
from voicecli.protocol.events import (
    AgentAudio,
    AudioFormat,
    ErrorEvent,
    Interruption,
    Ping,
    SessionEnded,
    SessionStarted,
    TranscriptFinal,
    Unknown,
)
from voicecli.protocol.perfvoice import PerfVoiceAdapter
from voicecli.protocol.registry import adapter_class, infer_dialect
from voicecli.secrets import Secret, redact

KEY = "pk_live_0123456789abcdef"


def make(url: str = "https://api.withperf.pro", key: str | None = KEY, agent: str | None = "agt_1",
         **kw: object) -> PerfVoiceAdapter:
    return PerfVoiceAdapter(DialectConfig(url=url, api_key=Secret(key) if key else None, agent_id=agent,
                                          **kw))  # type: ignore[arg-type]


def ready(a: PerfVoiceAdapter, **fields: object) -> SessionStarted:
    (ev,) = a.feed(json.dumps({"type": "conversation_initiation_metadata", **fields}))
    assert isinstance(ev, SessionStarted)
    return ev


def test_registry() -> None:
    assert adapter_class("perfvoice") is PerfVoiceAdapter
    assert infer_dialect("https://api.withperf.pro") == "perfvoice"
    caps = PerfVoiceAdapter.capabilities
    assert caps.keepalive and caps.interruption_signal and not caps.text_input


def test_url_carries_key_and_agent_and_is_redacted() -> None:
    hs = make().handshake()
    parts = urlsplit(hs.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("wss", "api.withperf.pro", "/v1/voice/conversation")
    assert parse_qs(parts.query) == {"api_key": [KEY], "agent_id": ["agt_1"]}
    assert hs.initial_frames == ()
    shown = redact(f"connecting to {hs.url}")
    assert KEY not in shown and "api_key=***" in shown


def test_local_url_and_custom_path() -> None:
    assert make("http://127.0.0.1:7000").handshake().url.startswith("ws://127.0.0.1:7000/v1/voice/conversation?")
    assert make("wss://x.example", options={"path": "/v2/voice"}).handshake().url.startswith("wss://x.example/v2/voice?")


def test_missing_credentials() -> None:
    with pytest.raises(AuthError):
        make(key=None).handshake()
    with pytest.raises(UsageError):
        make(agent=None).handshake()


def test_handshake_errors() -> None:
    assert isinstance(make().handshake_error(401, b""), AuthError)
    assert isinstance(make().handshake_error(404, b""), NotFoundError)


def test_no_audio_before_metadata() -> None:
    a = make()
    assert a.encode(SendAudio(bytes(4096))) == []
    assert a.dropped_audio_frames == 1
    ready(a)
    (frame,) = a.encode(SendAudio(b"\x01\x02" * 2048))
    m = schemas.validate("perfvoice", frame)
    assert base64.b64decode(m["user_audio_chunk"]) == b"\x01\x02" * 2048


def test_metadata_layouts() -> None:
    ev = ready(make(), conversation_initiation_metadata_event={
        "conversation_id": "c1", "agent_output_audio_format": "pcm_24000", "user_input_audio_format": "pcm_16000"})
    assert ev.conversation_id == "c1" and ev.output_format == AudioFormat("pcm16", 24000)
    ev = ready(make(), conversation_id="c2", agent_output_audio_format="pcm_22050")
    assert ev.conversation_id == "c2" and ev.output_format.sample_rate == 22050
    ev = ready(make())
    assert ev.conversation_id is None and ev.input_format == ev.output_format == AudioFormat("pcm16", 16000)
    ev = ready(make(), conversationId="c3")
    assert ev.conversation_id == "c3"


def test_output_rate_follows_metadata() -> None:
    a = make()
    ready(a, conversation_initiation_metadata_event={"conversation_id": "c", "agent_output_audio_format": "pcm_24000",
                                                      "user_input_audio_format": "pcm_16000"})
    (ev,) = a.feed(json.dumps({"type": "audio", "audio_event": {"audio_base_64": "AAAAAA==", "event_id": 1}}))
    assert isinstance(ev, AgentAudio) and ev.format == AudioFormat("pcm16", 24000)


def test_ping_pong_forms() -> None:
    a = make()
    (ev,) = a.feed('{"type":"ping","ping_event":{"event_id":4,"ping_ms":30}}')
    assert ev == Ping(4, 30)
    (ev,) = a.feed('{"type":"ping","event_id":"5"}')
    assert ev == Ping(5, None)
    for command in (Pong(4), Pong(None)):
        (frame,) = a.encode(command)
        schemas.validate("perfvoice", frame)
    assert json.loads(a.encode(Pong(4))[0]) == {"type": "pong", "event_id": 4}


def test_transcripts() -> None:
    a = make()
    assert a.feed('{"type":"agent_response","agent_response_event":{"agent_response":"Hi","event_id":2}}') \
        == [TranscriptFinal(role="agent", text="Hi", event_id=2, turn=2, as_heard=False)]
    assert a.feed('{"type":"user_transcript","user_transcript":"yo"}') == [TranscriptFinal(role="user", text="yo")]


def test_interruption_with_and_without_ids() -> None:
    a = make()
    ready(a)
    a.feed('{"type":"interruption","interruption_event":{"event_id":7}}')
    assert a.feed('{"type":"audio","audio_event":{"audio_base_64":"AAAAAA==","event_id":7}}') == []
    assert len(a.feed('{"type":"audio","audio_event":{"audio_base_64":"AAAAAA==","event_id":8}}')) == 1
    assert len(a.feed('{"type":"audio","audio_base_64":"AAAAAA=="}')) == 1  # no id: kept
    b = make()
    assert b.feed('{"type":"interruption"}') == [Interruption()]
    assert len(b.feed('{"type":"audio","audio_event":{"audio_base_64":"AAAAAA==","event_id":1}}')) == 1


def test_errors_and_malformed() -> None:
    a = make()
    (ev,) = a.feed('{"type":"error","error_event":{"code":"quota","message":"out of minutes"}}')
    assert ev == ErrorEvent(code="quota", message="out of minutes", fatal=True)
    (ev,) = a.feed('{"type":"error","error":{"message":"nested"}}')
    assert isinstance(ev, ErrorEvent) and ev.message == "nested"
    for frame in ("x", '{"type":"audio","data":5}', '{"type":"user_transcript","text":["a"]}'):
        (ev,) = a.feed(frame)
        assert isinstance(ev, Unknown) and ev.malformed, frame
    # a nested object of the wrong type is ignored in favour of the flat fields
    assert a.feed('{"type":"ping","ping_event":[],"event_id":2}') == [Ping(2, None)]


def test_silent_commands() -> None:
    a = make()
    ready(a)
    for command in (SendText("hi"), CommitAudio(), Interrupt(), ContextUpdate("x"), UserActivity(),
                    SendToolResult("c", "r"), Close()):
        assert a.encode(command) == []


def test_closes() -> None:
    (ev,) = make().on_close(1008, "")
    assert isinstance(ev, SessionEnded) and ev.error is not None and "before the session was ready" in ev.error
    assert make().on_close(1000, "") == [SessionEnded(reason="closed", close_code=1000)]
    (ev,) = make().on_close(1011, "")
    assert ev.retryable and ev.error is not None
    (ev,) = make().on_close(None, "")
    assert ev.retryable and ev.error is not None
    a = make()
    a.feed('{"type":"error","message":"agent crashed"}')
    (ev,) = a.on_close(1000, "")
    assert ev.error is not None and "agent crashed" in ev.error
