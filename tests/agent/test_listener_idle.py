"""An idle session's audio costs the recognizer nothing: only an open utterance is decoded."""

from __future__ import annotations

import asyncio

from voicecli.agent.listener import Listener
from voicecli.agent.pool import RecognizerPool

RATE = 16000
FRAME = bytes(640)


class CountingEars:
    name = "counting"
    rate = RATE

    def __init__(self) -> None:
        self.starts = 0
        self.fed = 0

    def start(self) -> None:
        self.starts += 1

    def feed(self, pcm: bytes) -> str | None:
        self.fed += len(pcm)
        return None

    def finish(self) -> str:
        return "heard" if self.fed else ""


async def test_audio_outside_an_utterance_never_reaches_the_recognizer_nor_takes_one() -> None:
    ears = CountingEars()
    pool = RecognizerPool(CountingEars, ears, 1)
    listener = Listener(pool.lease(), RATE, lambda _output: None)
    listener.start_worker()
    try:
        for _ in range(50):  # a second of an idle open mic
            listener.feed(FRAME)
        await asyncio.sleep(0)
        assert not listener.listening and ears.fed == 0 and pool.lent == 0
        listener.begin(FRAME)
        assert listener.listening
        for _ in range(3):
            listener.feed(FRAME)
        assert await listener.finish() == "heard"
        assert ears.fed == 4 * len(FRAME) and pool.lent == 0
        for _ in range(50):  # idle again
            listener.feed(FRAME)
        await asyncio.sleep(0.01)
        assert ears.fed == 4 * len(FRAME) and ears.starts == 1
    finally:
        for task in listener.stop():
            task.cancel()
