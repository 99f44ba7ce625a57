"""``talk_idle_cpu_percent``: the real ``voicecli talk`` (embedded local agent, open mic and
speaker on the PulseAudio bed, in a tmux terminal) sitting idle after its greeting, CPU of
its process and all its children as % of one core. The bed's microphone hears digital
silence meanwhile."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.support.pulse import PulseBed
from tests.support.terminal import open_tmux, voicecli_command


def _tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its live descendants (and children it has reaped)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total / tick


def _quiet_for(bed: PulseBed, seconds: float, timeout: float) -> None:
    """Wait until the speaker has played nothing loud for ``seconds`` (the greeting is over)."""
    with bed.monitor(rate=8000) as mon:
        t0 = time.monotonic()
        while time.monotonic() < t0 + timeout:
            time.sleep(0.2)
            now = time.monotonic()
            recent = [c for t, c in list(mon.chunks) if t > now - seconds and c.size]
            if now > t0 + seconds and not any(np.abs(c).max() > 0.01 for c in recent):
                return
    raise RuntimeError("the agent never went quiet")


def talk_idle_cpu(bed: PulseBed, seconds: float = 10.0, extra: list[str] | None = None) -> dict[str, float]:
    """``voicecli talk`` with the ``extra`` options (``--aec off``: the audio path alone)."""
    with tempfile.TemporaryDirectory(prefix="voicecli-bench-") as tmp, \
            open_tmux(Path(tmp), {"PULSE_SERVER": bed.server}) as tmux:
        command = " ".join(shlex.quote(part) for part in [*voicecli_command(), "talk", *(extra or [])])
        tmux.send("clear; exec " + command, "Enter")
        tmux.wait_for(lambda s: "connected: speak or type" in s, "talk to connect", timeout=60)
        pid = int(tmux.run("display-message", "-p", "-t", tmux.session, "#{pane_pid}").strip())
        _quiet_for(bed, 1.5, 30)
        time.sleep(1.0)
        cpu0, wall0 = _tree_cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        cpu, wall = _tree_cpu_seconds(pid) - cpu0, time.monotonic() - wall0
        subprocess.run(["kill", str(pid)], check=False)
    return {"talk_idle_cpu_percent": 100.0 * cpu / wall}
