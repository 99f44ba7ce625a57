"""The agent's ears: runs a :class:`Recognizer` for one session, off the event loop.

Recognizer calls are CPU-bound and not thread-safe, so one worker task runs them one at
a time in a thread, in the order the engine asked for them.

With a :class:`~voicecli.agent.pool.Lease` (a server's shared recognizers) the worker
acquires a recognizer when an utterance begins (or a whole clip arrives), waiting for one
when all are lent, and releases it once the utterance's final text is known; when the
session stops mid-utterance it is released as soon as the recognizer call then running
has returned, never while one runs.

Audio fed while no utterance is open (between a ``finish`` and the next ``begin``) is
dropped at once: an idle session's silence costs the recognizer nothing, not even a queue
entry or a wake-up of the worker.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from voicecli.agent.interfaces import AgentOutput, TranscriptOut
from voicecli.agent.pool import Lease
from voicecli.agent.voice_contracts import Recognizer

T = TypeVar("T")


class _Converter:
    """PCM16 at one rate → PCM16 at the recognizer's rate, seamless across chunks."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self._stream: Any = None
        if in_rate != out_rate:
            from voicecli.audio.resample import StreamResampler

            self._stream = StreamResampler(in_rate, out_rate)

    def __call__(self, pcm: bytes, last: bool = False) -> bytes:
        if self._stream is None:
            return pcm
        from voicecli.pcm.convert import float_to_pcm16, pcm16_to_float

        return float_to_pcm16(self._stream.process(pcm16_to_float(pcm), last=last))


class Listener:
    def __init__(self, recognizer: Recognizer, input_rate: int, emit: Callable[[AgentOutput], None]) -> None:
        self.recognizer = recognizer
        self.input_rate = input_rate
        self._emit = emit
        self._queue: deque[tuple[str, Any]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._convert = _Converter(input_rate, recognizer.rate)
        self._running: asyncio.Future[Any] | None = None  # the recognizer call in a thread
        self._open = False  # an utterance has begun and not yet finished

    @property
    def holding(self) -> bool:
        """True while this session holds one of the server's shared recognizers."""
        return isinstance(self.recognizer, Lease) and self.recognizer.held is not None

    def start_worker(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    def stop(self) -> list[asyncio.Task[None]]:
        if self._task is None:
            return []
        self._task.cancel()
        return [self._task]

    @property
    def listening(self) -> bool:
        """True between ``begin`` and ``finish``: only then is fed audio decoded."""
        return self._open

    def begin(self, pcm: bytes) -> None:
        self._open = True
        self._put(("begin", pcm))

    def feed(self, pcm: bytes) -> None:
        if self._open:
            self._put(("feed", pcm))

    async def finish(self) -> str:
        self._open = False
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._put(("finish", future))
        return await future

    async def recognize(self, pcm: bytes, rate: int) -> str:
        """The text of one whole clip."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._put(("clip", (pcm, rate, future)))
        return await future

    def _put(self, item: tuple[str, Any]) -> None:
        self._queue.append(item)
        self._wake.set()

    async def _run(self) -> None:
        try:
            await self._work()
        finally:
            self._let_go()

    async def _work(self) -> None:
        rec = self.recognizer
        while True:
            while not self._queue:
                self._wake.clear()
                await self._wake.wait()
            kind, arg = self._queue.popleft()
            if kind == "begin":
                await self._hold()
                self._convert = _Converter(self.input_rate, rec.rate)
                await self._call(rec.start)
                await self._feed(arg)
            elif kind == "feed":
                chunks = [arg]
                while self._queue and self._queue[0][0] == "feed":
                    chunks.append(self._queue.popleft()[1])
                await self._feed(b"".join(chunks))
            elif kind == "finish":
                tail = self._convert(b"", last=True)
                text = await self._call(self._finish, tail)
                self._release()
                if not arg.done():
                    arg.set_result(text)
            elif kind == "clip":
                pcm, rate, future = arg
                await self._hold()
                text = await self._call(self._clip, pcm, rate)
                self._release()
                if not future.done():
                    future.set_result(text)

    async def _hold(self) -> None:
        if isinstance(self.recognizer, Lease):
            await self.recognizer.acquire()

    def _release(self) -> None:
        if isinstance(self.recognizer, Lease):
            self.recognizer.release()

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a thread; a cancelled worker leaves it running (see ``_let_go``)."""
        running = asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))
        self._running = running
        result: T = await asyncio.shield(running)
        return result

    def _let_go(self) -> None:
        """The worker has stopped: release the recognizer once no call of it runs any more."""
        running, self._running = self._running, None
        if running is None or running.done():
            self._release()
            return

        def done(future: asyncio.Future[Any]) -> None:
            if not future.cancelled():
                future.exception()  # retrieved: nobody waits for it any more
            self._release()

        running.add_done_callback(done)

    async def _feed(self, pcm: bytes) -> None:
        data = self._convert(pcm)
        if not data:
            return
        partial = await self._call(self.recognizer.feed, data)
        if partial:
            self._emit(TranscriptOut("user", partial, final=False))

    def _finish(self, tail: bytes) -> str:
        if tail:
            self.recognizer.feed(tail)
        return self.recognizer.finish().strip()

    def _clip(self, pcm: bytes, rate: int) -> str:
        convert = _Converter(rate, self.recognizer.rate)
        self.recognizer.start()
        self.recognizer.feed(convert(pcm, last=True))
        return self.recognizer.finish().strip()
