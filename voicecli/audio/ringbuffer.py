"""A bounded single-channel float32 ring buffer (no locking: the owner serialises access)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class RingBuffer:
    """Fixed capacity FIFO of float32 samples. Writes beyond capacity are dropped, never block."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._buf = np.zeros(capacity, dtype=np.float32)
        self._read = 0
        self._size = 0
        self.dropped = 0
        """Samples refused by ``write`` because the buffer was full."""

    @property
    def capacity(self) -> int:
        return int(self._buf.size)

    def __len__(self) -> int:
        return self._size

    @property
    def free(self) -> int:
        return self.capacity - self._size

    def write(self, samples: npt.NDArray[np.floating]) -> int:
        """Append as many samples as fit; returns how many were stored."""
        n = min(int(samples.size), self.free)
        if n < samples.size:
            self.dropped += int(samples.size) - n
        if n == 0:
            return 0
        cap = self.capacity
        start = (self._read + self._size) % cap
        first = min(n, cap - start)
        self._buf[start : start + first] = samples[:first]
        if n > first:
            self._buf[: n - first] = samples[first:n]
        self._size += n
        return n

    def read_into(self, out: npt.NDArray[np.float32]) -> int:
        """Move up to ``out.size`` samples into ``out``; returns how many were read.
        The rest of ``out`` is left untouched."""
        n = min(int(out.size), self._size)
        if n == 0:
            return 0
        cap = self.capacity
        first = min(n, cap - self._read)
        out[:first] = self._buf[self._read : self._read + first]
        if n > first:
            out[first:n] = self._buf[: n - first]
        self._read = (self._read + n) % cap
        self._size -= n
        return n

    def clear(self) -> int:
        """Drop everything; returns how many samples were dropped."""
        n = self._size
        self._read = 0
        self._size = 0
        return n
