"""When a playback stream's samples reach the DAC, on the monotonic clock, without jitter.

The DAC time PortAudio reports for each callback (``outputBufferDacTime``) wanders by a few
milliseconds from one callback to the next on a sound server. :class:`StreamClock` counts
the samples the stream has played instead: a block's time is ``anchor + count / rate``.
The anchor is the running mean of the reported times' offsets (exponential after a
while, so that it follows the drift between the sound card's clock and ours); a reported
time far off (a stalled stream), or ``restart`` (the device reported an underflow), starts
the count again from the next reported time.

Once settled, the anchor moves by at most ``max_slew`` seconds per second of audio (1 ms/s,
ten times a sound card's worst clock drift against ours): a sound server's reported times
also wander slowly, by tens of milliseconds over a few seconds, as its buffers fill and
drain, while the samples themselves keep the card's steady pace. Followed, that wander
would be an echo path that moves (the echo canceller aligns the played reference on these
times); the count is the better clock. A step is another matter: reported times that
jump by ``step_s`` or more against their recent level and stay there for ``step_blocks``
blocks in a row (samples the server dropped or skipped, too few to be a stall) move the
anchor by that step at once (``steps`` counts them).
"""

from __future__ import annotations


class StreamClock:
    def __init__(self, rate: int, *, smoothing: float = 0.02, jump_s: float = 0.015,
                 max_slew: float = 0.001, step_s: float = 0.008, step_blocks: int = 8) -> None:
        self.rate = rate
        self.smoothing = smoothing
        self.jump_s = jump_s
        self.max_slew = max_slew
        self.step_s = step_s
        self.step_blocks = step_blocks
        self._level = 0.0  # the recent level of the errors (the wander the anchor trails)
        self._run: list[float] = []  # errors in a row off that level by step_s or more, one way
        self.steps = 0
        self._anchor = 0.0  # monotonic time of sample 0 of the count
        self._count = 0
        self._seen = 0
        self.restarts = 0

    def restart(self) -> None:
        """The stream lost samples (an underflow): count again from the next reported time."""
        if self._seen:
            self._seen = 0
            self.restarts += 1

    def advance(self, reported: float, frames: int) -> float:
        """The time of the first sample of a block of ``frames`` reported at ``reported``."""
        if self._seen == 0:
            self._begin(reported)
        else:
            predicted = self._anchor + self._count / self.rate
            error = reported - predicted
            if abs(error) > self.jump_s:
                self._begin(reported)
                self.restarts += 1
            else:
                self._seen += 1
                step = max(self.smoothing, 1.0 / self._seen) * error
                if self._seen * self.smoothing > 1.0:  # settled: the running mean has done its work
                    limit = self.max_slew * frames / self.rate
                    step = min(max(step, -limit), limit) + self._step(error)
                else:
                    self._level = error
                self._anchor += step
        t = self._anchor + self._count / self.rate
        self._count += frames
        return t

    def _begin(self, reported: float) -> None:
        """Count from this reported time."""
        self._anchor, self._count, self._seen = reported, 0, 1
        self._level, self._run = 0.0, []

    def _step(self, error: float) -> float:
        """How far to move the anchor at once: the step, when the errors have stood off
        their recent level, one way, for ``step_blocks`` blocks in a row; else 0."""
        off = error - self._level
        if abs(off) < self.step_s:
            self._run = []
            self._level += 0.05 * off  # follows the wander (a few ms per second) closely
            return 0.0
        if self._run and (off > 0) != (self._run[0] > 0):
            self._run = []
        self._run.append(off)
        if len(self._run) < self.step_blocks:
            return 0.0
        shift = sorted(self._run)[len(self._run) // 2]
        self._run = []
        self.steps += 1
        return shift
