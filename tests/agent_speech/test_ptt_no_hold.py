"""Push-to-talk where the wire has no hold message (token-pcm, PerfVoice): while the turn is
held the client keeps the pauses off the wire, so the local agent's own end-of-turn does not
split "What is … two plus two?"; the release sends the trailing silence and the one reply
comes after it. Real local agent on loopback, a WAV file as the microphone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from voicecli.agent.config import AgentConfig
from voicecli.agent.server import LocalAgent
from voicecli.agent.speech.stt import PocketSphinxRecognizer
from voicecli.agent.speech.tts import HibariSynthesizer
from voicecli.audio.backends import FileBackend
from voicecli.audio.filestreams import FileCapture
from voicecli.audio.wav import write_wav
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.events import AgentAudio, Event, TranscriptFinal
from voicecli.protocol.registry import adapter_class
from voicecli.secrets import Secret
from voicecli.session import Session, SessionOptions
from voicecli.session.events import SessionClosed, TurnLatency
from voicecli.session.hold import PauseSqueezer

from .conftest import frames

FRAME = bytes(640)
LOUD = (3000).to_bytes(2, "little", signed=True) * 320


# ---- the squeezer alone -----------------------------------------------------------------


def test_frames_pass_unchanged_when_not_held() -> None:
    squeezer = PauseSqueezer(20)
    assert [squeezer.frames(f, squeeze=False) for f in (FRAME, LOUD, FRAME)] == [[FRAME], [LOUD], [FRAME]]


def test_a_held_pause_is_kept_off_the_wire_and_the_release_sends_the_trailing_silence() -> None:
    squeezer = PauseSqueezer(20, hangover_ms=100, preroll_ms=60, trailing_ms=1000)
    sent: list[bytes] = []
    for frame in [LOUD] * 10 + [FRAME] * 75 + [LOUD] * 10:  # speech, a 1.5 s pause, speech
        sent += squeezer.frames(frame, squeeze=True)
    quiet = [f for f in sent if f == FRAME]
    assert len(quiet) == 5 + 3  # the hangover after the words, the preroll before the next
    assert sent[-13:] == [FRAME] * 3 + [LOUD] * 10 and sent[10:15] == [FRAME] * 5
    assert squeezer.dropped == 75 - 8
    released = squeezer.frames(FRAME, squeeze=False)
    assert released == [FRAME] * 51  # 1 s at once, then the frame itself


# ---- a held question through the local agent ----------------------------------------------


@pytest.fixture(scope="module")
def held_question(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hibari: "What is", 1.5 s of silence, "two plus two?" (a pause the agent would end the turn on)."""
    synth = HibariSynthesizer(seed=1)
    pause = bytes(int(synth.rate * 1.5) * 2)
    lead = bytes(int(synth.rate * 0.3) * 2)
    path = tmp_path_factory.mktemp("ptt") / "held.wav"
    write_wav(path, lead + synth.synthesize("What is") + pause + synth.synthesize("two plus two?"), synth.rate)
    return path


async def _wait(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def _held_turn(dialect: str, wav: Path) -> tuple[list[tuple[float, Event]], float]:
    """Press before the audio (played in real time), release once it has been sent; the events (with the time
    each came) until the reply has ended, and the time of the release."""
    events: list[tuple[float, Event]] = []
    async with LocalAgent(AgentConfig(api_key=None, greeting="", brain="rules")) as agent:
        adapter = adapter_class(dialect)(DialectConfig(url=agent.url, agent_id="local",
                                                       api_key=Secret("sk_local_embedded")))
        session = Session(adapter, FileBackend([wav], realtime=True), SessionOptions(allow_insecure=True))
        session.set_push_to_talk(True)
        session.set_gate(True)  # the talk key is down from the start

        async def collect() -> None:
            async for event in session.events():
                events.append((time.monotonic(), event))

        run, reader = asyncio.create_task(session.run()), asyncio.create_task(collect())
        try:
            await _wait(lambda: session.capture is not None)
            capture = session.capture
            assert isinstance(capture, FileCapture)
            # every frame of the file has gone through the mic loop (one silence frame after it)
            await _wait(lambda: capture.frames_delivered > capture.total_frames + 1)
            released = time.monotonic()
            session.set_gate(False)
            await _wait(lambda: any(isinstance(e, AgentAudio) for _, e in events))
            # the reply is over once no audio came for a second
            await _wait(lambda: time.monotonic() - max(t for t, e in events if isinstance(e, AgentAudio)) > 1.0)
        finally:
            session.close()
            await asyncio.wait_for(run, 10)
            await asyncio.wait_for(reader, 10)
    assert isinstance(events[-1][1], SessionClosed)
    return events, released


def _latency_from_release(events: list[tuple[float, Event]], released: float) -> None:
    first_audio = min(t for t, e in events if isinstance(e, AgentAudio))
    assert first_audio > released, "the agent answered while the turn was held"
    latency = [e for _, e in events if isinstance(e, TurnLatency)]
    assert len(latency) == 1 and latency[0].source == "commit"
    assert latency[0].ms <= (first_audio - released) * 1000 + 50  # counted from the release


@pytest.mark.slow
async def test_perfvoice_held_pause_is_one_turn_answered_after_release(held_question: Path) -> None:
    events, released = await _held_turn("perfvoice", held_question)
    finals = [e for _, e in events if isinstance(e, TranscriptFinal)]
    assert [e.text for e in finals if e.role == "user"] == ["what is two plus two"]
    assert [e.text for e in finals if e.role == "agent"] == ["2 plus 2 is 4."]
    _latency_from_release(events, released)


@pytest.mark.slow
async def test_token_pcm_held_pause_gets_one_spoken_answer_after_release(held_question: Path) -> None:
    events, released = await _held_turn("token-pcm", held_question)
    chunks = [(t, e) for t, e in events if isinstance(e, AgentAudio)]
    _latency_from_release(events, released)
    audio = b"".join(e.data for _, e in chunks)
    rate = chunks[0][1].format.sample_rate
    assert rate == 16000
    ears = PocketSphinxRecognizer()
    ears.start()
    for frame in frames(audio):
        ears.feed(frame)
    heard = ears.finish()
    assert "four" in heard and "sorry" not in heard, heard  # "2 plus 2 is 4.", one reply
