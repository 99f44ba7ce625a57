"""A ``voicecli serve`` subprocess on 127.0.0.1 for the benchmarks that load it from outside."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import IO

START_TIMEOUT_S = 60.0


@contextlib.contextmanager
def local_server(args: list[str], env: dict[str, str],
                 stderr: IO[str] | int = subprocess.DEVNULL) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``voicecli serve --host 127.0.0.1 --port 0 ARGS``: yields the process and its base URL
    once it says it is listening; stopped (terminated, then killed) on the way out."""
    command = [sys.executable, "-m", "voicecli", "serve", "--host", "127.0.0.1", "--port", "0", *args]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
    try:
        yield server, _base_url(server)
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(10)
        if server.poll() is None:
            server.kill()


def _base_url(server: subprocess.Popen[str]) -> str:
    assert server.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line:
            break
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return found.group(1)
    raise RuntimeError("the local agent did not start")
