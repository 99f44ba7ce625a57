"""The reconnect loop: one :class:`~voicecli.session.worker.Session`, many connections.

Each connection runs through ``Session.connection()`` (a fresh adapter after the first).
When a live connection fails, the loop emits, in order on the session's event stream:

1. :class:`ConnectionLost` (once per loss; ``mid_reply`` when the agent was replying, whose
   queued audio is then dropped: the reply is cut);
2. per try, :class:`Reconnecting` (attempt n of N, the wait), then the wait, then the try;
   a try that fails is decided again by the policy (:mod:`voicecli.session.reconnect`);
3. :class:`Reconnected` just before the new connection's ``SessionStarted`` — or, when the
   policy says no, :class:`ReconnectGaveUp` (with ``hold``: then wait for
   ``reconnect_now()`` or ``close()``) or the end of the session.

``close()`` ends the loop at once: during a wait, and during a try that is not live yet.
A first connection that never got ready is retried only with ``first_connection``; a clean
end, or one the user asked for, is never retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voicecli.session.events import ConnectionLost, ReconnectGaveUp, Reconnecting, SessionClosed
from voicecli.session.reconnect import Failure, ReconnectPolicy, ReconnectSettings

if TYPE_CHECKING:
    from voicecli.session.worker import Session


@dataclass(frozen=True)
class ConnectionOutcome:
    """How one connection ended: its would-be final event, what the policy needs, whether
    it got ready, and whether the agent was replying when it ended."""

    closed: SessionClosed
    failure: Failure
    started: bool
    mid_reply: bool


class Redialer:
    def __init__(self, session: Session, settings: ReconnectSettings) -> None:
        self.session = session
        self.settings = settings
        self.policy = ReconnectPolicy(session.adapter.name, settings.backoff)

    async def run(self) -> SessionClosed:
        session, settings = self.session, self.settings
        attempt = 0  # the try in progress since the last live connection (0: none yet)
        ever_live = False
        lost_at = time.monotonic()
        last: SessionClosed | None = None
        while True:
            session.redial_attempt = attempt
            outcome = await self._try()
            if outcome is None:  # closed while the try was not live yet
                return last or SessionClosed(reason="closed")
            last = outcome.closed
            if outcome.started:
                ever_live, attempt, lost_at = True, 0, time.monotonic()
            if session.close_requested.is_set() or outcome.failure.clean or session.reconnecting_off \
                    or not (ever_live or settings.first_connection):
                return outcome.closed
            if outcome.started:
                session.emit(ConnectionLost(outcome.failure.message, outcome.closed.close_code, outcome.mid_reply))
                if outcome.mid_reply:
                    session.link.flush()  # the cut reply's queued audio
            decision = self.policy.decide(outcome.failure, attempt + 1, time.monotonic() - lost_at)
            if decision.retry:
                session.emit(Reconnecting(decision.attempt, decision.attempts, decision.delay_s,
                                          outcome.failure.message))
                attempt = decision.attempt
                if not await self._wait(decision.delay_s):
                    return outcome.closed
                continue
            if not (settings.hold and ever_live):
                return outcome.closed
            session.emit(ReconnectGaveUp(decision.why))
            if not await self._wait(None):
                return outcome.closed
            attempt, lost_at = 1, time.monotonic()  # a try asked for by the user starts a new round

    async def _try(self) -> ConnectionOutcome | None:
        """One connection; None when ``close()`` came before it was live."""
        session = self.session
        task = asyncio.create_task(session.connection(), name="session-connection")
        closing = asyncio.create_task(session.close_requested.wait())
        try:
            await asyncio.wait({task, closing}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done() and not session.live:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return None
            return await task
        finally:
            closing.cancel()
            if not task.done():
                task.cancel()

    async def _wait(self, delay: float | None) -> bool:
        """Wait ``delay`` seconds (None: until asked); False when ``close()`` came first."""
        session = self.session
        session.redial_now.clear()
        waits = {asyncio.create_task(session.close_requested.wait()),
                 asyncio.create_task(session.redial_now.wait())}
        try:
            await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        return not session.close_requested.is_set()
