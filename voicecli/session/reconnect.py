"""When to reconnect, and how long to wait: a pure policy, no sockets, no clock.

A connection ends in one of two ways the policy is asked about:

- the session ended (:class:`~voicecli.protocol.events.SessionEnded`): the adapter already
  says whether its close code or lost connection is ``retryable``;
- the connection could not be opened (a :class:`~voicecli.errors.VoicecliError` from the
  handshake or the pre-connect HTTP call): ``retryable`` is set for refused connections,
  network errors and HTTP 502/503/504.

Each provider adds close codes that are never retried whatever the adapter says (the
documented "do not retry" codes: Atoms 4000/4401/4403, ElevenLabs 1002/1008, PerfVoice and
VoiceAgent 1008, token-pcm 4002/4003). A clean end (no error) is never retried.

Waits grow exponentially with jitter, each capped, and the attempts are capped in count and
in total time since the connection was lost. Every reconnect builds a fresh adapter, so each
provider's per-connection credentials are fetched again (token-pcm's single-use token,
ElevenLabs' signed URL); an Atoms ``wct_`` token is single-use, and its second use is
refused (HTTP 401, never retried).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from voicecli.errors import VoicecliError
from voicecli.protocol.events import SessionEnded

#: close codes never retried, per dialect (PROTOCOLS.md; the adapters agree)
NEVER_RETRY: dict[str, frozenset[int]] = {
    "atoms": frozenset({1000, 4000, 4401, 4403}),
    "elevenlabs": frozenset({1000, 1002, 1008}),
    "perfvoice": frozenset({1000, 1008}),
    "voiceagent": frozenset({1000, 1008}),
    "token-pcm": frozenset({1000, 4002, 4003}),
}


@dataclass(frozen=True)
class Backoff:
    """Exponential waits with jitter: attempt n waits about ``first_s * factor**(n-1)``,
    spread by ±``jitter`` (a fraction), never more than ``max_delay_s``. At most
    ``attempts`` tries, and none that would start later than ``total_s`` after the loss."""

    first_s: float = 1.0
    factor: float = 2.0
    max_delay_s: float = 15.0
    jitter: float = 0.25
    attempts: int = 5
    total_s: float = 60.0

    def __post_init__(self) -> None:
        if not (self.first_s >= 0 and self.factor >= 1 and self.max_delay_s >= 0
                and 0 <= self.jitter < 1 and self.attempts >= 0 and self.total_s >= 0):
            raise ValueError("backoff needs first_s >= 0, factor >= 1, max_delay_s >= 0, "
                             "0 <= jitter < 1, attempts >= 0 and total_s >= 0")

    def delay(self, attempt: int, rand: float) -> float:
        """The wait before ``attempt`` (1-based); ``rand`` is a uniform number in [0, 1)."""
        try:
            grown = self.first_s * self.factor ** max(attempt - 1, 0)
        except OverflowError:
            grown = math.inf
        base = min(self.max_delay_s, grown)
        spread = base * self.jitter * (2.0 * rand - 1.0)
        return max(0.0, min(self.max_delay_s, base + spread))


def user_backoff(attempts: int, first_s: float) -> Backoff:
    """The backoff for numbers a user gave (``attempts`` tries, the first after ``first_s``,
    each next about twice as late, at most 15 s, all within a minute or as long as the tries
    need). Raises ValueError saying what is wrong."""
    if not 0 <= attempts <= 100:
        raise ValueError(f"the number of tries must be between 0 and 100, got {attempts}")
    if not (math.isfinite(first_s) and 0 < first_s <= 60):
        raise ValueError(f"the first wait must be more than 0 and at most 60 s, got {first_s:g}")
    return Backoff(first_s=first_s, max_delay_s=max(15.0, first_s), attempts=attempts,
                   total_s=max(60.0, first_s * attempts))


@dataclass(frozen=True)
class ReconnectSettings:
    """How a session reconnects. ``first_connection``: also retry a first connection that
    never got ready (smoke's ``--retries``); ``hold``: after giving up, wait for
    ``Session.reconnect_now()`` or ``close()`` instead of ending (talk's ``/reconnect``)."""

    backoff: Backoff = Backoff()
    first_connection: bool = False
    hold: bool = False


@dataclass(frozen=True)
class Failure:
    """What ended a connection, as the policy sees it."""

    message: str
    retryable: bool
    close_code: int | None = None
    clean: bool = False  # the session ended without an error

    @staticmethod
    def from_end(end: SessionEnded | None) -> Failure:
        if end is None:
            return Failure("the connection ended", retryable=False, clean=True)
        return Failure(end.error or end.reason, retryable=end.retryable and bool(end.error),
                       close_code=end.close_code, clean=not end.error)

    @staticmethod
    def from_error(exc: VoicecliError) -> Failure:
        return Failure(str(exc), retryable=exc.retryable)


@dataclass(frozen=True)
class Decision:
    """``retry``: wait ``delay_s`` then try ``attempt`` of ``attempts``; else ``why`` not."""

    retry: bool
    attempt: int = 0
    attempts: int = 0
    delay_s: float = 0.0
    why: str = ""


class ReconnectPolicy:
    """One provider's rules with one backoff. ``rand`` gives the jitter (tests fix it)."""

    def __init__(self, dialect: str, backoff: Backoff | None = None,
                 rand: Callable[[], float] = random.random) -> None:
        self.dialect = dialect
        self.backoff = backoff or Backoff()
        self.never = NEVER_RETRY.get(dialect, frozenset({1000}))
        self._rand = rand

    def retryable(self, failure: Failure) -> bool:
        if failure.clean or not failure.retryable:
            return False
        return failure.close_code is None or failure.close_code not in self.never

    def decide(self, failure: Failure, attempt: int, elapsed_s: float) -> Decision:
        """Whether to make try number ``attempt`` (1-based) ``elapsed_s`` after the loss."""
        backoff = self.backoff
        if not self.retryable(failure):
            code = f" (close code {failure.close_code})" if failure.close_code is not None else ""
            return Decision(False, why=f"not retried{code}: {failure.message}")
        if attempt > backoff.attempts:
            return Decision(False, why=f"gave up after {backoff.attempts} attempts: {failure.message}")
        delay = backoff.delay(attempt, self._rand())
        if elapsed_s + delay > backoff.total_s:
            return Decision(False, why=f"gave up after {elapsed_s:.0f} s: {failure.message}")
        return Decision(True, attempt=attempt, attempts=backoff.attempts, delay_s=delay)
