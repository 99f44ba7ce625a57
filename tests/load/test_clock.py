"""The load generator's shared frame clock and lean microphone, on a virtual clock: frames
due on each session's 20 ms grid, one wake-up per tick whatever the number of sessions,
lateness measured per frame, missed ticks run in order; clips' speech ends found once; each
audio chunk's wire frames encoded once for every session."""

from __future__ import annotations

import asyncio
from array import array

import pytest

from voicecli.load.backend import LoadCapture, WireFrames, last_voiced_frame
from voicecli.load.clock import FrameClock
from voicecli.protocol.base import DialectConfig
from voicecli.protocol.commands import SendAudio
from voicecli.protocol.registry import adapter_class
from voicecli.secrets import Secret


class VirtualTime:
    def __init__(self, start: float = 100.0) -> None:
        self.t = start
        self.late = 0.0  # every sleep overshoots by this much

    def now(self) -> float:
        return self.t

    async def sleep(self, delay: float) -> None:
        for _ in range(3):  # the sessions woken at the last tick run before time moves on
            await asyncio.sleep(0)
        self.t += delay + self.late


def test_each_pacer_is_due_on_its_slot_of_the_grid() -> None:
    time = VirtualTime()

    async def scenario() -> list[list[float]]:
        clock = FrameClock(0.02, 4, now=time.now, sleep=time.sleep)
        pacers = [clock.join() for _ in range(6)]
        assert [p.slot for p in pacers] == [0, 1, 2, 3, 0, 1]  # the least busy slot each time
        got: list[list[float]] = [[] for _ in pacers]

        async def take(i: int) -> None:
            for _ in range(5):
                got[i].append(await pacers[i].next())

        await asyncio.gather(*(take(i) for i in range(len(pacers))))
        for pacer in pacers:
            pacer.close()
        assert clock.pacers == 0
        return got

    got = asyncio.run(scenario())
    for i, times in enumerate(got):
        offset = (i % 4) * 0.005
        assert times == pytest.approx([100.0 + offset + n * 0.02 for n in range(5)]), i


def test_one_wake_up_per_tick_whatever_the_number_of_sessions() -> None:
    time = VirtualTime()

    async def scenario(sessions: int) -> tuple[int, int]:
        clock = FrameClock(0.02, 2, now=time.now, sleep=time.sleep)
        pacers = [clock.join() for _ in range(sessions)]
        frames = 0

        async def take(pacer_index: int) -> None:
            nonlocal frames
            for _ in range(50):  # one second of frames
                await pacers[pacer_index].next()
                frames += 1

        await asyncio.gather(*(take(i) for i in range(sessions)))
        wakeups = clock.wakeups
        for pacer in pacers:
            pacer.close()
        return wakeups, frames

    few, many = asyncio.run(scenario(2)), asyncio.run(scenario(200))
    assert few[1] == 2 * 50 and many[1] == 200 * 50
    assert few[0] == many[0] <= 2 * 50  # two slots per 20 ms period, for a second


def test_lateness_is_send_time_minus_scheduled_time() -> None:
    time = VirtualTime()
    time.late = 0.003  # the loop wakes the clock 3 ms late every time

    async def scenario() -> array[float]:
        clock = FrameClock(0.02, 1, now=time.now, sleep=time.sleep)
        lateness: array[float] = array("d")
        capture = LoadCapture(16000, 20, clock, lateness)
        frames = capture.frames()
        for _ in range(4):
            frame = await anext(frames)
            assert frame == bytes(640)  # nothing said: silence
        await frames.aclose()
        assert clock.pacers == 0  # a closed microphone leaves the clock
        return lateness

    lateness = asyncio.run(scenario())
    assert list(lateness) == pytest.approx([0.0, 3.0, 3.0, 3.0])  # the first tick is the join time


def test_missed_ticks_run_in_order_with_their_own_times() -> None:
    time = VirtualTime()
    clock = FrameClock(0.02, 2, now=time.now, sleep=time.sleep)
    due: list[tuple[int, float]] = []

    class Recorder:
        def __init__(self, slot: int) -> None:
            self.slot = slot

        def due(self, scheduled: float) -> None:
            due.append((self.slot, round(scheduled - 100.0, 3)))

    clock.origin = 100.0
    clock.slots = [[Recorder(0)], [Recorder(1)]]  # type: ignore[list-item]
    time.t = 100.051  # the clock's loop was stalled for 51 ms
    assert clock.fire_due() == 6
    assert due == [(0, 0.0), (1, 0.01), (0, 0.02), (1, 0.03), (0, 0.04), (1, 0.05)]
    assert clock.fire_due() == 0  # nothing more is due yet


def test_a_clip_is_sent_on_the_ticks_and_its_speech_end_marked() -> None:
    time = VirtualTime()
    loud = (8000).to_bytes(2, "little", signed=True) * 320
    clip = loud * 3 + bytes(640) * 2  # 60 ms of speech, 40 ms of trailing silence

    async def scenario() -> tuple[list[bytes], float | None, bool]:
        clock = FrameClock(0.02, 1, now=time.now, sleep=time.sleep)
        capture = LoadCapture(16000, 20, clock, array("d"))
        done = capture.say(clip)
        assert not capture.finished
        frames = capture.frames()
        sent = [await anext(frames) for _ in range(6)]
        await frames.aclose()
        return sent, capture.speech_end, done.is_set() and capture.finished

    sent, speech_end, finished = asyncio.run(scenario())
    assert sent == [loud] * 3 + [bytes(640)] * 3  # then silence, as a quiet microphone
    assert speech_end == pytest.approx(100.0 + 0.04 + 0.02)  # the third frame's send, plus its 20 ms
    assert finished
    assert last_voiced_frame(clip, 640) == 2 and last_voiced_frame(bytes(1280), 640) == -1


def test_each_chunk_is_encoded_once_for_every_session() -> None:
    config = DialectConfig(url="http://127.0.0.1:1", agent_id="a", api_key=Secret("k"))
    sessions = [adapter_class("atoms")(config) for _ in range(3)]
    wire = WireFrames()
    chunks = [bytes([i]) * 960 for i in range(4)]
    out = [[wire(adapter, bytes(chunk)) for chunk in chunks] for adapter in sessions]
    assert wire.encoded == 4  # not 12
    assert out[0] == out[1] == out[2]
    assert out[0][1] == sessions[0].encode(SendAudio(chunks[1]))
    other = adapter_class("token-pcm")(config)  # a dialect whose audio frames carry state: not cached
    wire(other, chunks[0])
    wire(other, chunks[0])
    assert wire.encoded == 6
