"""The suite's scheduling helper (tests/support/priority.py): a test that waits in real time
raises its worker's threads for its own duration, then puts them back."""

from __future__ import annotations

import os
import threading

from tests.support.priority import SESSION_NICE, can_raise, threads_raised


def _nice(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def test_threads_are_raised_for_the_block_and_put_back() -> None:
    me = threading.get_native_id()
    before = _nice(me)
    release = threading.Event()
    started: list[int] = []

    def wait() -> None:
        started.append(threading.get_native_id())
        release.wait(10)

    with threads_raised():
        inside = _nice(me)
        worker = threading.Thread(target=wait)  # started meanwhile: it inherits the raise
        worker.start()
        while not started:
            release.wait(0.01)
        assert _nice(started[0]) == inside
    after_main, after_worker = _nice(me), _nice(started[0])
    release.set()
    worker.join()
    assert inside == (SESSION_NICE if can_raise() else before)
    assert after_main == before and after_worker == before  # the block's own thread too
