"""VoiceAgent adapter: no handshake, WAV clips, chunk order, events, errors."""

from __future__ import annotations

import base64
import io
import json
import random
import wave

import pytest

from tests.protocol import schemas
from voicecli.errors import UsageError
from voicecli.protocol.atoms import AtomsAdapter
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
    AgentStartedTalking,
    AgentStoppedTalking,
    AudioFormat,
    ErrorEvent,
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
from voicecli.protocol.registry import adapter_class
from voicecli.protocol.voiceagent import REORDER_WINDOW, STREAM_END, VoiceAgentAdapter, encoding_of


def make(url: str = "ws://localhost:8080", **kw: object) -> VoiceAgentAdapter:
    return VoiceAgentAdapter(DialectConfig(url=url, **kw))  # type: ignore[arg-type]


def chunk(cid: int, fmt: str = "mp3", data: bytes | None = None) -> str:
    payload = data if data is not None else f"chunk-{cid}".encode()
    return json.dumps({"type": "audio_chunk", "chunkId": cid, "data": base64.b64encode(payload).decode(),
                       "format": fmt, "text": f"sentence {cid}."})


def ids(events: list[object]) -> list[int | None]:
    return [e.chunk_id for e in events if isinstance(e, AgentAudio)]


def test_registry_and_capabilities() -> None:
    assert adapter_class("voiceagent") is VoiceAgentAdapter
    caps = VoiceAgentAdapter.capabilities
    assert caps.client_turns and caps.client_interrupt and caps.text_input and not caps.keepalive


@pytest.mark.parametrize(("url", "opts", "expected"), [
    ("ws://localhost:8080", {}, "ws://localhost:8080"),
    ("http://localhost:8080", {}, "ws://localhost:8080"),
    ("ws://127.0.0.1:9000/voiceagent", {}, "ws://127.0.0.1:9000/voiceagent"),
    ("https://agents.example.com", {"path": "/ws"}, "wss://agents.example.com/ws"),
])
def test_urls(url: str, opts: dict[str, str], expected: str) -> None:
    hs = make(url, options=opts).handshake()
    assert hs.url == expected and hs.initial_frames == () and hs.headers == {}


def test_headers_passed_and_no_auth_by_default() -> None:
    hs = make(headers={"Authorization": "Bearer t0ken"}).handshake()
    assert hs.headers == {"Authorization": "Bearer t0ken"}
    assert make().prepare() is None


def test_bearer_auth_option() -> None:
    from voicecli.errors import ConfigError
    from voicecli.secrets import Secret

    # a configured key is sent (auto), unless the profile says none
    assert make(api_key=Secret("va_key_1")).handshake().headers == {"Authorization": "Bearer va_key_1"}
    assert make(api_key=Secret("va_key_1"), options={"auth": "none"}).handshake().headers == {}
    assert make().handshake().headers == {}  # no key: nothing to send
    hs = make(api_key=Secret("va_key_1"), options={"auth": "bearer"}).handshake()
    assert hs.headers == {"Authorization": "Bearer va_key_1"}
    hs = make(api_key=Secret("va_key_1"), options={"auth": "bearer"},
              headers={"authorization": "Token x"}).handshake()
    assert hs.headers == {"authorization": "Token x"}
    with pytest.raises(ConfigError):
        make(options={"auth": "bearer"}).handshake()
    with pytest.raises(UsageError):
        make(options={"auth": "basic"})


def test_session_started_on_open() -> None:
    (ev,) = make(sample_rate=24000, options={"output_format": "opus", "output_rate": 48000}).on_open()
    assert isinstance(ev, SessionStarted)
    assert ev.input_format == AudioFormat("pcm16", 24000) and ev.output_format == AudioFormat("opus", 48000)
    (ev,) = make().on_open()
    assert isinstance(ev, SessionStarted) and ev.output_format.encoding == "mp3"


def test_base_on_open_default_is_empty() -> None:
    a = AtomsAdapter(DialectConfig(url="https://api.smallest.ai", agent_id="a"))
    assert a.on_open() == []


def test_bad_options() -> None:
    with pytest.raises(UsageError):
        make(options={"output_format": "flac"})
    with pytest.raises(UsageError):
        make(sample_rate=96000)


def test_commit_sends_one_wav_clip() -> None:
    a = make(sample_rate=24000)
    pcm = bytes(range(256)) * 30
    for i in range(0, len(pcm), 960):
        assert a.encode(SendAudio(pcm[i:i + 960])) == []
    (frame,) = a.encode(CommitAudio())
    m = schemas.validate("voiceagent", frame)
    assert m["format"] == "wav"
    with wave.open(io.BytesIO(base64.b64decode(m["data"]))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 24000)
        assert w.readframes(w.getnframes()) == pcm
    assert a.encode(CommitAudio()) == []  # the buffer was emptied


def loud(n_bytes: int) -> bytes:
    return (b"\x00\x40\x00\xc0" * (n_bytes // 4 + 1))[:n_bytes]  # +-16384: about -6 dBFS


def clip_of(frame: str | bytes) -> bytes:
    with wave.open(io.BytesIO(base64.b64decode(json.loads(frame)["data"]))) as w:
        return w.readframes(w.getnframes())


def test_clip_size_cap() -> None:
    a = make(options={"max_clip_bytes": 1000})
    assert a.encode(SendAudio(loud(800))) == []
    assert a.encode(SendAudio(loud(800))) == []
    assert a.dropped_audio_frames == 1
    (frame,) = a.encode(CommitAudio())
    assert len(clip_of(frame)) == 800


def test_leading_silence_is_trimmed_to_the_preroll() -> None:
    a = make()  # 16 kHz: 300 ms of preroll = 9600 bytes
    for _ in range(100):  # two seconds of silence between turns
        a.encode(SendAudio(bytes(640)))
    a.encode(SendAudio(loud(640)))
    a.encode(SendAudio(bytes(640)))
    (frame,) = a.encode(CommitAudio())
    pcm = clip_of(frame)
    assert len(pcm) == 9600 + 640 + 640 and pcm[9600:10240] == loud(640)


def test_silent_commit_sends_nothing() -> None:
    a = make()
    for _ in range(50):
        a.encode(SendAudio(bytes(640)))
    assert a.encode(CommitAudio()) == []
    a.encode(SendAudio(loud(640)))
    (frame,) = a.encode(CommitAudio())
    assert clip_of(frame) == loud(640)  # the silence before the last commit was forgotten


def test_threshold_option_keeps_everything() -> None:
    a = make(options={"clip_threshold_db": -100})
    for _ in range(10):
        a.encode(SendAudio(b"\x01\x00" * 320))
    (frame,) = a.encode(CommitAudio())
    assert len(clip_of(frame)) == 6400


def test_text_interrupt_and_silent_commands() -> None:
    a = make()
    a.encode(SendAudio(bytes(100)))
    (frame,) = a.encode(SendText("hello"))
    assert schemas.validate("voiceagent", frame) == {"type": "transcript", "text": "hello"}
    assert a.encode(CommitAudio()) == []  # a typed turn replaces the half-spoken one
    (frame,) = a.encode(Interrupt())
    assert schemas.validate("voiceagent", frame) == {"type": "interrupt", "reason": "user_interrupt"}
    for silent in (SendText(""), Pong(1), ContextUpdate("x"), UserActivity(), SendToolResult("c", "r"), Close()):
        assert a.encode(silent) == []


def test_in_order_chunks_pass_straight_through() -> None:
    a = make()
    out = [ev for i in range(5) for ev in a.feed(chunk(i))]
    assert ids(out) == [0, 1, 2, 3, 4]
    assert all(isinstance(e, AgentAudio) and e.format.encoding == "mp3" and e.text for e in out)


def test_shuffled_chunks_come_out_in_order() -> None:
    rng = random.Random(3)
    order = list(range(40))
    # shuffle within small windows, like parallel synthesis finishing out of order
    for start in range(0, 40, REORDER_WINDOW):
        part = order[start:start + REORDER_WINDOW]
        rng.shuffle(part)
        order[start:start + REORDER_WINDOW] = part
    a = make()
    out = [ev for i in order for ev in a.feed(chunk(i))]
    out += a.feed('{"type":"speech_stream_end"}')
    assert ids(out) == list(range(40))


def test_gap_is_skipped_when_the_window_fills() -> None:
    a = make()
    assert ids(a.feed(chunk(0))) == [0]
    out: list[object] = []
    for cid in range(2, 2 + REORDER_WINDOW):
        out += a.feed(chunk(cid))
    assert out == []
    out = a.feed(chunk(2 + REORDER_WINDOW))
    assert ids(out) == list(range(2, 3 + REORDER_WINDOW))
    assert a.feed(chunk(1)) == []  # too late: dropped, not played out of order
    assert a.dropped_chunks == 1


def test_duplicates_dropped() -> None:
    a = make()
    a.feed(chunk(0))
    assert a.feed(chunk(0)) == []
    a.feed(chunk(2))
    assert a.feed(chunk(2)) == []


def test_stream_end_releases_held_chunks_and_is_not_playback_end() -> None:
    a = make()
    a.feed(chunk(0))
    assert a.feed(chunk(3)) == []
    out = a.feed('{"type":"speech_stream_end"}')
    assert ids(out) == [3] and out[-1] == AgentStoppedTalking(timestamp=STREAM_END, turn=1)


def test_interruption_makes_old_chunks_stale_and_resyncs() -> None:
    a = make()
    a.feed(chunk(0))
    a.feed(chunk(1))
    assert a.feed(chunk(3)) == []
    (ev,) = a.feed('{"type":"speech_interrupted","reason":"user_speaking"}')
    assert ev == Interruption(reason="user_speaking", turn=1)
    assert a.feed(chunk(2)) == [] and a.feed(chunk(3)) == []  # held 3 was discarded too
    assert ids(a.feed(chunk(7))) == [7]
    assert ids(a.feed(chunk(8))) == [8]


def test_audio_after_response_complete_still_plays() -> None:
    a = make()
    a.feed('{"type":"speech_stream_start"}')
    a.feed(chunk(0))
    out = a.feed(json.dumps({"type": "response_complete", "text": "All done.", "toolCalls": [], "toolResults": []}))
    assert out == [TranscriptFinal(role="agent", text="All done.", turn=1, as_heard=False),
                   TurnComplete(text="All done.", turn=1)]
    (trailing,) = a.feed(chunk(1))  # audio after the text is done belongs to the same turn
    assert isinstance(trailing, AgentAudio) and trailing.chunk_id == 1 and trailing.turn == 1
    a.feed('{"type":"speech_stream_end"}')
    (next_reply,) = a.feed(chunk(2))  # the turn is over once its speech ended: a new one
    assert isinstance(next_reply, AgentAudio) and next_reply.turn == 2


@pytest.mark.parametrize(("wire", "encoding"), [
    ("mp3", "mp3"), ("mpeg", "mp3"), ("audio/mpeg", "mp3"), ("opus", "opus"), ("wav", "wav"),
    ("audio/webm;codecs=opus", "webm"), ("ogg", "ogg"), ("pcm", "pcm16"), ("MP3", "mp3")])
def test_formats(wire: str, encoding: str) -> None:
    assert encoding_of(wire) == encoding
    (ev,) = make().feed(chunk(0, fmt=wire))
    assert isinstance(ev, AgentAudio) and ev.format.encoding == encoding


def test_full_audio_message_and_missing_format() -> None:
    a = make(options={"output_format": "opus"})
    (ev,) = a.feed(json.dumps({"type": "audio", "data": base64.b64encode(b"OggS").decode(), "format": "mp3"}))
    assert isinstance(ev, AgentAudio) and ev.chunk_id is None and ev.format.encoding == "mp3"
    (ev,) = a.feed(json.dumps({"type": "audio", "data": base64.b64encode(b"OggS").decode()}))
    assert isinstance(ev, AgentAudio) and ev.format.encoding == "opus"


def test_text_tool_and_transcription_events() -> None:
    a = make()

    def one(m: dict[str, object]) -> object:
        (ev,) = a.feed(json.dumps(m))
        return ev

    assert one({"type": "text_delta", "id": "t", "text": "Hel"}) == TextDelta(text="Hel", turn=1)
    assert one({"type": "reasoning_delta", "id": "r", "text": "think"}) \
        == TextDelta(text="think", kind="reasoning", turn=1)
    assert one({"type": "tool_call", "toolName": "getWeather", "toolCallId": "c1", "input": {"city": "Oslo"}}) \
        == ToolCall(call_id="c1", name="getWeather", arguments={"city": "Oslo"}, client_side=False)
    assert one({"type": "tool_result", "toolName": "getWeather", "toolCallId": "c1", "result": {"t": 3}}) \
        == ToolResult(call_id="c1", name="getWeather", result={"t": 3})
    assert one({"type": "tool_result", "name": "legacy", "toolCallId": "c2", "result": 1}) \
        == ToolResult(call_id="c2", name="legacy", result=1)
    assert one({"type": "tool_error", "toolName": "getWeather", "toolCallId": "c3", "error": "boom"}) \
        == ToolResult(call_id="c3", name="getWeather", result="boom", is_error=True)
    assert one({"type": "transcription_result", "text": "hi there", "language": "en"}) \
        == TranscriptFinal(role="user", text="hi there")
    assert one({"type": "speech_stream_start"}) == AgentStartedTalking(turn=1)


@pytest.mark.parametrize("kind", ["error", "stream_error", "transcription_error"])
def test_errors(kind: str) -> None:
    (ev,) = make().feed(json.dumps({"type": kind, "error": "went wrong"}))
    assert ev == ErrorEvent(code=kind, message="went wrong", fatal=False)


def test_malformed() -> None:
    a = make()
    for frame in ("nope", "[]", '{"type":"audio_chunk","chunkId":-1,"data":"","format":"mp3"}',
                  '{"type":"audio_chunk","chunkId":true,"data":"","format":"mp3"}',
                  '{"type":"tool_call","toolName":1,"toolCallId":"x"}', '{"type":"transcription_result"}'):
        (ev,) = a.feed(frame)
        assert isinstance(ev, Unknown) and ev.malformed, frame


def test_closes() -> None:
    (ev,) = make().on_close(1000, "")
    assert ev == SessionEnded(reason="closed", close_code=1000)
    (ev,) = make().on_close(1008, "Unauthorized")
    assert isinstance(ev, SessionEnded) and ev.error is not None and "1008" in ev.error
    (ev,) = make().on_close(1006, "")
    assert isinstance(ev, SessionEnded) and ev.error is not None
