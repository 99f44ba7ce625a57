"""The fault matrix through ``smoke``: every fault the local agent injects x every dialect x
before / during / after a turn, with the exit code and the turn the error names.

Each case is a real local agent (tone voice, echo brain) that applies one fault plan to its
connection, and a real in-process ``run_smoke`` of two turns. A dialect's cases run
``AT_ONCE`` at a time on one event loop; each dialect's part is one pytest-xdist group, so the
five parts run side by side on separate workers. (One event loop of 95 real-time sessions
falls behind on a loaded machine: its pings go unanswered and clean cases look stalled.)

Positions, counted in frames the server sent (``@N``):

- before: right after the dialect's ready messages, before turn 1;
- during: a few frames into the reply to turn 1;
- after: a few frames into the reply to turn 2, so turn 1 was answered in full (the
  report says so) and the error names turn 2. Where reply 2 starts is measured once per
  dialect from a clean run (the quiet gap before it).
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from tests.support.waiting import patience
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import LocalAgent
from voicecli.cli.config import Target
from voicecli.cli.smoke import Step, run_smoke
from voicecli.cli.smoke_report import SmokeReport

KEY_ENV = "VOICECLI_FAULT_MATRIX_KEY"
DIALECTS = ("atoms", "elevenlabs", "voiceagent", "token-pcm", "perfvoice")
READY_FRAMES = {"atoms": 1, "elevenlabs": 1, "perfvoice": 1, "token-pcm": 2, "voiceagent": 0}
INTO_REPLY = 3  # frames into a reply: every reply here has many more
# no case should reach it (a clean two-turn run takes about 6 s; longer on a loaded machine)
TIMEOUT_S = patience(15.0)
IDLE_S = 1.0  # quiet that ends a reply: generous, all cases share one loop on a loaded machine
RATE = 16000
AT_ONCE = 5  # cases of one dialect in flight together (19 per dialect: four rounds)


def clip() -> tuple[np.ndarray, int]:
    t = np.arange(int(0.4 * RATE)) / RATE
    tone = 0.4 * np.sin(2 * np.pi * 440 * t)
    return np.concatenate([np.zeros(RATE // 10), tone]).astype(np.float32), RATE


def steps(dialect: str) -> list[Step]:
    if dialect in ("token-pcm", "perfvoice"):  # no typed text in these protocols
        return [Step("audio", "tone-1", clip()), Step("audio", "tone-2", clip())]
    return [Step("text", "hello there"), Step("text", "and again")]


async def smoke_once(dialect: str, faults: str | None, timeout: float = TIMEOUT_S,
                     times: list[float] | None = None) -> SmokeReport:
    def tap(_dialect: str, side: str, _frame: object) -> None:
        if times is not None and side == "server":
            times.append(time.monotonic())

    # the agent's replies go out on a virtual clock: a reply is one burst of frames, so a
    # starved process cannot leave a second of quiet inside a reply (smoke would end it there)
    config = AgentConfig(api_key=None, greeting="", speech=False, brain="echo", faults=faults,
                         vad_hangover_ms=200, speed=math.inf)
    async with LocalAgent(config, tap=tap) as agent:
        target = Target(dialect=dialect, url=agent.url, agent_id="local", key_env=KEY_ENV)
        return await run_smoke(target, steps(dialect), timeout=timeout, allow_insecure=False,
                               interrupt_after=None, out=None, idle_s=IDLE_S, greeting_wait_s=0.3)


def reply_two_start(times: list[float], ready: int) -> int:
    """Frames the server sent before the reply to turn 2: the longest quiet gap between the
    first reply's start and the last frames (a close answer or a ping may trail)."""
    gaps = [(times[i + 1] - times[i], i + 1) for i in range(ready + 1, len(times) - 2)]
    return max(gaps)[1]


@dataclass(frozen=True)
class Case:
    dialect: str
    fault: str
    position: str  # before | during | after | connect

    @property
    def id(self) -> str:
        return f"{self.dialect}-{self.fault}-{self.position}"


FAULTS = ("close:1000", "close:1011", "drop", "error", "stall", "malformed")
CASES = [Case(d, f, p) for d in DIALECTS for f in FAULTS for p in ("before", "during", "after")]
CASES += [Case(d, "reject:503", "connect") for d in DIALECTS]


def plan(case: Case, reply_two: dict[str, int]) -> str:
    if case.position == "connect":
        return case.fault
    at = {"before": READY_FRAMES[case.dialect], "during": READY_FRAMES[case.dialect] + INTO_REPLY,
          "after": reply_two[case.dialect] + INTO_REPLY}[case.position]
    return f"{case.fault}@{at}"


async def run_dialect(dialect: str) -> dict[str, SmokeReport]:
    """A dialect's part of the matrix: a clean run (where reply 2 starts), then every case."""
    timeline: list[float] = []
    clean = await smoke_once(dialect, None, times=timeline)
    assert clean.ok, (dialect, clean.error)  # the baseline the positions come from
    reply_two = {dialect: reply_two_start(timeline, READY_FRAMES[dialect])}
    cases = [c for c in CASES if c.dialect == dialect]
    slots = asyncio.Semaphore(AT_ONCE)

    async def one(case: Case) -> SmokeReport:
        async with slots:
            return await smoke_once(case.dialect, plan(case, reply_two))

    reports = await asyncio.gather(*(one(c) for c in cases))
    return {c.id: r for c, r in zip(cases, reports, strict=True)}


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, SmokeReport]]:
    """The reports by case id, each dialect's part run when its first case asks for it."""
    os.environ[KEY_ENV] = "sk_fault_matrix_5150"
    try:
        yield {}
    finally:
        os.environ.pop(KEY_ENV, None)


def expected(case: Case) -> tuple[int, str]:
    """(exit code, a regex the error must match) for a case."""
    turn = {"before": "before turn 1", "during": "during turn 1", "after": "during turn 2"}.get(case.position, "")
    if case.fault == "malformed":
        return 0, ""
    if case.fault == "reject:503":
        return 6, r"unavailable \(HTTP 503\)"
    if case.fault == "close:1000":
        return 7, re.escape(f"the session ended {turn}") + r".*\(code 1000\)"
    if case.fault == "close:1011":
        return 7, r"code 1011.*" + re.escape(f"({turn})")
    if case.fault == "drop":
        return 6, re.escape(f"server was lost (no close frame) ({turn})")
    if case.fault == "error":
        return 7, r"code 4000.*" + re.escape(f"({turn})")
    # stall: nothing more comes, pongs neither: found by a ping, before the probe's timeout
    stalled = "turn 2" if case.position == "after" else "turn 1"
    return 8, re.escape(f"the server stopped answering during {stalled} (no reply to a ping within")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=pytest.mark.xdist_group(f"faults-{c.dialect}"))
                                  for c in CASES])
def test_fault(results: dict[str, SmokeReport], case: Case) -> None:
    if case.id not in results:
        results.update(asyncio.run(run_dialect(case.dialect)))
    report = results[case.id]
    code, pattern = expected(case)
    assert (report.exit_code, report.ok) == (code, code == 0), (case.id, report.error)
    if code:
        assert report.error is not None and re.search(pattern, report.error), (case.id, report.error)
        assert "\n" not in report.error
    else:
        assert report.error is None
        assert [t.answered for t in report.turns] == [True, True]
    if case.position == "after":
        assert report.turns[0].answered, report  # turn 1 was answered before the fault
    if case.position in ("before", "during", "connect") and code:
        assert not any(t.answered for t in report.turns), report
    if case.fault == "malformed":
        assert any("malformed" in w for w in report.warnings), report.warnings
