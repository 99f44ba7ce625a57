"""Deterministic conversations for the snapshot tests."""

from __future__ import annotations

from voicecli.protocol.events import (
    AgentStartedTalking,
    AgentStoppedTalking,
    AudioFormat,
    Interruption,
    Ping,
    SessionEnded,
    SessionStarted,
    TextDelta,
    ToolCall,
    ToolResult,
    TranscriptDelta,
    TranscriptFinal,
)
from voicecli.session.events import AudioStatus, Connected, Connecting, Levels, SessionClosed, TextSent, TurnLatency

FMT = AudioFormat("pcm16", 24000)
URL = "wss://api.smallest.ai/atoms/v1/agent/connect?agent_id=demo"

OPENING = [
    Connecting(url=URL, dialect="atoms"),
    Connected(url=URL, dialect="atoms", connect_ms=84.0),
    SessionStarted(FMT, FMT, "sess-1", "CALL-1"),
    AudioStatus(input="sounddevice", output="sounddevice", input_rate=24000, output_rate=24000),
]

IDLE = [*OPENING, Levels(mic_db=-70.0, agent_db=-100.0, mic_open=True)]

CONVERSATION = [
    *OPENING,
    AgentStartedTalking(),
    TranscriptFinal("agent", "Hello! I can tell you the time and the date, and do simple arithmetic."),
    AgentStoppedTalking(),
    TranscriptDelta("user", "what is twelve"),
    TranscriptFinal("user", "what is twelve plus seven"),
    TurnLatency(640.0, "speech"),
    TextDelta("Adding the two numbers.", kind="reasoning", phase="stop"),
    AgentStartedTalking(),
    TranscriptFinal("agent", "Twelve plus seven is nineteen."),
    AgentStoppedTalking(),
    TextSent("look up the weather in Paris"),
    ToolCall("call-1", "get_weather", {"city": "Paris"}),
    ToolResult("call-1", "get_weather", "18 °C, light rain"),
    AgentStartedTalking(),
    TranscriptDelta("agent", "In Paris it is eighteen degrees with light rain, and later this"),
    Interruption(reason="user speech"),
    TranscriptFinal("user", "thanks, that's enough"),
    AgentStartedTalking(),
    TranscriptDelta("agent", "You're welcome"),
    Ping(event_id=7, ping_ms=42),
    Levels(mic_db=-31.0, agent_db=-14.0, mic_open=True),
]

ERROR = [
    *OPENING,
    TextSent("hello?"),
    AgentStartedTalking(),
    TranscriptDelta("agent", "Hello, how can"),
    SessionEnded(reason="connection lost", close_code=1006, error="connection closed unexpectedly (code 1006)"),
]
ERROR_END = SessionClosed(reason="connection lost", close_code=1006,
                          error="connection closed unexpectedly (code 1006)", exit_code=7)

TEXT_ONLY = [
    Connecting(url=URL, dialect="atoms"),
    Connected(url=URL, dialect="atoms", connect_ms=84.0),
    SessionStarted(FMT, FMT, "sess-2", "CALL-2"),
    AudioStatus(input=None, output=None, notice="text only (--no-audio)"),
    TranscriptFinal("agent", "Hello! I can tell you the time and the date, and do simple arithmetic."),
    TextSent("what is 12 + 7"),
    TranscriptFinal("agent", "12 plus 7 is 19."),
]
