"""Cut a stream of float32 samples into exact fixed-size PCM16 frames, carrying the remainder.

Blocks of any size go in (10 ms capture blocks, resampler output); frames come out at the
provider's frame size, each with its float32 samples so that levels need no re-conversion."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from voicecli.pcm.convert import float_to_pcm16


@dataclass(frozen=True, slots=True)
class Frame:
    pcm: bytes
    """PCM16 mono, exactly ``frame_samples`` samples."""
    start_time: float
    """``time.monotonic()`` of the frame's first sample."""
    samples: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    """The same samples as float32 (full scale 1.0), before conversion."""


class Framer:
    """Accumulates mono float chunks and emits exact frames of ``frame_samples`` samples.

    Each chunk comes with the capture time of its first sample; a frame's time is the
    time of its own first sample, even when it starts in a carried-over remainder.
    """

    def __init__(self, rate: int, frame_samples: int) -> None:
        if frame_samples <= 0:
            raise ValueError("frame_samples must be positive")
        self.rate = rate
        self.frame_samples = frame_samples
        self._carry = np.zeros(0, dtype=np.float32)
        self._carry_time = 0.0

    @property
    def pending_samples(self) -> int:
        return int(self._carry.size)

    def push(self, samples: npt.NDArray[np.floating], start_time: float) -> list[Frame]:
        """The frames completed by ``samples``. The frames keep (do not copy) the float
        samples given, so the caller hands over a block it will not write to again."""
        chunk = np.asarray(samples, dtype=np.float32)
        n = self.frame_samples
        if not self._carry.size and chunk.size == n:  # the steady case: one whole frame
            self._carry_time = start_time + n / self.rate
            return [Frame(float_to_pcm16(chunk), start_time, chunk)]
        if self._carry.size:
            data = np.concatenate((self._carry, chunk))
            t0 = self._carry_time
        else:
            data = chunk
            t0 = start_time
        whole = data.size // n
        frames = []
        for i in range(whole):
            samples = data[i * n : (i + 1) * n].copy()
            frames.append(Frame(float_to_pcm16(samples), t0 + i * n / self.rate, samples))
        self._carry = data[whole * n :].copy()
        self._carry_time = t0 + whole * n / self.rate
        return frames

    def reset(self) -> None:
        self._carry = np.zeros(0, dtype=np.float32)
