"""Fault injection for the local agent: broken servers on demand, for tests and benchmarks.

A fault plan is a comma-separated list of items ("frames" counts every WebSocket data
frame the server sent on the connection, the ready message included):

====================  =====================================================================
``close:CODE@N``      close the WebSocket with CODE after N frames (``close:4001@3``)
``drop@N``            drop the TCP connection, no close frame, after N frames
``malformed@N``       after N frames send one frame that is not valid JSON, then go on
``stall@N``           after N frames stop sending anything (pongs too); the socket stays open
``error@N``           after N frames send the dialect's ``error`` message, then close 4000
``delay:MS``          hold every outgoing frame MS milliseconds
``jitter:MS``         add a random 0..MS ms to each frame's hold (order is kept)
``pause:MS@N``        after N frames hold the rest MS milliseconds, once: the agent's output
                      stops mid-reply and resumes (a starved or buffering speech service)
                      while the connection stays up and WebSocket pings are answered
``reject:STATUS``     refuse the WebSocket upgrade with that HTTP status (e.g. 503)
``seed:N``            seed the jitter's random numbers (repeatable runs)
``variant:NAME``      a dialect variant: an event order or timing other than the provider's
                      real one (the local agent's older orders, kept for tests); repeatable
====================  =====================================================================

``@N`` defaults to ``@0`` (at once). Per connection, a client asks with ``?fault=PLAN`` when
the server allows it; the server's own plan (``AgentConfig.faults``) applies otherwise.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

MALFORMED_FRAME = '{"type": "output_audio.delta", "audio": '
TRIGGERS = ("close", "drop", "malformed", "stall", "error")


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class FaultPlan:
    close_code: int | None = None
    close_after: int = 0
    drop_after: int | None = None
    malformed_after: int | None = None
    stall_after: int | None = None
    error_after: int | None = None
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    pause_ms: float = 0.0
    pause_after: int = 0
    reject_status: int | None = None
    seed: int | None = None
    variants: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return self == FaultPlan()

    @staticmethod
    def parse(spec: str | None) -> FaultPlan:
        plan = FaultPlan()
        for raw in (spec or "").split(","):
            item = raw.strip()
            if item:
                plan = _apply(plan, item)
        return plan

    def merged(self, other: FaultPlan) -> FaultPlan:
        """This plan with every fault that ``other`` sets."""
        changes = {k: v for k, v in vars(other).items() if v != getattr(FaultPlan(), k)}
        if "variants" in changes:
            changes["variants"] = self.variants | other.variants
        return replace(self, **changes)


def _int(text: str, what: str, low: int = 0, high: int = 10**9) -> int:
    try:
        value = int(text)
    except ValueError:
        raise FaultSpecError(f"{what} must be a whole number, got {text!r}") from None
    if not low <= value <= high:
        raise FaultSpecError(f"{what} must be between {low} and {high}, got {value}")
    return value


def _apply(plan: FaultPlan, item: str) -> FaultPlan:
    head, _, after_text = item.partition("@")
    name, _, arg = head.partition(":")
    name = name.strip().lower()
    after = _int(after_text, f"{name}@N", 0) if after_text else 0
    if name == "close":
        code = _int(arg or "1011", "close code", 1000, 4999)
        return replace(plan, close_code=code, close_after=after)
    if name in ("drop", "malformed", "stall", "error"):
        if arg:
            raise FaultSpecError(f"{name} takes no value; use {name}@N")
        return replace(plan, **{f"{name}_after": after})  # type: ignore[arg-type]
    if name in ("delay", "jitter"):
        if after_text:
            raise FaultSpecError(f"{name} takes no @N")
        ms = float(_int(arg, f"{name} milliseconds", 0, 60_000))
        return replace(plan, delay_ms=ms) if name == "delay" else replace(plan, jitter_ms=ms)
    if name == "pause":
        ms = float(_int(arg, "pause milliseconds", 1, 60_000))
        return replace(plan, pause_ms=ms, pause_after=after)
    if name == "reject":
        return replace(plan, reject_status=_int(arg or "503", "reject status", 400, 599))
    if name == "seed":
        return replace(plan, seed=_int(arg, "seed"))
    if name == "variant":
        variant = arg.strip().lower()
        if not variant or after_text:
            raise FaultSpecError("variant takes a name and no @N: variant:NAME")
        return replace(plan, variants=plan.variants | {variant})
    raise FaultSpecError(f"unknown fault {name!r}; known: close, drop, malformed, stall, error, "
                         "delay, jitter, pause, reject, seed, variant")


class FaultGate:
    """One connection's faults: what to do after each frame, and when to send it."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.frames_sent = 0
        self.stalled = False
        self._fired: set[str] = set()
        self._rng = random.Random(plan.seed)  # noqa: S311 - jitter, not security
        self._last_due = 0.0

    def due(self, queued_at: float) -> float:
        """When a frame queued at ``queued_at`` (loop time) may leave."""
        plan = self.plan
        if not plan.delay_ms and not plan.jitter_ms:
            return queued_at
        hold = plan.delay_ms + (self._rng.uniform(0.0, plan.jitter_ms) if plan.jitter_ms else 0.0)
        due = max(queued_at + hold / 1000.0, self._last_due)
        self._last_due = due
        return due

    def sent(self) -> None:
        self.frames_sent += 1

    def pause_now(self) -> float:
        """Seconds to hold the next frame (a ``pause`` that is due, once), else 0."""
        plan = self.plan
        if not plan.pause_ms or "pause" in self._fired or self.frames_sent < plan.pause_after:
            return 0.0
        self._fired.add("pause")
        return plan.pause_ms / 1000.0

    def action(self) -> str | None:
        """The fault to fire now (at most once each), or None."""
        plan = self.plan
        thresholds = {
            "close": plan.close_after if plan.close_code is not None else None,
            "drop": plan.drop_after,
            "malformed": plan.malformed_after,
            "stall": plan.stall_after,
            "error": plan.error_after,
        }
        for name in TRIGGERS:
            limit = thresholds[name]
            if limit is not None and name not in self._fired and self.frames_sent >= limit:
                self._fired.add(name)
                return name
        return None
