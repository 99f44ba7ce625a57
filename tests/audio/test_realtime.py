"""Real-time scheduling of the audio threads (voicecli/audio/realtime.py): granted where the
system allows it (CAP_SYS_NICE or RLIMIT_RTPRIO), refused without a trace elsewhere."""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable

import pytest

from tests.support.priority import can_raise
from voicecli.audio.realtime import (
    AUDIO_RT_PRIORITY,
    CallbackThread,
    raise_server_client_threads,
    server_client_threads,
)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux scheduling classes and /proc")


def _allowed() -> bool:
    import resource

    return can_raise() or resource.getrlimit(resource.RLIMIT_RTPRIO)[0] >= AUDIO_RT_PRIORITY


def _in_thread(body: Callable[[], object], name: bytes | None = None) -> tuple[int, threading.Event, threading.Thread]:
    """Runs ``body`` in a new thread (named ``name`` for the system) that then waits; returns
    its id, the event that ends it, and the thread."""
    ready, done = threading.Event(), threading.Event()
    ids: list[int] = []

    def run() -> None:
        if name is not None:
            ctypes.CDLL(None).prctl(15, name, 0, 0, 0)  # PR_SET_NAME
        ids.append(threading.get_native_id())
        body()
        ready.set()
        done.wait(10)

    thread = threading.Thread(target=run)
    thread.start()
    ready.wait(10)
    return ids[0], done, thread


def test_a_callback_thread_asks_once_and_says_what_it_got() -> None:
    record = CallbackThread()
    assert record.native_id is None and record.realtime is None
    tid, done, thread = _in_thread(record.on_callback)
    try:
        assert record.native_id == tid
        assert record.realtime is _allowed()
        policy = os.sched_getscheduler(tid)
        assert policy == (os.SCHED_RR if record.realtime else os.SCHED_OTHER)
        if record.realtime:
            assert os.sched_getparam(tid).sched_priority == AUDIO_RT_PRIORITY
    finally:
        done.set()
        thread.join()
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the asking thread only


def test_only_sound_server_client_threads_started_since_are_raised() -> None:
    before = server_client_threads()
    old, old_done, old_thread = _in_thread(lambda: None, b"threaded-ml")
    try:
        assert old in server_client_threads()
        before = server_client_threads()  # a stream's own are those started after this
        other, other_done, other_thread = _in_thread(lambda: None, b"worker")
        new, new_done, new_thread = _in_thread(lambda: None, b"threaded-ml")
        try:
            assert raise_server_client_threads(before) == (1 if _allowed() else 0)
            assert os.sched_getscheduler(new) == (os.SCHED_RR if _allowed() else os.SCHED_OTHER)
            assert os.sched_getscheduler(old) == os.SCHED_OTHER
            assert os.sched_getscheduler(other) == os.SCHED_OTHER
        finally:
            for event, thread in ((other_done, other_thread), (new_done, new_thread)):
                event.set()
                thread.join()
    finally:
        old_done.set()
        old_thread.join()
