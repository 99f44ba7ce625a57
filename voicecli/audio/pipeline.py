"""The capture signal path, free of devices: PortAudio blocks in, exact session-rate frames
with capture times out. Runs on the audio callback thread, so it allocates little and runs
the resampler only when a frame can be completed. Float32 from the callback to the framer,
whose frames keep their float32 samples beside the PCM16 (the mic level reads those)."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np

from voicecli.audio.framer import Frame, Framer
from voicecli.audio.resample import PolyphaseResampler

_REANCHOR_S = 0.05


class InputTimeMap:
    """Maps a position in the resampled output back to the capture time of the input.

    Input blocks are recorded as ``(first_input_index, capture_time)``; output sample
    ``j`` shows input position ``j * in_rate / out_rate``, ``delay`` seconds earlier (the
    resampler's group delay).
    """

    def __init__(self, in_rate: int, out_rate: int, keep: int = 64, delay: float = 0.0) -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self.delay = delay
        self._blocks: deque[tuple[int, float]] = deque(maxlen=keep)
        self._in_count = 0

    def add_block(self, n: int, capture_time: float) -> None:
        self._blocks.append((self._in_count, capture_time))
        self._in_count += n

    def time_of_output(self, j: int) -> float:
        pos = j * self.in_rate / self.out_rate
        if not self._blocks:
            return time.monotonic()
        chosen = self._blocks[0]
        for start, t in reversed(self._blocks):
            if start <= pos:
                chosen = (start, t)
                break
        return chosen[1] + (pos - chosen[0]) / self.in_rate - self.delay


class CapturePipeline:
    """Downmix to mono, resample to ``rate`` (a causal polyphase FIR), cut ``frame_ms`` frames.

    ``feed(block, capture_time)`` takes a ``(frames, channels)`` float block and the
    ``time.monotonic()`` of its first sample; it returns the frames completed by it.
    """

    def __init__(self, device_rate: int, channels: int, rate: int, frame_ms: int) -> None:
        self.device_rate = device_rate
        self.channels = channels
        self.rate = rate
        self._resampler = PolyphaseResampler(device_rate, rate)
        self._timemap = InputTimeMap(device_rate, rate, delay=self._resampler.delay_seconds)
        self._framer = Framer(rate, rate * frame_ms // 1000)
        self._out_count = 0
        self._half = np.array([0.5, 0.5], dtype=np.float32)
        self._acc = np.empty(max(1, device_rate // 5), dtype=np.float32)
        self._acc_len = 0
        self._in_total = 0
        self._next_at = self._resampler.input_needed_for(self._framer.frame_samples)
        self._next_stamp: float | None = None

    @property
    def delay_seconds(self) -> float:
        """How far behind the input the frames are (the resampler's group delay)."""
        return self._resampler.delay_seconds

    def feed(self, block: Any, capture_time: float) -> list[Frame]:
        n = len(block)
        self._timemap.add_block(n, capture_time)
        if self._acc_len + n > self._acc.size:
            grown = np.empty(max(self._acc.size * 2, self._acc_len + n), dtype=np.float32)
            grown[: self._acc_len] = self._acc[: self._acc_len]
            self._acc = grown
        # downmixed straight into the accumulator: one numpy call per block
        if self.channels == 1:
            self._acc[self._acc_len : self._acc_len + n] = block[:, 0]
        else:
            np.matmul(block[:, :2], self._half, out=self._acc[self._acc_len : self._acc_len + n])
        self._acc_len += n
        self._in_total += n
        if self._in_total < self._next_at:
            return []
        return self._resample()

    def _stamp(self, measured: float) -> float:
        """The capture time of the next output sample: the sample clock continued from the
        previous stamp, slewed 1/50 of the way toward the block's own time each call (device
        callbacks jitter, and the first ones come in a burst); a gap of over ``_REANCHOR_S``
        (dropped input) is taken at once."""
        predicted = self._next_stamp
        if predicted is None or abs(measured - predicted) > _REANCHOR_S:
            return measured
        return predicted + (measured - predicted) / 50

    def _resample(self) -> list[Frame]:
        """Run the filter, once the next frame can be completed (every ~20 ms): most
        callbacks cost one copy into the accumulator."""
        rs = self._resampler
        out = rs.process(self._acc[: self._acc_len])
        if rs.passthrough:  # the accumulator itself: the frames keep their samples
            out = out.copy()
        self._acc_len = 0
        framer = self._framer
        start_time = self._stamp(self._timemap.time_of_output(self._out_count))
        self._out_count += int(out.size)
        self._next_stamp = start_time + out.size / self.rate
        frames = framer.push(out, start_time) if out.size else []
        self._next_at = rs.input_needed_for(self._out_count + framer.frame_samples - framer.pending_samples)
        return frames

