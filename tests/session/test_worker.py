"""The session worker with a scripted in-memory connection (unit level; the real socket
paths are covered by the smoke and TUI tests against the local agent)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

from tests.support.waiting import eventually
from voicecli.audio.scripted import ScriptedBackend
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import DialectConfig, Frame, Handshake
from voicecli.protocol.commands import SendText
from voicecli.protocol.events import AgentAudio, Interruption, Ping
from voicecli.protocol.voiceagent import VoiceAgentAdapter
from voicecli.secrets import Secret
from voicecli.session import Session, SessionOptions
from voicecli.session.events import AudioStatus, PlaybackFlushed, SessionClosed, TurnLatency
from voicecli.transport import ConnectionEnded, HandshakeRejected

CLOSE = object()


class FakeConnection:
    def __init__(self) -> None:
        self.inbox: asyncio.Queue[Any] = asyncio.Queue()
        self.sent: list[Frame] = []
        self.closed_with: int | None = None

    def server(self, message: dict[str, Any] | object) -> None:
        self.inbox.put_nowait(message if message is CLOSE or isinstance(message, tuple) else json.dumps(message))

    async def send(self, frame: Frame) -> None:
        self.sent.append(frame)
        if isinstance(frame, str) and json.loads(frame).get("type") == "session.close":
            self.server({"type": "session.closed", "reason": "client_requested"})
            self.server((1000, ""))

    async def recv(self) -> Frame:
        item = await self.inbox.get()
        if isinstance(item, tuple):
            raise ConnectionEnded(*item)
        return item

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = code

    def sent_types(self) -> list[str]:
        return [json.loads(f)["type"] for f in self.sent if isinstance(f, str)]


def make_session(conn: FakeConnection, audio: Any = None, **options: Any) -> Session:
    async def connector(handshake: Handshake, **_: Any) -> FakeConnection:
        return conn

    adapter = AtomsAdapter(DialectConfig(url="http://127.0.0.1:9", agent_id="a", api_key=Secret("sk_unit_1234"),
                                         sample_rate=16000))
    return Session(adapter, audio, SessionOptions(**options), connector=connector)  # type: ignore[arg-type]


def created(rate: int = 16000) -> dict[str, Any]:
    return {"type": "session.created", "session_id": "s1", "call_id": "c1", "sample_rate": rate, "channels": 1}


def audio_delta(ms: int, rate: int = 16000, value: int = 3000) -> dict[str, Any]:
    samples = (value.to_bytes(2, "little", signed=True)) * (rate * ms // 1000)
    return {"type": "output_audio.delta", "audio": base64.b64encode(samples).decode()}


async def collect(session: Session) -> list[Any]:
    return [event async for event in session.events()]


class Live:
    """The session's events as they come (``seen``), so a test can wait for one."""

    def __init__(self, session: Session) -> None:
        self.seen: list[Any] = []
        self._task = asyncio.create_task(self._collect(session))

    async def _collect(self, session: Session) -> None:
        async for event in session.events():
            self.seen.append(event)

    def count(self, kind: type) -> int:
        return sum(isinstance(e, kind) for e in self.seen)

    async def until(self, kind: type, count: int = 1) -> None:
        await eventually(lambda: self.count(kind) >= count, f"{count} {kind.__name__} event(s)")

    async def all(self) -> list[Any]:
        await self._task
        return self.seen


def appended(conn: FakeConnection) -> list[bytes]:
    return [base64.b64decode(json.loads(f)["audio"]) for f in conn.sent if isinstance(f, str) and "append" in f]


async def test_text_turn_latency_and_clean_close() -> None:
    conn = FakeConnection()
    session = make_session(conn)
    conn.server(created())
    run = asyncio.create_task(session.run())
    live = Live(session)
    assert await session.wait_started(2)
    session.submit(SendText("hello"))
    await eventually(lambda: "input_text.send" in conn.sent_types(), "the text sent")
    await asyncio.sleep(0.05)  # the agent takes at least 50 ms to answer
    conn.server({"type": "agent_start_talking", "timestamp": "2026-01-01T00:00:00"})
    conn.server(audio_delta(40))
    await live.until(TurnLatency)
    session.close()
    closed = await asyncio.wait_for(run, 5)
    seen = await live.all()
    assert closed == SessionClosed(reason="client_requested", close_code=1000)
    assert conn.sent_types() == ["input_text.send", "session.close"]
    latency = [e for e in seen if isinstance(e, TurnLatency)]
    assert len(latency) == 1 and latency[0].source == "text" and 40 <= latency[0].ms < 10_000
    assert any(isinstance(e, AudioStatus) and e.input is None for e in seen)  # text-only: no backend


async def test_close_without_an_end_message_does_not_wait_for_the_server() -> None:
    """VoiceAgent has no end message: the socket is closed at once, not after the grace
    that lets a server answer one (this server would never close by itself)."""
    conn = FakeConnection()

    async def connector(handshake: Handshake, **_: Any) -> FakeConnection:
        return conn

    adapter = VoiceAgentAdapter(DialectConfig(url="http://127.0.0.1:9"))
    session = Session(adapter, None, SessionOptions(close_grace_s=60), connector=connector)  # type: ignore[arg-type]
    run = asyncio.create_task(session.run())
    assert await session.wait_started(2)
    session.close()
    closed = await asyncio.wait_for(run, 5)
    assert closed.error is None and conn.closed_with == 1000 and conn.sent == []


async def test_interruption_flushes_playback_and_drops_stale_audio() -> None:
    conn = FakeConnection()
    backend = ScriptedBackend()
    session = make_session(conn, backend)
    conn.server(created())
    run = asyncio.create_task(session.run())
    live = Live(session)
    assert await session.wait_started(2)
    conn.server({"type": "agent_start_talking"})
    queued = asyncio.get_running_loop().time()  # no earlier than the audio starts to play
    conn.server(audio_delta(2000))  # two seconds queued
    await live.until(AgentAudio)
    await eventually(lambda: backend.playback is not None and backend.playback.played_seconds >= 0.2,
                     "a fifth of a second played")
    conn.server({"type": "interruption"})
    conn.server(audio_delta(500))  # stale: must not play
    await live.until(PlaybackFlushed)
    elapsed = asyncio.get_running_loop().time() - queued
    assert backend.playback is not None
    assert backend.playback.buffered_seconds == 0
    session.close()
    await asyncio.wait_for(run, 5)
    seen = await live.all()
    flushed = [e for e in seen if isinstance(e, PlaybackFlushed)]
    assert len(flushed) == 1
    # what was heard is what played before the cut; the rest of the two seconds was dropped
    assert 0.19 <= flushed[0].heard_s <= elapsed + 0.02
    assert flushed[0].heard_s + flushed[0].dropped_s == pytest.approx(2.0, abs=0.05)
    assert sum(1 for e in seen if isinstance(e, AgentAudio)) == 1
    assert any(isinstance(e, Interruption) for e in seen)


async def test_mute_sends_silence_frames_keeping_the_stream() -> None:
    conn = FakeConnection()
    backend = ScriptedBackend()
    session = make_session(conn, backend, start_muted=True)
    conn.server(created())
    run = asyncio.create_task(session.run())
    assert await session.wait_started(2)
    await eventually(lambda: backend.capture is not None, "the microphone")
    assert backend.capture is not None
    said = backend.capture.say(b"\x10\x27" * 4000)  # loud audio while muted (250 ms)
    await asyncio.wait_for(said.wait(), 15)
    await eventually(lambda: len(appended(conn)) >= 13, "the clip's frames sent")
    session.close()
    await asyncio.wait_for(run, 5)
    sent = appended(conn)
    assert len(sent) >= 13
    assert all(set(a) == {0} for a in sent)
    assert session.silence_frames_sent == len(sent)


async def test_close_4000_is_a_no_retry_error() -> None:
    conn = FakeConnection()
    session = make_session(conn)
    conn.server({"type": "error", "code": "401", "message": "invalid api key"})
    conn.server((4000, ""))
    closed = await asyncio.wait_for(session.run(), 5)
    assert closed.exit_code == 4
    assert closed.error == "atoms closed the session (code 4000): invalid api key"


async def test_ready_timeout() -> None:
    conn = FakeConnection()
    session = make_session(conn, ready_timeout=0.2)
    closed = await asyncio.wait_for(session.run(), 5)
    assert closed.exit_code == 8
    assert closed.error == "no ready message from the atoms server within 0.2 s"


async def test_handshake_rejection_uses_the_dialect_wording() -> None:
    async def connector(handshake: Handshake, **_: Any) -> FakeConnection:
        raise HandshakeRejected(401, b"")

    adapter = AtomsAdapter(DialectConfig(url="http://127.0.0.1:9", agent_id="a", api_key=Secret("sk_unit_1234")))
    closed = await Session(adapter, connector=connector).run()  # type: ignore[arg-type]
    assert closed.exit_code == 4
    assert closed.error is not None and closed.error.startswith("atoms refused the connection (HTTP 401)")


@pytest.mark.parametrize("event_id", [7, None])
async def test_ping_is_answered_at_once(event_id: int | None) -> None:
    class PingAdapter(AtomsAdapter):
        def feed(self, frame):  # type: ignore[override]
            m = json.loads(frame)
            if m.get("type") == "ping":
                return [Ping(event_id=m.get("event_id"))]
            return super().feed(frame)

        def encode(self, command):  # type: ignore[override]
            from voicecli.protocol.commands import Pong

            if isinstance(command, Pong):
                return [json.dumps({"type": "pong", "event_id": command.event_id})]
            return super().encode(command)

    conn = FakeConnection()

    async def connector(handshake: Handshake, **_: Any) -> FakeConnection:
        return conn

    adapter = PingAdapter(DialectConfig(url="http://127.0.0.1:9", agent_id="a", api_key=Secret("sk_unit_1234")))
    session = Session(adapter, connector=connector)  # type: ignore[arg-type]
    conn.server(created())
    conn.server({"type": "ping", "event_id": event_id})
    run = asyncio.create_task(session.run())
    await eventually(lambda: bool(conn.sent), "the pong")
    session.close()
    await asyncio.wait_for(run, 5)
    assert json.loads(conn.sent[0]) == {"type": "pong", "event_id": event_id}


async def test_half_duplex_mutes_the_mic_while_the_agent_is_heard() -> None:
    conn = FakeConnection()
    backend = ScriptedBackend()
    session = make_session(conn, backend, half_duplex=True, half_duplex_tail_ms=100)
    conn.server(created())
    run = asyncio.create_task(session.run())
    assert await session.wait_started(2)
    await eventually(lambda: backend.capture is not None, "the microphone")
    assert backend.capture is not None
    said = backend.capture.say(b"\x10\x27" * 16000)  # one second of loud mic audio
    conn.server(audio_delta(400))  # the agent talks for the first 400 ms of it
    await asyncio.wait_for(said.wait(), 15)
    await eventually(lambda: sum(any(f) for f in appended(conn)) >= 20, "the mic live again")
    session.close()
    await asyncio.wait_for(run, 5)
    frames = appended(conn)
    loud = [any(f) for f in frames]
    first_loud = loud.index(True)
    assert first_loud >= 20  # 400 ms of agent audio + 100 ms tail = at least 25 silent 20 ms frames
    assert sum(loud) >= 20  # and the mic is live again afterwards


async def test_the_users_interrupt_stops_the_reply_until_the_agents_next_turn() -> None:
    """Atoms has no client interrupt message: the server goes on sending the reply, so the
    client drops the rest of that turn's audio itself, reports the cut in order
    (Interruption, then PlaybackFlushed), and plays the agent's next turn."""
    from voicecli.protocol.commands import Interrupt

    conn = FakeConnection()
    backend = ScriptedBackend(speed=0.1)  # the speaker plays at a tenth of real time: what is queued stays
    session = make_session(conn, backend)
    conn.server(created())
    run = asyncio.create_task(session.run())
    live = Live(session)
    assert await session.wait_started(2)
    conn.server({"type": "agent_start_talking"})
    conn.server(audio_delta(1000))
    await live.until(AgentAudio)
    session.submit(Interrupt("user"))  # F4 or /interrupt
    assert backend.playback is not None and backend.playback.buffered_seconds == 0
    conn.server(audio_delta(500))  # the same reply goes on arriving: not played
    conn.server({"type": "transcript.delta", "role": "assistant", "text": "I can tell you the time and"})
    conn.server({"type": "agent_stop_talking"})
    conn.server({"type": "transcript", "role": "assistant", "text": "I can tell you the time and the date."})
    conn.server({"type": "agent_start_talking"})
    conn.server(audio_delta(300))  # the next turn plays
    await live.until(AgentAudio, 2)
    assert 0.1 < backend.playback.buffered_seconds <= 0.3  # only the next turn (0.3 s) was queued
    session.close()
    await asyncio.wait_for(run, 5)
    seen = await live.all()
    kinds = [type(e).__name__ for e in seen]
    assert kinds.index("Interruption") + 1 == kinds.index("PlaybackFlushed")
    (cut,) = [e for e in seen if isinstance(e, Interruption)]
    assert cut.reason == "user" and cut.turn == 1
    played = [e for e in seen if isinstance(e, AgentAudio)]
    assert [e.turn for e in played] == [1, 2]
    assert not [e for e in seen if type(e).__name__.startswith("Transcript")]  # nor its words
    # no interrupt message on this wire: only the mic stream and the close
    assert [t for t in conn.sent_types() if t != "input_audio_buffer.append"] == ["session.close"]


async def test_without_a_speaker_the_reply_latency_counts_to_the_first_words() -> None:
    """Text-only (no audio backend, Atoms chat): the reply figure is the time to the
    agent's first words, since no audio ever comes."""
    conn = FakeConnection()
    session = make_session(conn)
    conn.server(created())
    run = asyncio.create_task(session.run())
    live = Live(session)
    assert await session.wait_started(2)
    session.submit(SendText("what is 12 plus 7"))
    await eventually(lambda: "input_text.send" in conn.sent_types(), "the text sent")
    await asyncio.sleep(0.05)  # the agent takes at least 50 ms to answer
    conn.server({"type": "transcript", "role": "assistant", "text": "12 plus 7 is 19."})
    await live.until(TurnLatency)
    session.close()
    await asyncio.wait_for(run, 5)
    seen = await live.all()
    (latency,) = [e for e in seen if isinstance(e, TurnLatency)]
    assert latency.source == "text" and 40 <= latency.ms < 10_000
    kinds = [type(e).__name__ for e in seen]
    assert kinds.index("TurnLatency") < kinds.index("TranscriptFinal")


async def test_a_fault_in_the_mic_loop_is_told_and_the_session_goes_on_text_only() -> None:
    conn = FakeConnection()
    backend = ScriptedBackend()
    session = make_session(conn, backend)
    live = Live(session)

    def broken_vad(frame: bytes) -> list[str]:
        raise ValueError("frame of 3 bytes")

    conn.server(created())
    run = asyncio.create_task(session.run())
    assert await session.wait_started(2)
    await eventually(lambda: backend.capture is not None, "the microphone")
    session._vad.feed = broken_vad  # type: ignore[method-assign]
    assert backend.capture is not None
    backend.capture.say(b"\x10\x27" * 800)
    await eventually(lambda: any("microphone lost: ValueError: frame of 3 bytes" in getattr(e, "text", "")
                                 for e in live.seen), "the notice")
    status = [e for e in live.seen if isinstance(e, AudioStatus)][-1]
    assert status.input is None and status.output is not None
    session.submit(SendText("still there?"))  # the session goes on
    await eventually(lambda: "input_text.send" in conn.sent_types(), "the text sent")
    session.close()
    await asyncio.wait_for(run, 5)
