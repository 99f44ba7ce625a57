"""Speech recognizers shared by every session of a server, lent one utterance at a time.

A recognizer holds its models (a PocketSphinx decoder: about 90 MB), so a server keeps a
few in a :class:`RecognizerPool` and each session has a :class:`Lease` on it. The lease
holds a recognizer only while the user speaks: the session's
:class:`~voicecli.agent.listener.Listener` acquires one when an utterance begins (or a
whole clip arrives) and gives it back once the final text is known, or when the session
ends mid-utterance. A session that is not speaking holds none.

At most ``limit`` recognizers exist; an utterance that finds them all lent waits for one
(its audio is queued meanwhile, and decoded faster than real time once it has one). The
pool belongs to one event loop: ``acquire`` and ``release`` run on it, and only the
recognizer calls themselves run in threads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from voicecli.agent.voice_contracts import Recognizer

log = logging.getLogger(__name__)


class RecognizerPool:
    """Up to ``limit`` recognizers made by ``make`` (blocking: run in a thread), ``first`` already made."""

    def __init__(self, make: Callable[[], Recognizer], first: Recognizer, limit: int) -> None:
        if limit < 1:
            raise ValueError("a recognizer pool needs a limit of at least 1")
        self.name = first.name
        self.rate = first.rate
        self.limit = limit
        self._make = make
        self._idle: list[Recognizer] = [first]
        self._made = 1
        self._free = asyncio.Semaphore(limit)
        self._failed = False
        self._lent = 0

    @property
    def made(self) -> int:
        """Recognizers made so far (never more than ``limit``)."""
        return self._made

    @property
    def lent(self) -> int:
        """Recognizers in use by a session right now."""
        return self._lent

    @property
    def idle(self) -> int:
        return len(self._idle)

    async def acquire(self) -> Recognizer | None:
        """A recognizer for one utterance; ``None`` when a new one cannot be made."""
        await self._free.acquire()
        if self._idle:
            self._lent += 1
            return self._idle.pop()
        try:
            recognizer = await asyncio.to_thread(self._make)
        except BaseException as exc:
            self._free.release()
            if not isinstance(exc, Exception):
                raise
            if not self._failed:
                self._failed = True
                log.warning("speech recognition unavailable for another session: %s", exc)
            return None
        self._made += 1
        self._lent += 1
        return recognizer

    def release(self, recognizer: Recognizer) -> None:
        self._lent -= 1
        self._idle.append(recognizer)
        self._free.release()

    def lease(self) -> Lease:
        return Lease(self)


class Lease:
    """One session's claim on a pool: a :class:`Recognizer` that holds a real one only while
    the user speaks (between :meth:`acquire` and :meth:`release`; without one it hears nothing)."""

    def __init__(self, pool: RecognizerPool) -> None:
        self.pool = pool
        self.name = pool.name
        self.rate = pool.rate
        self.held: Recognizer | None = None

    async def acquire(self) -> bool:
        if self.held is None:
            self.held = await self.pool.acquire()
        return self.held is not None

    def release(self) -> None:
        """Give the recognizer back (no recognizer call may be running)."""
        recognizer, self.held = self.held, None
        if recognizer is not None:
            self.pool.release(recognizer)

    def start(self) -> None:
        if self.held is not None:
            self.held.start()

    def feed(self, pcm: bytes) -> str | None:
        return self.held.feed(pcm) if self.held is not None else None

    def finish(self) -> str:
        return self.held.finish() if self.held is not None else ""
