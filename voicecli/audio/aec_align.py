"""The far-end reference on the microphone's clock, for an echo canceller.

A playback tap hands over each block the device callback played, with the
``time.monotonic()`` at which its first sample reaches the DAC (the playback stream's own
timing). :class:`ReferenceTimeline` resamples those blocks to the processing rate (the polyphase filter,
delay-compensated, one stream per contiguous run of audio) and writes them at the sample index of the
moment they were played: index ``round(t * rate)``. A microphone block whose first
sample was captured at ``t`` (the capture stream's ``inputBufferAdcTime``) then reads
exactly what was coming out of the speaker during that block; whatever was not played
(gaps between runs, times with no agent audio) reads as silence.

Within a run, samples follow each other (the sample count keeps time). The times must
not jitter from run to run (that would move the echo the canceller has learnt): the
playback stream gives them from its own sample clock (:class:`voicecli.audio.playclock.StreamClock`).
"""

from __future__ import annotations

import numpy as np

from voicecli.audio.resample import PolyphaseResampler
from voicecli.pcm.convert import FloatArray, pcm16_to_float

_RUN_GAP_S = 0.005
"""A block starting further than this from where the previous one ended begins a new run."""


class ReferenceTimeline:
    """A ring of the last ``seconds`` of played audio at ``rate``, indexed by time."""

    def __init__(self, rate: int, seconds: float = 2.0) -> None:
        self.rate = rate
        self._ring = np.zeros(max(1, int(rate * seconds)), dtype=np.float32)
        self._hi = -1  # one past the highest absolute index written (-1: nothing yet)
        self._loud_hi = -1  # every sample from this absolute index on is silence
        self._resampler: PolyphaseResampler | None = None
        self._run_next = 0  # absolute index of the next resampled sample of the current run
        self._run_end_t = -1.0  # input time where the current run's last block ended
        self.blocks = 0
        self.runs = 0

    # ---- writing (playback tap) ---------------------------------------------------------

    def add(self, played: bytes, rate: int, t: float) -> None:
        """A block as played at ``rate`` whose first sample was heard at ``t``."""
        samples = pcm16_to_float(played)
        if samples.size == 0:
            return
        self.blocks += 1
        res = self._resampler
        new_run = (res is None or res.in_rate != rate or abs(t - self._run_end_t) > _RUN_GAP_S)
        if new_run:
            self._finish_run()
            res = self._resampler = PolyphaseResampler(rate, self.rate)
            # the filter's output runs ``delay_seconds`` behind its input: place it where it was heard
            delay = 0.0 if res.passthrough else res.delay_seconds
            self._run_next = round((t - delay) * self.rate)
            self.runs += 1
        assert res is not None
        self._put(res.process(samples))
        self._run_end_t = t + samples.size / rate

    def _finish_run(self) -> None:
        self._resampler = None  # the polyphase filter holds nothing back: no tail to push out

    def _put(self, out: FloatArray) -> None:
        n = out.size
        if n == 0:
            return
        start = self._run_next
        size = self._ring.size
        if n > size:  # only the newest ``size`` samples fit
            out, start, n = out[-size:], start + n - size, size
        if self._hi >= 0 and start > self._hi:  # silence between the last run and this one
            self._zero(self._hi, min(start, self._hi + size))
        elif self._hi < 0:
            self._ring[:] = 0.0
        pos = start % size
        first = min(n, size - pos)
        self._ring[pos:pos + first] = out[:first]
        self._ring[:n - first] = out[first:]
        self._run_next = start + n
        self._hi = max(self._hi, start + n)
        if out.any():
            self._loud_hi = max(self._loud_hi, start + n)

    def _zero(self, lo: int, hi: int) -> None:
        size = self._ring.size
        if hi - lo >= size:
            self._ring[:] = 0.0
            return
        a, b = lo % size, hi % size
        if a < b:
            self._ring[a:b] = 0.0
        elif hi > lo:
            self._ring[a:] = 0.0
            self._ring[:b] = 0.0

    # ---- reading (microphone side) ------------------------------------------------------

    def silent_from(self, t: float) -> bool:
        """Whether nothing but silence was played from time ``t`` on (the agent quiet: the
        canceller's reads need no copying, its guard no measuring)."""
        return round(t * self.rate) >= self._loud_hi

    def read(self, t: float, n: int) -> FloatArray:
        """The ``n`` samples played from time ``t`` on (silence where nothing was)."""
        out = np.zeros(n, dtype=np.float32)
        start = round(t * self.rate)
        if self._hi < 0 or start >= self._loud_hi:
            return out
        lo = max(start, self._hi - self._ring.size)
        hi = min(start + n, self._hi)
        if hi <= lo:
            return out
        size = self._ring.size
        idx = np.arange(lo, hi) % size
        out[lo - start:hi - start] = self._ring[idx]
        return out

    @property
    def end_time(self) -> float:
        """Time up to which played audio has arrived (-1.0 before any)."""
        return self._hi / self.rate if self._hi >= 0 else -1.0
