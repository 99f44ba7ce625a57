"""The playback buffer: a ring buffer behind an adaptive jitter threshold.

A run of playback starts ``threshold_ms`` after its first audio arrived, whatever has
arrived since: a sender pacing audio in real time whose chunks come up to ``threshold_ms``
late then never lets the buffer run dry, as chunk ``k`` is due ``k`` chunk-lengths after the
first and has had the threshold's margin to arrive. (Starting as soon as ``threshold_ms`` of
audio is queued would not hold: when the first two chunks come on time and a later one
late, the buffer holds less than that lateness, and runs dry.) A burst queued faster than
real time starts at once when twice the threshold is there. After an underrun the threshold
grows by ``grow_ms``; after ``shrink_after_s`` of steady playback it shrinks again.

Pure logic (no devices); the playback callback calls ``read`` with the current time,
the event loop calls ``write`` and ``flush``. One lock serialises them; every critical
section is a handful of numpy copies.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voicecli.audio.ringbuffer import RingBuffer


@dataclass
class JitterPolicy:
    start_ms: float = 40.0
    """How long after its first audio arrived a run of playback starts (or restarts after
    running dry): the lateness of a chunk it absorbs."""
    min_ms: float = 40.0
    max_ms: float = 200.0
    grow_ms: float = 20.0
    """Added to the threshold after each underrun."""
    shrink_after_s: float = 10.0
    """Seconds of stable playback after which the threshold shrinks by ``grow_ms``."""
    underrun_window_s: float = 0.5
    """Audio arriving within this long after the buffer ran dry means the buffer ran
    dry mid-stream (an underrun), not at the end of an utterance."""


@dataclass(frozen=True, slots=True)
class ReadResult:
    real: int
    """Samples of queued audio placed at the start of the block (the rest is silence)."""
    started: bool
    """True when this block is the first of a playback run."""


class PlaybackBuffer:
    def __init__(self, rate: int, capacity_seconds: float = 60.0, policy: JitterPolicy | None = None) -> None:
        self.rate = rate
        self.policy = policy or JitterPolicy()
        self._ring = RingBuffer(max(1, int(capacity_seconds * rate)))
        self._lock = threading.Lock()
        self._threshold_ms = self.policy.start_ms
        self._playing = False
        self._first_pending: float | None = None
        self._dry_since: float | None = None
        self._last_change: float | None = None
        self.underruns = 0
        self.run_starts: deque[float] = deque(maxlen=64)
        """``now`` of the reads that started each playback run (most recent last)."""
        self.played_samples = 0
        self.flushed_samples = 0

    # --- state -------------------------------------------------------------------------
    @property
    def threshold_ms(self) -> float:
        return self._threshold_ms

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def buffered_samples(self) -> int:
        return len(self._ring)

    @property
    def overflow_samples(self) -> int:
        return self._ring.dropped

    # --- producer side -----------------------------------------------------------------
    def write(self, samples: npt.NDArray[np.floating], now: float) -> int:
        """Queue audio (resampled already: no resampler tail arrives after the rest)."""
        with self._lock:
            if samples.size and self._dry_since is not None:
                if now - self._dry_since <= self.policy.underrun_window_s:
                    self.underruns += 1
                    self._threshold_ms = min(self.policy.max_ms, self._threshold_ms + self.policy.grow_ms)
                    self._last_change = now
                self._dry_since = None
            if self._first_pending is None and samples.size:
                self._first_pending = now
            return self._ring.write(samples)

    def flush(self) -> int:
        """Drop all queued audio; the next ``read`` returns silence. Returns samples dropped."""
        with self._lock:
            n = self._ring.clear()
            self._playing = False
            self._first_pending = None
            self._dry_since = None
            self.flushed_samples += n
            return n

    # --- consumer side (audio callback) --------------------------------------------------
    def read(self, out: npt.NDArray[np.float32], now: float) -> ReadResult:
        """Fill ``out`` entirely: queued audio first, silence after it."""
        with self._lock:
            started = False
            if not self._playing:
                level = len(self._ring)
                if level == 0:
                    out.fill(0.0)
                    return ReadResult(0, False)
                waited = self._first_pending is not None and (now - self._first_pending) * 1000.0 >= (
                    self._threshold_ms
                )
                if level * 1000.0 / self.rate < 2 * self._threshold_ms and not waited:
                    out.fill(0.0)
                    return ReadResult(0, False)
                self._playing = True
                started = True
                self.run_starts.append(now)
                if self._last_change is None:
                    self._last_change = now
            n = self._ring.read_into(out)
            if n < out.size:
                out[n:] = 0.0
                self._playing = False
                self._first_pending = None
                self._dry_since = now
            elif (
                self._last_change is not None
                and self._threshold_ms > self.policy.min_ms
                and now - self._last_change >= self.policy.shrink_after_s
            ):
                self._threshold_ms = max(self.policy.min_ms, self._threshold_ms - self.policy.grow_ms)
                self._last_change = now
            self.played_samples += n
            return ReadResult(n, started)
