"""One frame clock for every load session's microphone.

A load generator that gave each session its own timer would wake the event loop once per
session per 20 ms frame; the :class:`FrameClock` wakes it ``slots`` times per frame period
whatever the number of sessions. Each session's :class:`Pacer` joins the least busy slot
(so the sends of one period are spread over it rather than all made at one instant) and
from then on has a frame due at every tick of that slot: tick ``n`` of slot ``k`` is
scheduled at ``origin + n * period + k * period / slots``.

At a tick the clock hands each of the slot's pacers its scheduled time; the session waiting
on :meth:`Pacer.next` takes it and sends its frame. A clock woken late (a busy loop) runs
the ticks it missed in order, each with its own scheduled time, and a session still busy
with an earlier frame finds the ticks it missed queued: either way its frames go out late
and :meth:`Pacer.next`'s caller measures by how much (``lateness = sent - scheduled``).

``now`` and ``sleep`` are injectable, so the schedule can be driven by a virtual clock.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

FRAME_S = 0.02
SLOTS = 4


class Pacer:
    """One session's place on the clock: the scheduled times of its due frames."""

    def __init__(self, clock: FrameClock, slot: int) -> None:
        self.clock = clock
        self.slot = slot
        self._due: deque[float] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False

    def due(self, scheduled: float) -> None:
        """A tick of this pacer's slot (called by the clock)."""
        self._due.append(scheduled)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self) -> float:
        """The scheduled time of the next frame, once it is due (at once when behind)."""
        while not self._due:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._due.popleft()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.clock.leave(self)


class FrameClock:
    """Ticks ``slots`` times per ``period``; each tick makes one frame due for every pacer
    of its slot. Runs only while pacers are joined."""

    def __init__(self, period: float = FRAME_S, slots: int = SLOTS, *,
                 now: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if period <= 0 or slots < 1:
            raise ValueError("the clock needs a positive period and at least one slot")
        self.period = period
        self.slots: list[list[Pacer]] = [[] for _ in range(slots)]
        self.now = now
        self._sleep = sleep
        self.origin: float | None = None
        self._next = 0  # the index of the next tick: slot (index % slots) of period (index // slots)
        self._task: asyncio.Task[None] | None = None
        self.wakeups = 0  # times the clock's task woke up (ticks it ran may be more, when late)

    @property
    def pacers(self) -> int:
        return sum(len(slot) for slot in self.slots)

    def tick_time(self, index: int) -> float:
        assert self.origin is not None
        count = len(self.slots)
        return self.origin + (index // count) * self.period + (index % count) * self.period / count

    def join(self) -> Pacer:
        """A pacer on the least busy slot; its first frame is due at that slot's next tick."""
        if self.origin is None:
            self.origin = self.now()
            self._next = 0
        slot = min(range(len(self.slots)), key=lambda k: len(self.slots[k]))
        pacer = Pacer(self, slot)
        self.slots[slot].append(pacer)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="load-frame-clock")
        return pacer

    def leave(self, pacer: Pacer) -> None:
        slot = self.slots[pacer.slot]
        if pacer in slot:
            slot.remove(pacer)
        if not self.pacers and self._task is not None:
            self._task.cancel()
            self._task = None
            self.origin = None  # the next session starts a new grid

    def fire_due(self) -> int:
        """Run every tick due by ``now()``, in order; returns how many ran."""
        now = self.now()
        ran = 0
        count = len(self.slots)
        while (scheduled := self.tick_time(self._next)) <= now:
            for pacer in self.slots[self._next % count]:
                pacer.due(scheduled)
            self._next += 1
            ran += 1
        return ran

    async def run(self) -> None:
        while self.pacers:
            delay = self.tick_time(self._next) - self.now()
            if delay > 0:
                await self._sleep(delay)
            self.wakeups += 1
            self.fire_due()
