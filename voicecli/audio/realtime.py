"""Real-time scheduling for the audio threads.

A callback that runs late leaves the device without samples (an underflow: a click or a gap
in the agent's voice) or drops the microphone's. On a busy machine an ordinary thread can
wait tens of milliseconds for a CPU; a real-time one runs as soon as it wakes. So each
stream's callback thread asks, once, for the round-robin real-time class, and so do the
sound server client's threads that carry the samples on (libpulse's ``threaded-ml``, which
PortAudio's ALSA ``pulse`` device uses: starved, it underflows the stream just the same).
The priority is below the sound server's own real-time threads (PulseAudio's 5, PipeWire's
88), so the server is never held up by us. Linux grants it to root or within
``RLIMIT_RTPRIO`` (which distributions give their ``audio`` group); elsewhere the request is
refused and nothing changes (macOS runs CoreAudio's callbacks in real time already). These
threads do little (the callbacks well under a millisecond per 10 ms block) and never wait on
the event loop, so running them first takes nothing from the rest of the machine.
"""

from __future__ import annotations

import os
import threading

AUDIO_RT_PRIORITY = 3


class CallbackThread:
    """What became of a stream's callback thread: its id and whether it runs in real time
    (both None until the first callback)."""

    __slots__ = ("native_id", "realtime")

    def __init__(self) -> None:
        self.native_id: int | None = None
        self.realtime: bool | None = None

    def on_callback(self) -> None:
        """Called at the top of each callback: the first call records the thread and asks
        for real time, once."""
        if self.realtime is None:
            self.native_id = threading.get_native_id()
            self.realtime = request_realtime(0)


def request_realtime(tid: int, priority: int = AUDIO_RT_PRIORITY) -> bool:
    """Thread ``tid`` (0: the calling one) in the round-robin real-time class at ``priority``;
    False where the system refuses (or has no such class)."""
    setter = getattr(os, "sched_setscheduler", None)
    if setter is None:
        return False
    try:
        setter(tid, os.SCHED_RR, os.sched_param(priority))
    except (OSError, AttributeError):
        return False
    return True


# threads of a sound server's client library that carry a stream's samples (libpulse's
# threaded main loop: PulseAudio, and PipeWire's pulse server, through ALSA's pulse plugin)
SERVER_CLIENT_THREADS = frozenset({"threaded-ml"})


def server_client_threads() -> set[int]:
    """This process's sound-server client threads (Linux ``/proc``; elsewhere none)."""
    found: set[int] = set()
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/comm", encoding="ascii", errors="replace") as comm:
                if comm.read().strip() in SERVER_CLIENT_THREADS:
                    found.add(int(tid))
        except (OSError, ValueError):
            continue
    return found


def raise_server_client_threads(before: set[int], priority: int = AUDIO_RT_PRIORITY) -> int:
    """The sound-server client threads started since ``before`` was taken (a stream's own),
    in the real-time class; how many the system allowed."""
    return sum(request_realtime(tid, priority) for tid in server_client_threads() - before)
