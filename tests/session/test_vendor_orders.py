"""The transcript and smoke's per-turn figures under every order the hosted services may
send, through the whole :class:`Session` (adapter, worker, event stream).

Hypothesis draws conversations (greeting or not, typed or spoken input, replies cut at
any chunk, the cut's frames before or after the next input, pings anywhere) and, per
dialect, one of the vendor-legal orders of the frames (:mod:`tests.session.vendor_orders`).
Whatever was drawn:

- turns read in conversation order: each reply sits after the user turn that caused it
  and before the next one;
- one agent turn per reply, none empty (every agent turn has text or audio);
- a correction or a truncation edits the reply it belongs to, in place;
- agent audio seconds are counted on the reply they belong to;
- ``attribute`` (what ``smoke --json`` reports per turn) gives each scripted turn its own
  reply, audio seconds and interruption.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.session import vendor_orders as vo
from voicecli.cli.smoke_report import SmokeReport, TurnReport, attribute
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import Adapter, DialectConfig, Frame, Handshake, HttpRequest
from voicecli.protocol.commands import SendText
from voicecli.protocol.elevenlabs import ElevenLabsAdapter
from voicecli.protocol.perfvoice import PerfVoiceAdapter
from voicecli.protocol.token_pcm import TokenPcmAdapter
from voicecli.protocol.voiceagent import VoiceAgentAdapter
from voicecli.secrets import Secret
from voicecli.session import Session, SessionOptions
from voicecli.session.events import Mark, SessionClosed
from voicecli.session.transcript import Transcript, Turn
from voicecli.transport import ConnectionEnded

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class ScriptedConnection:
    """An in-memory socket; ``until_idle()`` returns once every frame given so far was read
    and handled by the session (its receive loop waits for more)."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[Frame | tuple[int, str]] = asyncio.Queue()
        self.sent: list[Frame] = []
        self._idle = asyncio.Event()

    def server(self, frame: Frame | tuple[int, str]) -> None:
        self._idle.clear()
        self.inbox.put_nowait(frame)

    async def until_idle(self) -> None:
        await self._idle.wait()

    async def send(self, frame: Frame) -> None:
        self.sent.append(frame)

    async def recv(self) -> Frame:
        if self.inbox.empty():
            self._idle.set()
        item = await self.inbox.get()
        if isinstance(item, tuple):
            raise ConnectionEnded(*item)
        return item

    async def close(self, code: int = 1000, reason: str = "") -> None:
        pass


async def converse(adapter: Adapter, opening: list[dict[str, Any]], script: vo.Script) -> tuple[Transcript, list[int]]:
    """Play ``script`` through a real Session; the transcript and each turn's start."""
    conn = ScriptedConnection()

    async def connector(handshake: Handshake, **_: Any) -> ScriptedConnection:
        return conn

    async def http(request: HttpRequest) -> tuple[int, bytes]:  # token-pcm's token step
        return 200, json.dumps({"token": "jwt-orders-1", "ws_url": "ws://127.0.0.1:9/api/v1/sdk/ws"}).encode()

    session = Session(adapter, None, SessionOptions(ready_timeout=2), connector=connector,  # type: ignore[arg-type]
                      http=http)
    transcript = Transcript()
    boundaries: list[int] = []

    async def consume() -> None:
        async for event in session.events():
            transcript.apply(event)
            if isinstance(event, Mark):
                boundaries.append(len(transcript.turns))

    for message in opening:
        conn.server(json.dumps(message))
    run = asyncio.create_task(session.run())
    consumer = asyncio.create_task(consume())
    assert await session.wait_started(2)
    for step in script.steps:
        if step.kind == "server":
            conn.server(step.value)
            continue
        await conn.until_idle()
        if step.kind == "mark":
            session.mark("turn")
        else:
            session.submit(SendText(str(step.value)))
    await conn.until_idle()
    conn.server((1000, ""))
    closed = await asyncio.wait_for(run, 5)
    await asyncio.wait_for(consumer, 5)
    assert isinstance(closed, SessionClosed) and closed.error is None, closed
    return transcript, boundaries


def check(transcript: Transcript, boundaries: list[int], exchanges: list[vo.Exchange],
          reply_of: Callable[[vo.Exchange], str], audio_of: Callable[[vo.Exchange], float],
          cut_of: Callable[[vo.Exchange], bool] = lambda ex: ex.cut_after is not None) -> None:
    turns = transcript.turns
    agent = [t for t in turns if t.role == "agent" and t.kind == "speech"]
    shown = [(t.role, t.text, round(t.audio_s, 3)) for t in turns]
    # one agent turn per reply, none empty
    assert len(agent) == len(exchanges), shown
    assert all(not t.empty for t in agent), shown
    assert all(t.final for t in turns), shown

    def user_turn(ex: vo.Exchange) -> Turn:
        (found,) = [t for t in turns if t.role == "user" and t.text == ex.user]
        return found

    for ex, reply in zip(exchanges, agent, strict=True):
        # in conversation order: after its question, before the next one
        assert reply.text.split()[:1] == [f"r{ex.number}"], shown
        if ex.user is not None:
            assert user_turn(ex).index < reply.index, shown
        later = [e for e in exchanges if e.number > ex.number and e.user is not None]
        if later:
            assert reply.index < user_turn(later[0]).index, shown
        # corrections and truncations edit the reply in place; audio on the right reply
        assert reply.text.strip() == reply_of(ex), shown
        assert abs(reply.audio_s - audio_of(ex)) < 1e-6, shown
        assert reply.interrupted == cut_of(ex), shown
    # per-turn figures as smoke --json reports them
    asked = [ex for ex in exchanges if ex.user is not None]
    report = SmokeReport(turns=[TurnReport(index=i + 1, input="text", content=ex.user or "")
                                for i, ex in enumerate(asked)])
    attribute(report, transcript, boundaries)
    greeting = [ex for ex in exchanges if ex.user is None]
    assert report.greeting == (reply_of(greeting[0]) if greeting else ""), shown
    for ex, figures in zip(asked, report.turns, strict=True):
        assert figures.agent_transcript == reply_of(ex), (shown, figures)
        assert abs(figures.agent_audio_s - round(audio_of(ex), 3)) < 1e-6, (shown, figures)
        assert figures.interrupted == cut_of(ex), (shown, figures)
        assert figures.user_transcript == ("" if ex.typed else ex.user), (shown, figures)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# ---- ElevenLabs -------------------------------------------------------------------------------

EL_METADATA = {"type": "conversation_initiation_metadata", "conversation_initiation_metadata_event": {
    "conversation_id": "conv_1", "agent_output_audio_format": "pcm_16000", "user_input_audio_format": "pcm_16000"}}


@PROPERTY
@given(exchanges=vo.conversations(("real", "with", "parts", "last")), pings=st.lists(st.booleans(), max_size=30))
def test_elevenlabs_orders(exchanges: list[vo.Exchange], pings: list[bool]) -> None:
    adapter = ElevenLabsAdapter(DialectConfig(url="http://127.0.0.1:9", agent_id="agent_1"))
    transcript, boundaries = run(converse(adapter, [EL_METADATA], vo.script_elevenlabs(exchanges, pings)))
    check(transcript, boundaries, exchanges, vo.expected_reply, vo.expected_audio_s)


@PROPERTY
@given(exchanges=vo.conversations(("real", "with", "last"), typed=False), pings=st.lists(st.booleans(), max_size=30))
def test_perfvoice_orders(exchanges: list[vo.Exchange], pings: list[bool]) -> None:
    adapter = PerfVoiceAdapter(DialectConfig(url="http://127.0.0.1:9", agent_id="agent_1",
                                             api_key=Secret("pk_test_orders_1")))
    transcript, boundaries = run(converse(adapter, [EL_METADATA], vo.script_elevenlabs(exchanges, pings, True)))
    check(transcript, boundaries, exchanges, lambda ex: vo.expected_el_reply(ex, True), vo.expected_audio_s)


# ---- Atoms ------------------------------------------------------------------------------------

ATOMS_CREATED = {"type": "session.created", "session_id": "s1", "call_id": "c1", "sample_rate": vo.RATE,
                 "channels": 1}


@PROPERTY
@given(exchanges=vo.conversations(("real", "late", "chat")))
def test_atoms_orders(exchanges: list[vo.Exchange]) -> None:
    adapter = AtomsAdapter(DialectConfig(url="http://127.0.0.1:9", agent_id="a", api_key=Secret("sk_orders_12"),
                                         sample_rate=vo.RATE))
    transcript, boundaries = run(converse(adapter, [ATOMS_CREATED], vo.script_atoms(exchanges)))
    check(transcript, boundaries, exchanges, vo.expected_reply, vo.expected_atoms_audio, vo.expected_cut)


# ---- VoiceAgent -------------------------------------------------------------------------------

@PROPERTY
@given(exchanges=vo.conversations(("real", "legacy"), greeting=False))
def test_voiceagent_orders(exchanges: list[vo.Exchange]) -> None:
    adapter = VoiceAgentAdapter(DialectConfig(url="http://127.0.0.1:9", options={
        "output_format": "pcm", "output_rate": vo.RATE}))
    transcript, boundaries = run(converse(adapter, [], vo.script_voiceagent(exchanges)))
    check(transcript, boundaries, exchanges, vo.expected_reply, vo.expected_audio_s)


# ---- the orders from real services, as reported ----------------------------------------------

def test_elevenlabs_reply_text_before_its_audio_stays_below_the_question() -> None:
    """The scramble users saw: agent_response with the first chunk, the rest of the audio
    after, then a barge-in with interruption + agent_response_correction."""
    exchanges = [
        vo.Exchange(0, None, False, 2, 2),  # "Hello"
        vo.Exchange(1, "q1 question", True, 4, 3),
        vo.Exchange(2, "q2 question", True, 6, 4, cut_after=2),
        vo.Exchange(3, "q3 question", True, 3, 2),
    ]
    transcript, boundaries = run(converse(ElevenLabsAdapter(DialectConfig(url="http://127.0.0.1:9", agent_id="a")),
                                          [EL_METADATA], vo.script_elevenlabs(exchanges, [])))
    assert [(t.role, t.text.split()[0]) for t in transcript.visible] == [
        ("agent", "r0"), ("user", "q1"), ("agent", "r1"), ("user", "q2"), ("agent", "r2"), ("user", "q3"),
        ("agent", "r3")]
    check(transcript, boundaries, exchanges, vo.expected_reply, vo.expected_audio_s)


def test_voiceagent_message_typed_while_trailing_audio_plays_cuts_that_reply_in_place() -> None:
    """A new ``transcript`` cuts the SDK server's reply (its queue is cleared), so the client
    stops it too: the chunk still in flight is not played, and the reply stays on its turn,
    above the new message, marked interrupted."""
    adapter = VoiceAgentAdapter(DialectConfig(url="http://127.0.0.1:9", options={
        "output_format": "pcm", "output_rate": vo.RATE}))
    script = vo.Script()
    script.mark()
    script.user_typed("q0 question")
    script.server({"type": "stream_start"})
    script.server({"type": "text_delta", "id": "t", "text": "r0 first"})
    script.server({"type": "speech_stream_start"})
    script.server({"type": "response_complete", "text": "r0 first", "toolCalls": [], "toolResults": []})
    script.server({"type": "audio_chunk", "chunkId": 0, "data": vo.b64_chunk(), "format": "pcm", "text": ""})
    script.mark()
    script.user_typed("q1 question")  # typed while the first reply's audio still arrives
    script.server({"type": "audio_chunk", "chunkId": 1, "data": vo.b64_chunk(), "format": "pcm", "text": ""})
    script.server({"type": "speech_stream_end"})
    script.server({"type": "stream_start"})
    script.server({"type": "response_complete", "text": "r1 second", "toolCalls": [], "toolResults": []})
    transcript, boundaries = run(converse(adapter, [], script))
    assert [(t.role, t.text, round(t.audio_s, 2), t.interrupted) for t in transcript.visible] == [
        ("user", "q0 question", 0.0, False), ("agent", "r0 first", 0.04, True), ("user", "q1 question", 0.0, False),
        ("agent", "r1 second", 0.0, False)]
    assert boundaries == [0, 2]


# ---- token-pcm: audio only --------------------------------------------------------------------

@PROPERTY
@given(replies=st.lists(st.lists(st.integers(1, 6), min_size=1, max_size=6), max_size=4), ended=st.booleans())
def test_token_pcm_audio_lands_on_the_input_it_answers(replies: list[list[int]], ended: bool) -> None:
    """No text and no turn identity on this wire: the agent's audio after each input (a
    Mark, as smoke puts one) is one agent turn with every second of it, never an empty one,
    and smoke's per-turn figures count each reply's seconds on its own turn."""
    adapter = TokenPcmAdapter(DialectConfig(url="http://127.0.0.1:9", api_key=Secret("sk_orders_pcm_1")))
    script = vo.Script()
    for frames in replies:
        script.mark()
        for count in frames:
            script.server(bytes(640 * count))  # count 20 ms frames of silence
    if ended:
        script.server({"type": "session_ended", "reason": "agent_disconnected"})
    opening = [{"type": "connected"}, {"type": "agent_ready"}]
    transcript, boundaries = run(converse(adapter, opening, script))
    agent = [t for t in transcript.turns if t.role == "agent"]
    assert all(not t.empty for t in agent)
    assert [round(t.audio_s, 6) for t in agent] == [round(sum(f) * 0.02, 6) for f in replies]
    assert transcript.visible == agent
    report = SmokeReport(turns=[TurnReport(index=i + 1, input="audio", content="") for i in range(len(replies))])
    attribute(report, transcript, boundaries)
    assert [t.agent_audio_s for t in report.turns] == [round(sum(f) * 0.02, 3) for f in replies]
