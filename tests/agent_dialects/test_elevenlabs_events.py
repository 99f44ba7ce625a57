"""The ElevenLabs server dialect on its own (no socket): the order of a reply's messages,
barge-in, ping_ms, and which initiation messages it accepts. Every frame it writes
validates against the vendor schema of server messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.protocol import schemas
from voicecli.agent.dialects import elevenlabs as el
from voicecli.agent.interfaces import (
    AgentOutput,
    AudioOut,
    Interrupted,
    PingOut,
    ProtocolViolation,
    Ready,
    ReplyText,
    TalkStart,
    TalkStop,
    TextOut,
    TranscriptOut,
    TurnDone,
    UpgradeRequest,
    UserPong,
)
from voicecli.agent.keys import LocalKeys

REPLY = "Hello there. How can I help you today?"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def opened(init: dict[str, Any] | None = None, variants: frozenset[str] = frozenset(),
           clock: Clock | None = None) -> tuple[el.ElevenLabsServer, Ready]:
    dialect = el.ElevenLabsServer(clock or Clock())
    dialect.variants = variants
    assert dialect.accept(UpgradeRequest(el.CONVERSATION_PATH, {"agent_id": "a1"}, {}), LocalKeys()) is None
    message = {"type": "conversation_initiation_client_data", **(init or {})}
    (ready,) = dialect.feed(json.dumps(message))
    assert isinstance(ready, Ready), ready
    return dialect, ready


def wire(dialect: el.ElevenLabsServer, outputs: list[AgentOutput]) -> list[dict[str, Any]]:
    """The messages the outputs become, each checked against the vendor schema."""
    return [schemas.validate("elevenlabs", frame, side="server")
            for output in outputs for frame in dialect.encode(output)]


def reply_turn(turn: int, spoken: list[str]) -> list[AgentOutput]:
    """What the engine emits for a reply when the dialect asks for its text first."""
    outputs: list[AgentOutput] = [TalkStart(turn), TextOut("", turn, "start"), TextOut(REPLY, turn),
                                  ReplyText(turn, REPLY)]
    heard = ""
    for seq, word in enumerate(spoken):
        heard = f"{heard} {word}".strip()
        outputs += [AudioOut(b"\x01\x00" * 320, turn, seq), TranscriptOut("agent", heard, final=False, turn=turn)]
    return outputs


def kinds(messages: list[dict[str, Any]]) -> list[str]:
    return [m["type"] for m in messages]


def test_agent_response_goes_just_before_the_first_audio_and_once() -> None:
    dialect, _ready = opened()
    assert dialect.reply_text_first
    whole = reply_turn(1, REPLY.split()) + [TextOut("", 1, "stop"), TranscriptOut("agent", REPLY, True, 1),
                                            TalkStop(1), TurnDone(1, REPLY)]
    messages = wire(dialect, whole)
    assert kinds(messages) == ["agent_response"] + ["audio"] * len(REPLY.split())
    assert messages[0]["agent_response_event"]["agent_response"] == REPLY
    assert {m.get("audio_event", m.get("agent_response_event"))["event_id"] for m in messages} == {1}


def test_barge_in_sends_interruption_then_the_correction_when_enabled() -> None:
    events = sorted(el.DEFAULT_CLIENT_EVENTS | {"agent_response_correction"})
    dialect, _ready = opened({"conversation_config_override": {"conversation": {"client_events": events}}})
    wire(dialect, reply_turn(1, ["Hello", "there."]))
    cut = [Interrupted(1, "Hello there."), TranscriptOut("agent", "Hello there.", True, 1), TalkStop(1),
           TurnDone(1, "Hello there.")]
    messages = wire(dialect, cut)
    assert kinds(messages) == ["interruption", "agent_response_correction"]
    assert messages[0]["interruption_event"]["event_id"] == 1
    assert messages[1]["agent_response_correction_event"] == {
        "original_agent_response": REPLY, "corrected_agent_response": "Hello there.", "event_id": 1}
    later = wire(dialect, reply_turn(2, ["Hi."]))
    assert kinds(later) == ["agent_response", "audio"] and later[1]["audio_event"]["event_id"] == 2


def test_barge_in_without_the_correction_event_sends_the_interruption_only() -> None:
    dialect, _ready = opened()
    wire(dialect, reply_turn(1, ["Hello"]))
    messages = wire(dialect, [Interrupted(1, "Hello"), TranscriptOut("agent", "Hello", True, 1), TalkStop(1)])
    assert kinds(messages) == ["interruption"]


def test_legacy_order_variant_sends_the_reply_text_at_the_end() -> None:
    events = sorted(el.DEFAULT_CLIENT_EVENTS | {"agent_response_correction"})
    dialect, _ready = opened({"conversation_config_override": {"conversation": {"client_events": events}}},
                             variants=frozenset({el.LEGACY_ORDER}))
    assert not dialect.reply_text_first
    assert kinds(wire(dialect, reply_turn(1, ["Hello", "there."]))) == ["audio", "audio"]
    messages = wire(dialect, [Interrupted(1, "Hello there."), TranscriptOut("agent", "Hello there.", True, 1)])
    assert kinds(messages) == ["interruption", "agent_response", "agent_response_correction"]
    assert messages[1]["agent_response_event"]["agent_response"] == "Hello there."


def test_ping_ms_is_the_measured_round_trip() -> None:
    clock = Clock()
    dialect, _ready = opened(clock=clock)
    (first,) = wire(dialect, [PingOut(1)])
    assert first["ping_event"] == {"event_id": 1, "ping_ms": el.INITIAL_PING_MS}
    clock.now += 0.037
    assert dialect.feed(json.dumps({"type": "pong", "event_id": 1})) == [UserPong(1)]
    (second,) = wire(dialect, [PingOut(2)])
    assert second["ping_event"] == {"event_id": 2, "ping_ms": 37}
    clock.now += 5
    dialect.feed(json.dumps({"type": "pong", "event_id": 99}))  # no such ping: no measurement
    dialect.feed(json.dumps({"type": "pong", "event_id": 1}))  # answered already
    (third,) = wire(dialect, [PingOut(3)])
    assert third["ping_event"]["ping_ms"] == 37


# ---- what the initiation may hold ---------------------------------------------------------

@pytest.mark.parametrize(("init", "text_only"), [
    # the python SDK without an audio interface
    ({"conversation_config_override": {"text_only": True}, "custom_llm_extra_body": {}, "dynamic_variables": {},
      "source_info": {"source": "python_sdk", "version": "2.78.0"}}, True),
    ({"conversation_config_override": {"conversation": {"text_only": True}}}, True),
    ({"text_only": True}, True),
    ({"conversation_config_override": {"conversation": {"text_only": None}}}, False),
    ({"some_future_field": {"x": 1}, "user_id": None}, False),  # the message schema is open
    ({"conversation_config_override": {"turn": {"mode": "x"}, "agent": {"tools": []}}}, False),
    ({"conversation_config_override": {"tts": {"voice_id": "v", "speed": 1.2, "model_id": "m"}}}, False),
])
def test_accepted_initiations(init: dict[str, Any], text_only: bool) -> None:
    dialect, ready = opened(init)
    assert ready.text_only is text_only and dialect.text_only is text_only
    if text_only:
        assert wire(dialect, [AudioOut(b"\x00\x00" * 160, 1, 0)]) == []


@pytest.mark.parametrize(("init", "code", "words"), [
    ({"conversation_config_override": {"tts": {"speed": 9}}}, "override_error", "speed"),
    ({"conversation_config_override": {"conversation": {"client_events": []}}}, "override_error", "client_events"),
    ({"conversation_config_override": {"conversation": {"text_only": "yes"}}}, "override_error", "text_only"),
    ({"conversation_config_override": {"agent": {"first_message": 5}}}, "override_error", "first_message"),
    ({"conversation_config_override": {"agent": []}}, "override_error", "agent"),
    ({"conversation_config_override": "all"}, "override_error", "object"),
    ({"dynamic_variables": {"a": [1]}}, "invalid_message", "dynamic_variables"),
    ({"custom_llm_extra_body": "x"}, "invalid_message", "custom_llm_extra_body"),
])
def test_refused_initiations(init: dict[str, Any], code: str, words: str) -> None:
    dialect = el.ElevenLabsServer()
    dialect.accept(UpgradeRequest(el.CONVERSATION_PATH, {"agent_id": "a1"}, {}), LocalKeys())
    (problem,) = dialect.feed(json.dumps({"type": "conversation_initiation_client_data", **init}))
    assert isinstance(problem, ProtocolViolation) and problem.close_code == 1008
    assert problem.code == code and words in problem.message


def test_overrides_reach_ready() -> None:
    _dialect, ready = opened({"conversation_config_override": {"agent": {
        "first_message": "Hola.", "language": "es", "prompt": {"prompt": "Be brief.", "llm": "x"}}}})
    assert (ready.greeting, ready.language, ready.prompt, ready.text_only) == ("Hola.", "es", "Be brief.", False)
    _dialect, ready = opened({"conversation_config_override": {"agent": {"first_message": ""}}})
    assert ready.greeting == ""  # no greeting at all
    _dialect, ready = opened()
    assert (ready.greeting, ready.language, ready.prompt) == (None, None, None)
