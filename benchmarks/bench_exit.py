"""How quickly ``voicecli talk`` leaves on Ctrl+C while its connect stalls.

The real app in a tmux terminal (text only) connects to a server that accepts the TCP
connection and never answers the WebSocket handshake (``--timeout 60``); a second after it
shows it is connecting, Ctrl+C. The time runs from the key to the shell's prompt (the shell
stamps it with ``date``), RUNS times; the figure is the median.

- ``ctrl_c_connect_exit_s``: goal <= 1.0 (about 0.3 s on an idle machine; 4.3 s when the
  app waited for a close handshake that a stalled server never gives).
"""

from __future__ import annotations

import shlex
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.servers import silent_server
from tests.support.terminal import open_tmux, voicecli_command

GOALS = {"ctrl_c_connect_exit_s": ("<=", 1.0)}
RUNS = 5


def exit_after_ctrl_c(port: int) -> float:
    with tempfile.TemporaryDirectory(prefix="voicecli-bench-") as tmp, open_tmux(Path(tmp)) as tmux:
        talk = [*voicecli_command(), "talk", "--no-audio", "--url", f"http://127.0.0.1:{port}", "--agent", "a1",
                "--timeout", "60"]
        command = " ".join(shlex.quote(part) for part in talk)
        tmux.send(f"clear; SMALLEST_API_KEY=sk_bench_key {command} 2>&1; echo EXIT=$? AT=$(date +%s.%N)", "Enter")
        tmux.wait_for(lambda s: "connecting" in s, "the app to show it is connecting", timeout=60)
        time.sleep(1.0)  # the connect is under way (the server holds it)
        pressed = time.time()
        tmux.send("C-c")
        screen = tmux.wait_for(lambda s: "AT=" in s, "the app to exit", timeout=60)
    if "EXIT=130" not in screen:
        raise RuntimeError(f"talk did not exit 130 on Ctrl+C: {screen}")
    return float(screen.split("AT=", 1)[1].split()[0]) - pressed


def run() -> dict[str, float]:
    with silent_server() as port:
        times = [exit_after_ctrl_c(port) for _ in range(RUNS)]
    return {"ctrl_c_connect_exit_s": round(statistics.median(times), 3)}
