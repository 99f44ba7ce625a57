"""Waiting for a condition instead of sleeping for a guessed time.

``await eventually(lambda: x.done, "x done")`` polls every ``step`` seconds until the
predicate holds, with a generous deadline (a loaded machine is slow, never wrong); past
it, the assertion names what was awaited.

``patience(seconds)`` is a deadline for something that will happen, stretched by
``VOICECLI_TEST_PATIENCE`` (3 by default): the suite runs several workers on a shared
machine, and a deadline only costs time when a test fails.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

DEADLINE_S = 15.0
PATIENCE = float(os.environ.get("VOICECLI_TEST_PATIENCE", "3"))


def patience(seconds: float) -> float:
    """A deadline of ``seconds`` on an idle machine, stretched for a loaded one."""
    return seconds * PATIENCE


async def eventually(predicate: Callable[[], object], what: str = "the condition",
                     timeout: float = DEADLINE_S, step: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(step)


def eventually_sync(predicate: Callable[[], object], what: str = "the condition",
                    timeout: float = DEADLINE_S, step: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(step)
