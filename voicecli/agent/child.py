"""The embedded local agent in a process of its own, for ``voicecli talk``.

The terminal app must stay responsive while the agent listens and speaks. PocketSphinx holds
Python's GIL for each decoding call (on an idle core about 20 ms for each 20 ms of audio, per
decoder, and 130 ms to end an utterance; seconds on a loaded machine), so an agent in a thread
of the app's process froze its key handling and drawing: a held talk key then read as
released. In a child process the agent's work runs beside the app, on another core where
there is one.

The exchange: the parent starts ``python -m voicecli.agent.child`` and writes the agent's
options as one JSON line on its stdin; the child starts the agent on a free loopback port and
answers one JSON line on stdout, ``{"url": ..., "notices": [...]}`` or ``{"error": ...}``. It
serves until its stdin closes (the parent left, or died), then stops. It runs in a session
(POSIX) or process group (Windows) of its own, so the terminal's Ctrl+C reaches only the app,
which ends the child itself. Its logs go to the parent's log file, when there is one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from voicecli.errors import VoicecliError
from voicecli.secrets import RedactingFilter

START_TIMEOUT_S = 60.0  # the speech models load before the answer (seconds on a slow machine)
STOP_TIMEOUT_S = 5.0
REAP_TIMEOUT_S = 2.0  # a killed child's output ends at once, unless something it started holds it
# below the app it serves (POSIX; Windows keeps the normal priority), where nice values rank
# processes across sessions: under Linux's autogroup scheduling the child's own session has a
# CPU share of its own beside the app's, and its nice ranks it only within that session
CHILD_NICE = 5
_CHILD_ARGS: tuple[str, ...] = ("-m", "voicecli.agent.child")
log = logging.getLogger("voicecli.agent.child")


class AgentProcessError(VoicecliError):
    """The embedded agent's process did not start."""

    exit_code = 1


@dataclass
class ChildAgent:
    """A running agent process: where it listens and what it noticed at start-up."""

    url: str
    notices: list[str] = field(default_factory=list)
    pid: int = 0


def _options(greeting: str | None, allow_faults: bool, speech: bool, log_file: Path | None,
             log_level: str) -> dict[str, Any]:
    return {"greeting": greeting, "allow_faults": allow_faults, "speech": speech,
            "log_file": None if log_file is None else str(log_file), "log_level": log_level}


def _log_target() -> tuple[Path | None, str]:
    """The parent's log file and level (from its ``voicecli`` logger), for the child to share."""
    root = logging.getLogger("voicecli")
    for handler in root.handlers:
        if isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename), logging.getLevelName(root.level)
    return None, "WARNING"


@contextlib.asynccontextmanager
async def agent_process(*, greeting: str | None = None, allow_faults: bool = False,
                        speech: bool = True) -> AsyncIterator[ChildAgent]:
    """A local agent (no authentication) in a child process, for the life of the context."""
    log_file, level = _log_target()
    isolation: dict[str, Any] = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
                                 if sys.platform == "win32" else {"start_new_session": True})
    with tempfile.TemporaryFile() as errors:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *_CHILD_ARGS, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=errors, **isolation)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            options = _options(greeting, allow_faults, speech, log_file, level)
            with contextlib.suppress(ConnectionError):  # it died at once: its stderr says why
                proc.stdin.write((json.dumps(options) + "\n").encode())
                await proc.stdin.drain()
            try:
                line = await asyncio.wait_for(proc.stdout.readline(), START_TIMEOUT_S)
            except TimeoutError:
                raise AgentProcessError(f"the local agent did not start within {START_TIMEOUT_S:g} s") from None
            answer = _answer(line, errors)
            notices = [str(n) for n in answer.get("notices", [])]
            for notice in notices:
                log.warning("local agent: %s", notice)  # e.g. no speech models: the tone voice
            yield ChildAgent(url=answer["url"], notices=notices, pid=proc.pid)
        finally:
            await _stop(proc)


def _answer(line: bytes, errors: IO[bytes]) -> dict[str, Any]:
    try:
        answer = json.loads(line)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("url"), str):
        return answer
    if isinstance(answer, dict) and answer.get("error"):
        raise AgentProcessError(f"the local agent did not start: {answer['error']}")
    errors.seek(0)
    lines = errors.read().decode(errors="replace").strip().splitlines()
    why = lines[-1] if lines else "it exited without a word"
    raise AgentProcessError(f"the local agent did not start: {why}")


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """Close the child's stdin (its signal to stop), then wait until it has exited and its
    output has ended; kill it if it does not exit in time, or when the wait is cancelled (an
    app leaving at once), and reap it then too. A child left unreaped keeps its pipes'
    transports open, and the garbage collector closes them after the event loop has closed:
    "Event loop is closed" tracebacks on the terminal as ``voicecli talk`` exited."""
    if proc.stdin is not None:
        with contextlib.suppress(OSError, RuntimeError):
            proc.stdin.close()
    try:
        await asyncio.wait_for(_ended(proc), STOP_TIMEOUT_S)
    except TimeoutError:
        _kill(proc)
        await _reaped(proc)
    except asyncio.CancelledError:
        _kill(proc)
        with contextlib.suppress(asyncio.CancelledError):  # cancelled again: no longer waiting
            await _reaped(proc)
        raise


async def _ended(proc: asyncio.subprocess.Process) -> None:
    """The child has exited and its stdout reached its end (that pipe's transport closed)."""
    if proc.stdout is not None:
        await proc.stdout.read()
    await proc.wait()


async def _reaped(proc: asyncio.subprocess.Process) -> None:
    """After a kill: its exit at once, its output's end within a moment."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_ended(proc), REAP_TIMEOUT_S)
    await proc.wait()


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


# ---- the child -------------------------------------------------------------------------------

def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _share_log(path: str | None, level: str) -> None:
    if path is None:
        return
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger("voicecli")
    root.addHandler(handler)
    root.propagate = False
    root.setLevel(getattr(logging, level, logging.WARNING))


async def _serve(options: dict[str, Any]) -> int:
    from voicecli.agent.config import AgentConfig
    from voicecli.agent.server import LocalAgent

    agent = LocalAgent(AgentConfig(api_key=None, greeting=options.get("greeting"),
                                   allow_faults=bool(options.get("allow_faults")),
                                   speech=bool(options.get("speech", True))))
    try:
        await agent.start("127.0.0.1", 0)
    except Exception as exc:  # noqa: BLE001 - said to the parent in one line
        _say({"error": str(exc) or type(exc).__name__})
        return 1
    _say({"url": agent.url, "notices": list(agent.notices)})
    try:
        # the parent closes our stdin when it is done (or the system does when it dies)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)
    finally:
        await agent.stop(going_away=True)
    return 0


def main() -> int:
    if hasattr(os, "nice"):  # the app's keys and drawing come first, the agent's speech work next
        with contextlib.suppress(OSError):
            os.nice(CHILD_NICE)
    line = sys.stdin.readline()
    try:
        options = json.loads(line)
    except ValueError:
        _say({"error": "no options on stdin"})
        return 2
    _share_log(options.get("log_file"), str(options.get("log_level", "WARNING")))
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_serve(options))
    return 0


if __name__ == "__main__":
    os._exit(main())  # no lingering threads keep the child alive once the agent stopped
