"""Each server dialect piped straight into its client adapter, with no socket: every
frame one side writes, the other side reads."""

from __future__ import annotations

import json

from voicecli.agent.dialects.elevenlabs import ElevenLabsServer
from voicecli.agent.dialects.perfvoice import PerfVoiceServer
from voicecli.agent.dialects.token_pcm import TokenPcmServer
from voicecli.agent.dialects.voiceagent import VoiceAgentServer
from voicecli.agent.interfaces import (
    AudioOut,
    Closing,
    ErrorOut,
    Interrupted,
    PingOut,
    Ready,
    ReplyText,
    TalkStart,
    TalkStop,
    TextOut,
    ToolCallOut,
    TranscriptOut,
    TurnDone,
    UpgradeRequest,
    UserAudio,
    UserContext,
    UserInterrupt,
    UserPong,
    UserText,
    UserToolResult,
)
from voicecli.agent.keys import LocalKeys
from voicecli.protocol.base import Adapter, DialectConfig
from voicecli.protocol.commands import (
    CommitAudio,
    ContextUpdate,
    Interrupt,
    Pong,
    SendAudio,
    SendText,
    SendToolResult,
)
from voicecli.protocol.elevenlabs import ElevenLabsAdapter
from voicecli.protocol.events import (
    AgentAudio,
    AgentStartedTalking,
    AgentStoppedTalking,
    Authenticated,
    ErrorEvent,
    Event,
    Interruption,
    Ping,
    SessionEnded,
    SessionStarted,
    TextDelta,
    ToolCall,
    TranscriptCorrection,
    TranscriptFinal,
    TurnComplete,
)
from voicecli.protocol.perfvoice import PerfVoiceAdapter
from voicecli.protocol.token_pcm import TokenPcmAdapter
from voicecli.protocol.voiceagent import VoiceAgentAdapter
from voicecli.secrets import Secret

KEYS = LocalKeys(None, None)


def to_client(adapter: Adapter, frames: list[str | bytes]) -> list[Event]:
    return [ev for frame in frames for ev in adapter.feed(frame)]


def pcm(ms: int, rate: int = 16000) -> bytes:
    return b"\x10\x20" * (rate * ms // 1000)


def test_elevenlabs_pipe() -> None:
    server = ElevenLabsServer()
    assert server.accept(UpgradeRequest("/v1/convai/conversation", {"agent_id": "a"}, {}), KEYS) is None
    client = ElevenLabsAdapter(DialectConfig(url="http://127.0.0.1:1", agent_id="a", options={
        "client_events": ["audio", "interruption", "agent_response", "agent_response_correction",
                          "agent_chat_response_part", "ping", "client_tool_call", "user_transcript"]}))
    (init,) = client.handshake().initial_frames
    (ready,) = server.feed(init)
    assert isinstance(ready, Ready)
    (started,) = to_client(client, server.encode(ready))
    assert isinstance(started, SessionStarted)
    # client -> server
    inputs = [i for c in (SendAudio(pcm(20)), SendText("hi"), ContextUpdate("ctx"), Pong(3),
                          SendToolResult("c1", "no client tools configured", True))
              for f in client.encode(c) for i in server.feed(f)]
    assert inputs == [UserAudio(pcm(20), 16000), UserText("hi"), UserContext("ctx"), UserPong(3),
                      UserToolResult("c1", "no client tools configured", True)]
    # server -> client: a reply cut off by the user
    outs = [TalkStart(1), TextOut("", 1, "start"), TextOut("Hello there friend.", 1), AudioOut(pcm(40), 1, 0),
            Interrupted(1, "Hello"), AudioOut(pcm(40), 1, 1), TranscriptOut("agent", "Hello", True, 1),
            TalkStop(1), TurnDone(1, "Hello"), TranscriptOut("user", "stop", True),
            AudioOut(pcm(40), 2, 0), PingOut(7), ToolCallOut("c9", "open_door", {"door": 2})]
    events = to_client(client, [f for o in outs for f in server.encode(o)])
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["TextDelta", "TextDelta", "AgentAudio", "Interruption", "TranscriptFinal",
                     "TranscriptCorrection", "TranscriptFinal", "AgentAudio", "Ping", "ToolCall"]
    assert [e.event_id for e in events if isinstance(e, AgentAudio)] == [1, 3]  # the stale one was dropped
    correction = next(e for e in events if isinstance(e, TranscriptCorrection))
    assert correction.original == "Hello there friend." and correction.corrected == "Hello"
    assert next(e for e in events if isinstance(e, ToolCall)).client_side
    assert next(e for e in events if isinstance(e, Ping)).event_id == 7
    (error,) = to_client(client, server.encode(ErrorOut("override_error", "nope")))
    assert isinstance(error, ErrorEvent) and error.code == "override_error"
    assert server.encode(Closing("done", 1000)) == []


def test_token_pcm_pipe() -> None:
    keys = LocalKeys("k", None)
    server = TokenPcmServer()
    assert server.accept(UpgradeRequest("/api/v1/sdk/ws", {}, {}), keys) is None
    token = keys.issue_token({"dialect": "token-pcm"}, 60)
    client = TokenPcmAdapter(DialectConfig(url="http://127.0.0.1:1", api_key=Secret("k")))
    client.on_http_response(200, json.dumps({"token": token, "ws_url": "ws://x/api/v1/sdk/ws"}).encode())
    (first,) = client.handshake().initial_frames
    (ready,) = server.feed(first)
    events = to_client(client, server.encode(ready))
    assert [type(e) for e in events] == [Authenticated, SessionStarted]
    frames = client.encode(SendAudio(pcm(50)))  # 1600 bytes -> two frames, 320 kept
    assert [len(f) for f in frames] == [640, 640]
    assert [i for f in frames for i in server.feed(f)] == [UserAudio(pcm(20), 16000)] * 2
    out = server.encode(AudioOut(pcm(50), 1, 0))
    assert [len(f) for f in out] == [640, 640]
    assert [len(f) for f in server.encode(TalkStop(1))] == [640]  # the padded tail
    server.encode(AudioOut(pcm(30), 2, 0))
    assert server.encode(Interrupted(2, "")) == [] and server.encode(TalkStop(2)) == []
    assert all(isinstance(e, AgentAudio) for e in to_client(client, out))
    (ended,) = to_client(client, server.encode(Closing("client_requested", 1000)))
    assert ended == SessionEnded(reason="session_closed")
    (ended,) = to_client(client, server.encode(Closing("agent_done", 1000)))
    assert ended == SessionEnded(reason="agent_disconnected")
    assert server.encode(Closing("protocol_error", 4003)) == []


def test_voiceagent_pipe() -> None:
    server = VoiceAgentServer()
    assert server.accept(UpgradeRequest("/voiceagent", {"format": "wav"}, {}), KEYS) is None
    client = VoiceAgentAdapter(DialectConfig(url="ws://127.0.0.1:1/voiceagent"))
    assert isinstance(client.on_open()[0], SessionStarted)
    client.encode(SendAudio(pcm(300)))
    (clip,) = client.encode(CommitAudio())
    (utterance,) = server.feed(clip)
    assert isinstance(utterance, UserAudio) and utterance.whole_utterance and utterance.pcm == pcm(300)
    assert server.feed(client.encode(SendText("hey"))[0]) == [UserText("hey")]
    assert server.feed(client.encode(Interrupt("user_speaking"))[0]) == [UserInterrupt("user_speaking")]
    one = "The first sentence of this reply is long enough to be a group. "
    two = "Short. And then the second group follows here!"
    outs = [TextOut("", 1, "start"), TextOut(one, 1), TextOut(two, 1), TextOut("", 1, "stop"),
            ReplyText(1, one + two), TalkStart(1),
            AudioOut(pcm(300, 24000), 1, 0, text=one.strip()), AudioOut(pcm(300, 24000), 1, 1, text=two),
            TranscriptOut("agent", one + two, True, 1), TalkStop(1), TurnDone(1, one + two)]
    frames = [f for o in outs for f in server.encode(o)]
    assert [json.loads(f)["type"] for f in frames] == [
        "stream_start", "step_start", "text_start", "speech_stream_start", "text_delta", "text_delta",
        "text_end", "step_finish", "stream_finish", "response_complete", "audio_chunk", "audio_chunk",
        "speech_stream_end"]
    events = to_client(client, frames)
    chunks = [e for e in events if isinstance(e, AgentAudio)]
    assert [c.chunk_id for c in chunks] == [0, 1] and [c.text for c in chunks] == [" " + one.strip(), " " + two]
    assert all(c.format.encoding == "wav" for c in chunks)
    assert TurnComplete(text=one + two, turn=1) in events
    assert any(isinstance(e, AgentStartedTalking) for e in events)
    assert isinstance(events[-1], AgentStoppedTalking)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == one + two
    # a turn cut while its text streams and its speech is queued
    cut = [TextOut("", 2, "start"), TextOut(one, 2), Interrupted(2, ""), TalkStop(2), TurnDone(2, "")]
    frames = [f for o in cut for f in server.encode(o)]
    assert [json.loads(f)["type"] for f in frames][-4:] == [
        "speech_interrupted", "stream_abort", "response_complete", "speech_stream_end"]
    events = to_client(client, frames)
    assert Interruption(reason="user_speaking", turn=2) in events and TurnComplete(text=one, turn=2) in events
    assert to_client(client, server.encode(TranscriptOut("user", "hello", True))) == [
        TranscriptFinal(role="user", text="hello")]


def test_perfvoice_pipe() -> None:
    server = PerfVoiceServer()
    req = UpgradeRequest("/v1/voice/conversation", {"api_key": "k", "agent_id": "a"}, {})
    assert server.accept(req, KEYS) is None
    client = PerfVoiceAdapter(DialectConfig(url="http://127.0.0.1:1", agent_id="a", api_key=Secret("k")))
    assert client.handshake().initial_frames == ()
    (started,) = to_client(client, server.encode(Ready("s1", 16000, 16000)))
    assert isinstance(started, SessionStarted)
    (frame,) = client.encode(SendAudio(pcm(128)))
    assert server.feed(frame) == [UserAudio(pcm(128), 16000)]
    (ping,) = to_client(client, server.encode(PingOut(4)))
    assert isinstance(ping, Ping)
    assert server.feed(client.encode(Pong(ping.event_id))[0]) == [UserPong(4)]
    outs = [AudioOut(pcm(40), 1, 0), Interrupted(1, "Hi"), AudioOut(pcm(40), 1, 1),
            TranscriptOut("agent", "Hi", True, 1), TranscriptOut("user", "yo", True), AudioOut(pcm(40), 2, 0)]
    events = to_client(client, [f for o in outs for f in server.encode(o)])
    assert [type(e).__name__ for e in events] == ["AgentAudio", "Interruption", "TranscriptFinal",
                                                  "TranscriptFinal", "AgentAudio"]
