"""A whole session on the audio engine: the local agent's reply comes out of the (virtual)
speaker, the microphone streams, and the recorder gets both sides."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.support.pulse import voiced_seconds
from voicecli.audio.backends import SoundDeviceBackend
from voicecli.audio.recorder import Recorder
from voicecli.audio.wav import read_wav
from voicecli.cli.common import endpoint
from voicecli.cli.config import Target
from voicecli.protocol.commands import SendText
from voicecli.session import Session, SessionOptions
from voicecli.session.events import AudioStatus

pytestmark = [pytest.mark.pulse, pytest.mark.slow]


async def test_local_agent_reply_is_played_and_recorded(pulse_bed, tmp_path):
    target = Target(dialect="atoms", url=None, agent_id=None, key_env="VOICECLI_TEST_UNUSED_KEY")
    recorder = Recorder(tmp_path, name="session.wav")
    backend = SoundDeviceBackend()
    monitor = pulse_bed.monitor(rate=48000)
    try:
        async with endpoint(target, greeting="") as ep:
            session = Session(ep.adapter, backend, SessionOptions(recorder=recorder))
            runner = asyncio.create_task(session.run())
            status = None
            async with asyncio.timeout(20):
                async for event in session.events():
                    if isinstance(event, AudioStatus):
                        status = event
                        break
            assert status is not None and status.input and status.output, status
            playback = session.playback
            assert playback is not None and session.capture is not None
            session.submit(SendText("good morning"))
            async with asyncio.timeout(20):
                while playback.played_seconds < 1.0:
                    await asyncio.sleep(0.05)
            await playback.drain(10.0)
            session.close()
            async with asyncio.timeout(10):
                await runner
    finally:
        recorded = monitor.stop()
        await backend.close()
        recorder.close()
    assert session.frames_sent > 20  # the microphone streamed while the agent spoke
    played = playback.played_seconds
    assert played > 1.0
    data, rate = read_wav(tmp_path / "session.wav")
    assert data.shape[1] == 2
    voiced_played = voiced_seconds(data[:, 1], rate)  # right: agent audio as played (tap)
    assert voiced_played > 0.3 * played
    heard = voiced_seconds(recorded, 48000)  # what actually came out of the speaker
    assert heard > 0.8 * voiced_played, f"only {heard:.2f} of {voiced_played:.2f} voiced seconds reached the speaker"
    assert np.max(np.abs(data[:, 0])) < 0.05  # left: the virtual mic heard silence




async def test_a_voice_softer_than_the_agent_gets_through_echo_cancellation_and_stops_it(pulse_bed, tmp_path):
    """Headphones (the bed's speaker never reaches its microphone) with echo cancellation on:
    2.4 s into a reply (as played) the user cuts in 16 dB softer than the agent's playback;
    the agent gets the words (the recording's microphone side is what was sent) and stops.
    (The residual echo gate, which can learn no coupling where there is no echo, used to hold
    back every block under the playback's level: 0.18 to 0.20 of 1.44 voiced seconds reached
    the agent and the reply went on to its end; now 0.74 to 1.0 s, what the canceller's own
    double-talk suppression and noise reduction leave of them.)"""
    from voicecli.agent.speech.tts import HibariSynthesizer
    from voicecli.protocol.events import AgentStartedTalking, AgentStoppedTalking, Interruption

    assert pulse_bed.mic is not None
    tts = HibariSynthesizer(warm_up=False, seed=1)
    user = np.frombuffer(tts.synthesize("Wait, stop, I have another question for you."), dtype="<i2")
    user = (user.astype(np.float32) * 0.16).astype("<i2")  # -16 dB
    target = Target(dialect="atoms", url=None, agent_id=None, key_env="VOICECLI_TEST_UNUSED_KEY")
    recorder = Recorder(tmp_path, name="session.wav")
    backend = SoundDeviceBackend()
    outcome = "no reply"
    cut_in: asyncio.Task[None] | None = None

    async def cut_in_after(seconds: float) -> None:
        """The user speaks once ``seconds`` of the reply have been played (not merely sent)."""
        playback = session.playback
        assert playback is not None and pulse_bed.mic is not None
        while playback.played_seconds < seconds:
            await asyncio.sleep(0.02)
        pulse_bed.mic.play(user, tts.rate)

    try:
        async with endpoint(target, greeting="", own_process=True) as ep:
            session = Session(ep.adapter, backend, SessionOptions(aec="on", recorder=recorder))
            runner = asyncio.create_task(session.run())
            events = session.events()
            async with asyncio.timeout(20):
                async for event in events:
                    if isinstance(event, AudioStatus):
                        assert event.input and event.output, event
                        break
            session.submit(SendText("help"))
            async with asyncio.timeout(30):
                async for event in events:
                    if isinstance(event, AgentStartedTalking) and cut_in is None:
                        cut_in = asyncio.create_task(cut_in_after(2.4))
                    elif isinstance(event, Interruption):
                        outcome = "interrupted"
                        break
                    elif isinstance(event, AgentStoppedTalking):
                        outcome = "finished"
                        break
            assert cut_in is not None, outcome
            async with asyncio.timeout(10):  # (a reply cut before 2.4 s would never get there)
                await cut_in
            await asyncio.to_thread(pulse_bed.mic.wait_idle)
            await asyncio.sleep(0.3)  # the last words' frames through the gate
            session.close()
            async with asyncio.timeout(10):
                await runner
    finally:
        await backend.close()
        recorder.close()
    data, rate = read_wav(tmp_path / "session.wav")
    sent = voiced_seconds(data[:, 0], rate)
    spoken = voiced_seconds(user.astype(np.float32) / 32768, tts.rate)
    assert sent > 0.35 * spoken, f"{sent:.2f} of the user's {spoken:.2f} voiced seconds reached the agent"
    assert outcome == "interrupted"
