"""Running the console command in the test's own process, as a child process would run it.

``run_in_process(args, env)`` calls :func:`voicecli.cli.main.main` (what ``python -m
voicecli`` runs) with ``sys.argv``, ``os.environ``, stdin (empty), stdout and stderr of its
own, on a thread of its own (so its ``asyncio.run`` works inside an async test too), and
gives back a :class:`subprocess.CompletedProcess` with the exit code and the two streams.
Everything it changes is put back afterwards: the environment, the streams, the ``voicecli``
logger and the warning filters.

A child process costs half a second of CPU or more (the imports) before it does anything;
tests of what the command says and does use this, and the tests of the process itself (exit
on a signal, start-up time, what reaches argv) start the real one.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

_one_at_a_time = threading.Lock()  # the streams and the environment are the process's own


@contextmanager
def _as_a_process(args: Sequence[str], env: dict[str, str], out: io.StringIO, err: io.StringIO) -> Iterator[None]:
    saved_env = dict(os.environ)
    saved = sys.argv, sys.stdin, sys.stdout, sys.stderr
    logger = logging.getLogger("voicecli")
    saved_log = list(logger.handlers), logger.level, logger.propagate
    with warnings.catch_warnings():
        os.environ.clear()
        os.environ.update(env)
        sys.argv = ["voicecli", *args]
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(""), out, err
        logger.handlers.clear()
        try:
            yield
        finally:
            for handler in logger.handlers:
                if handler not in saved_log[0]:
                    handler.close()
            logger.handlers[:] = saved_log[0]
            logger.setLevel(saved_log[1])
            logger.propagate = saved_log[2]
            sys.argv, sys.stdin, sys.stdout, sys.stderr = saved
            os.environ.clear()
            os.environ.update(saved_env)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)  # what the interpreter does with sys.exit("text")
    return 1


def run_in_process(args: Sequence[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``voicecli *args`` with ``env`` as its whole environment; raises
    :class:`subprocess.TimeoutExpired` past ``timeout`` seconds, as ``subprocess.run`` does."""
    from voicecli.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    result: list[int] = []
    failure: list[BaseException] = []

    def call() -> None:
        with _as_a_process(args, env, out, err):
            try:
                main()
                result.append(0)
            except SystemExit as exc:
                result.append(_exit_code(exc))
            except BaseException as exc:  # noqa: BLE001 - a traceback the real process would print
                failure.append(exc)

    with _one_at_a_time:
        thread = threading.Thread(target=call, name=f"voicecli {' '.join(args[:1])}", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise subprocess.TimeoutExpired(["voicecli", *args], timeout, out.getvalue(), err.getvalue())
    if failure:
        raise AssertionError(f"voicecli {' '.join(args)} raised instead of exiting: {failure[0]!r}\n"
                             f"{err.getvalue()}") from failure[0]
    return subprocess.CompletedProcess(["voicecli", *args], result[0], out.getvalue(), err.getvalue())
