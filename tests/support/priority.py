"""Scheduling for the parts of a test that stand in for real time: the sound card, the user's
terminal and hands. A loaded suite (eight workers beside other work) must not make them late,
as no sound card or keyboard is late.

Linux gives each session its own CPU share ("autogroup"): a process's nice value only ranks it
against the rest of its own session. So these processes start in sessions of their own, raised
through the session's nice (``/proc/PID/autogroup``) as well as their own; a thread of a test
worker (the microphone's feeder, a recorder's reader) takes a real-time round-robin slot. All
best effort: raising needs CAP_SYS_NICE (root has it; CI runs as root); elsewhere the defaults
stay.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from voicecli.audio.realtime import request_realtime

RT_PRIORITY = 4  # below the sound server's real-time threads (5), above the app's audio callbacks (3)
SESSION_NICE = -10
CAP_SYS_NICE = 23


def can_raise() -> bool:
    """Whether this process may raise priorities: CAP_SYS_NICE on Linux (root has it, unless a
    container took it away), root elsewhere."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return hasattr(os, "geteuid") and os.geteuid() == 0
    effective = next((line.split()[1] for line in status.splitlines() if line.startswith("CapEff:")), "0")
    return bool(int(effective, 16) >> CAP_SYS_NICE & 1)


def raise_session(pid: int, nice: int = SESSION_NICE) -> None:
    """The session ``pid`` leads (its autogroup), to ``nice``; nothing if it leads none."""
    with contextlib.suppress(AttributeError, OSError):
        if os.getsid(pid) == pid:
            Path(f"/proc/{pid}/autogroup").write_text(str(nice))


def raise_process(pid: int, nice: int = SESSION_NICE) -> None:
    """``pid`` itself and the session it leads, to ``nice``."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    raise_session(pid, nice)


def popen_raised(args: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen`` in a session of its own, raised (the process keeps its own nice:
    the sound server sets its own)."""
    proc: subprocess.Popen[Any] = subprocess.Popen(args, start_new_session=True, **kwargs)
    raise_session(proc.pid)
    return proc


def realtime_thread() -> None:
    """The calling thread in the real-time round-robin class (it must sleep most of the time)."""
    request_realtime(0, RT_PRIORITY)


def _threads() -> list[int]:
    try:
        return [int(tid) for tid in os.listdir("/proc/self/task")]
    except OSError:
        return [threading.get_native_id()]


@contextlib.contextmanager
def threads_raised(nice: int = SESSION_NICE) -> Iterator[None]:
    """Every thread of this process (and so the threads and processes they start meanwhile)
    at ``nice`` for the block, then back: a test worker while it runs a test that waits in
    real time, ahead of the other workers of the run's own session (not of the machine's
    other sessions). Nothing where raising is not allowed."""
    if not can_raise():
        yield
        return
    base = os.getpriority(os.PRIO_PROCESS, 0)  # for the threads started meanwhile
    before: dict[int, int] = {}
    for tid in _threads():
        with contextlib.suppress(OSError):  # a thread that ended since it was listed
            before[tid] = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, nice)
    try:
        yield
    finally:
        for tid in _threads():  # those started meanwhile too
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, tid, before.get(tid, base))
