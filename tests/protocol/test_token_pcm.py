"""token-pcm adapter: token exchange, token-first frame, 640-byte framing, errors, closes."""

from __future__ import annotations

import json
import random

import pytest

from tests.protocol import schemas
from voicecli.errors import AuthError, ConfigError, NetworkError, ProtocolError
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
    Authenticated,
    ErrorEvent,
    SessionEnded,
    SessionStarted,
    Unknown,
)
from voicecli.protocol.registry import adapter_class
from voicecli.protocol.token_pcm import CLOSE_CODES, FRAME_BYTES, TokenPcmAdapter
from voicecli.secrets import Secret, redact

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJraW9zayI6MX0.sig_value"


def make(url: str = "https://voice.example.com", key: str | None = "wb_live_key_1", **kw: object) -> TokenPcmAdapter:
    return TokenPcmAdapter(DialectConfig(url=url, api_key=Secret(key) if key else None, **kw))  # type: ignore[arg-type]


def authed(url: str = "https://voice.example.com", ws: str | None = "wss://voice.example.com/api/v1/sdk/ws"
           ) -> TokenPcmAdapter:
    a = make(url)
    body: dict[str, str] = {"token": TOKEN}
    if ws is not None:
        body["ws_url"] = ws
    a.on_http_response(200, json.dumps(body).encode())
    return a


def connected() -> TokenPcmAdapter:
    a = authed()
    assert a.feed('{"type":"connected"}') == [Authenticated()]
    return a


def test_registry_and_capabilities() -> None:
    assert adapter_class("token-pcm") is TokenPcmAdapter
    caps = TokenPcmAdapter.capabilities
    assert caps.text_input is False and caps.interruption_signal is False


def test_token_request() -> None:
    req = make("https://voice.example.com/").prepare()
    assert req is not None
    assert (req.method, req.url) == ("POST", "https://voice.example.com/api/v1/sdk/token")
    assert req.headers["Authorization"] == "Bearer wb_live_key_1"
    assert req.headers["Content-Type"] == "application/json"
    assert "wb_live_key_1" not in redact(f"{req.headers}")


def test_token_request_from_ws_url_and_custom_path() -> None:
    req = make("wss://voice.example.com", options={"token_path": "/v2/token"}).prepare()
    assert req is not None and req.url == "https://voice.example.com/v2/token"


def test_no_key() -> None:
    with pytest.raises(ConfigError):
        make(key=None).prepare()


@pytest.mark.parametrize(("status", "error", "words"), [
    (401, AuthError, "refused"), (403, AuthError, "kiosk"), (500, NetworkError, "try again"),
    (404, Exception, "404"), (400, ProtocolError, "400")])
def test_token_failures(status: int, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        make().on_http_response(status, b'{"detail":"nope"}')


def test_token_500_is_retryable() -> None:
    with pytest.raises(NetworkError) as info:
        make().on_http_response(500, b"")
    assert info.value.retryable


@pytest.mark.parametrize("body", [b"", b"{}", b'{"token": ""}', b'{"token": 5}', b"null"])
def test_token_bad_body(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        make().on_http_response(200, body)


def test_handshake_uses_ws_url_and_sends_token_first() -> None:
    a = authed()
    assert a.prepare() is None
    hs = a.handshake()
    assert hs.url == "wss://voice.example.com/api/v1/sdk/ws"
    (first,) = hs.initial_frames
    assert schemas.validate("token_pcm", first) == {"token": TOKEN}
    assert TOKEN not in redact(f"sent {first}")


def test_ws_url_rebased_on_loopback() -> None:
    a = authed("http://127.0.0.1:8800", ws="wss://voice.example.com/api/v1/sdk/ws?x=1")
    assert a.handshake().url == "ws://127.0.0.1:8800/api/v1/sdk/ws?x=1"


def test_missing_ws_url_falls_back_to_the_base() -> None:
    assert authed(ws=None).handshake().url == "wss://voice.example.com/api/v1/sdk/ws"


def test_handshake_before_token() -> None:
    with pytest.raises(ProtocolError):
        make().handshake()


def test_control_messages() -> None:
    a = authed()
    assert a.feed('{"type":"connected"}') == [Authenticated()]
    (ev,) = a.feed('{"type":"agent_ready"}')
    assert ev == SessionStarted(input_format=AudioFormat("pcm16", 16000), output_format=AudioFormat("pcm16", 16000))
    for reason in ("agent_disconnected", "session_closed", "room_closed", "server_shutdown", "something_else"):
        assert a.feed(json.dumps({"type": "session_ended", "reason": reason})) == [SessionEnded(reason=reason)]


def test_binary_audio_in() -> None:
    a = connected()
    frame = bytes(range(256)) * 2 + bytes(128)
    (ev,) = a.feed(frame)
    assert isinstance(ev, AgentAudio) and ev.data == frame and ev.format == AudioFormat("pcm16", 16000)
    (ev,) = a.feed(bytearray(b"\x00\x01" * 100))  # other sizes are played too
    assert isinstance(ev, AgentAudio) and len(ev.data) == 200
    (bad,) = a.feed(b"\x00\x01\x02")
    assert isinstance(bad, Unknown) and bad.malformed


def test_audio_dropped_before_connected() -> None:
    a = authed()
    assert a.encode(SendAudio(bytes(640))) == []
    assert a.dropped_audio_frames == 1


def test_reframing_exact_640_bytes() -> None:
    rng = random.Random(7)
    a = connected()
    sent = bytearray()
    given = bytearray()
    for _ in range(200):
        chunk = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 2, 319, 320, 640, 641, 1000, 1920, 4096])))
        given += chunk
        frames = a.encode(SendAudio(chunk))
        assert all(isinstance(f, bytes) and len(f) == FRAME_BYTES for f in frames)
        for f in frames:
            sent += f
    assert len(sent) == len(given) - len(given) % FRAME_BYTES
    assert bytes(sent) == bytes(given[: len(sent)])


def test_close_discards_the_remainder() -> None:
    a = connected()
    assert a.encode(SendAudio(bytes(600))) == []
    assert a.encode(Close()) == []
    assert a.encode(SendAudio(bytes(600))) == []
    (frame,) = a.encode(SendAudio(bytes(40)))
    assert len(frame) == FRAME_BYTES


def test_commands_without_wire_form() -> None:
    a = connected()
    for command in (SendText("hi"), CommitAudio(), Interrupt(), Pong(1), ContextUpdate("x"), UserActivity(),
                    SendToolResult("c", "r"), Close()):
        assert a.encode(command) == []


@pytest.mark.parametrize(("code", "known"), [
    ("AUTH_TIMEOUT", "10 s"), ("INVALID_AUTH", "no token"), ("AUTH_FAILED", "invalid or expired"),
    ("SESSION_SETUP_FAILED", "try again")])
def test_error_codes(code: str, known: str) -> None:
    (ev,) = authed().feed(json.dumps({"type": "error", "code": code, "message": "server text"}))
    assert isinstance(ev, ErrorEvent) and ev.code == code and ev.fatal
    assert known in ev.message and "server text" in ev.message


def test_unknown_error_code_and_missing_fields() -> None:
    (ev,) = authed().feed('{"type":"error","code":"RATE_LIMITED","message":"slow down"}')
    assert ev == ErrorEvent(code="RATE_LIMITED", message="slow down", fatal=True)
    (ev,) = authed().feed('{"type":"error"}')
    assert isinstance(ev, ErrorEvent) and ev.code == "error"


@pytest.mark.parametrize("code", sorted(CLOSE_CODES))
def test_documented_close_codes(code: int) -> None:
    what, retryable, _failure = CLOSE_CODES[code]
    (ev,) = authed().on_close(code, "")
    assert isinstance(ev, SessionEnded) and ev.close_code == code and ev.retryable is retryable
    assert ev.error is not None and what in ev.error and f"code {code}" in ev.error


def test_close_after_error_carries_the_server_message() -> None:
    a = authed()
    a.feed('{"type":"error","code":"AUTH_FAILED","message":"Invalid or expired token"}')
    (ev,) = a.on_close(4003, "")
    assert ev.error is not None and "Invalid or expired token" in ev.error


def test_clean_and_unclean_closes() -> None:
    a = connected()
    a.feed('{"type":"session_ended","reason":"agent_disconnected"}')
    assert a.on_close(1000, "") == [SessionEnded(reason="agent_disconnected", close_code=1000)]
    (ev,) = connected().on_close(1000, "")
    assert ev.error is None
    (ev,) = connected().on_close(1006, "")
    assert ev.error is not None and ev.retryable
    a = connected()
    a.feed('{"type":"error","code":"SESSION_SETUP_FAILED","message":"x"}')
    (ev,) = a.on_close(1000, "")
    assert ev.error is not None and "SESSION_SETUP_FAILED" in ev.error


@pytest.mark.parametrize(("code", "failure"), [(4001, "auth"), (4002, "protocol"), (4003, "auth"),
                                                (4500, "network")])
def test_close_codes_name_their_failure_kind(code: int, failure: str) -> None:
    from voicecli.session.ending import FAILURE_EXIT_CODES, closed_from_end

    (ended,) = make().on_close(code, "")
    assert ended.failure == failure
    assert closed_from_end(ended, asked_to_close=False).exit_code == FAILURE_EXIT_CODES[failure]
