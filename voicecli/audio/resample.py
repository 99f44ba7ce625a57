"""Downmixing and soxr resampling (one-shot and streaming); sample conversion is
:mod:`voicecli.pcm.convert`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from voicecli.pcm.convert import FloatArray, float_to_pcm16, pcm16_to_float


def downmix(block: npt.NDArray[np.floating]) -> FloatArray:
    """Average the channels of a ``(frames, channels)`` block to mono float32."""
    arr = np.asarray(block, dtype=np.float32)
    if arr.ndim == 1:
        return arr
    if arr.shape[1] == 1:
        return np.ascontiguousarray(arr[:, 0])
    mono: FloatArray = arr.mean(axis=1, dtype=np.float32)
    return mono


def resample(samples: npt.NDArray[np.floating], in_rate: int, out_rate: int) -> FloatArray:
    """Resample a whole mono float signal at once (soxr, high quality)."""
    arr = np.ascontiguousarray(samples, dtype=np.float32)
    if in_rate == out_rate or arr.size == 0:
        return arr
    import soxr

    out: FloatArray = soxr.resample(arr, in_rate, out_rate, quality="HQ").astype(np.float32, copy=False)
    return out


def resample_pcm16(pcm: bytes, in_rate: int, out_rate: int) -> bytes:
    """Resample PCM16 mono bytes at once."""
    if in_rate == out_rate:
        return bytes(pcm)
    return float_to_pcm16(resample(pcm16_to_float(pcm), in_rate, out_rate))


class StreamResampler:
    """Chunk-by-chunk mono resampling with no seams between chunks (``soxr.ResampleStream``).

    Equal rates pass through untouched. ``low_latency`` selects soxr's variable-rate
    engine, which emits output steadily with each chunk (5-15 ms behind the input)
    instead of in bursts every ~30 ms, with well over 100 dB of alias rejection.
    ``pending_seconds`` is how much output the filter still holds back.
    """

    def __init__(self, in_rate: int, out_rate: int, quality: str = "HQ", low_latency: bool = True) -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._quality = quality
        self._low_latency = low_latency
        self._stream: Any = None
        self._in_count = 0
        self._out_count = 0
        if in_rate != out_rate:
            self._stream = self._new_stream()

    def _new_stream(self) -> Any:
        import soxr

        return soxr.ResampleStream(
            self.in_rate, self.out_rate, 1, dtype="float32", quality=self._quality, vr=self._low_latency
        )

    @property
    def passthrough(self) -> bool:
        return self._stream is None

    def process(self, samples: npt.NDArray[np.floating], last: bool = False) -> FloatArray:
        arr = np.ascontiguousarray(samples, dtype=np.float32)
        if self._stream is None:
            return arr
        out: FloatArray = self._stream.resample_chunk(arr, last=last).astype(np.float32, copy=False)
        self._in_count += int(arr.size)
        self._out_count += int(out.size)
        return out

    @property
    def _expected_out(self) -> int:
        return self._in_count * self.out_rate // self.in_rate

    @property
    def pending_seconds(self) -> float:
        """Output the filter owes for the input it has taken (its current lag)."""
        if self._stream is None:
            return 0.0
        return max(0, self._expected_out - self._out_count) / self.out_rate

    def push_out_tail(self) -> FloatArray:
        """Feed silence until the output has caught up with the input taken so far,
        without ending the stream (for the end of an utterance). Returns that output."""
        if self._stream is None:
            return np.zeros(0, dtype=np.float32)
        owed = self._expected_out - self._out_count
        parts: list[FloatArray] = []
        step = np.zeros(max(1, self.in_rate // 100), dtype=np.float32)
        got = 0
        for _ in range(100):
            if got >= owed:
                break
            out = self._stream.resample_chunk(step).astype(np.float32, copy=False)
            parts.append(out)
            got += int(out.size)
        tail = np.concatenate(parts)[: max(owed, 0)] if parts else np.zeros(0, dtype=np.float32)
        # the padding we fed is not part of the signal: restart clean so that the next
        # chunk is not preceded by the filter's memory of that silence
        self.reset()
        return tail

    def reset(self) -> None:
        """Forget history (after a discontinuity such as a barge-in flush)."""
        if self._stream is not None:
            self._stream.clear()
            self._in_count = 0
            self._out_count = 0


_LOOKAHEAD_CACHE: dict[tuple[int, int, str], int] = {}


def _calibrate_edge(in_rate: int, out_rate: int, quality: str, tolerance: float = 2e-5) -> int:
    """Input samples a one-shot soxr result needs on either side of a window before its
    output matches the whole-signal result within ``tolerance`` (the filter's reach)."""
    key = (in_rate, out_rate, quality)
    if key in _LOOKAHEAD_CACHE:
        return _LOOKAHEAD_CACHE[key]
    import soxr

    g = math.gcd(in_rate, out_rate)
    p_in, p_out = in_rate // g, out_rate // g
    rng = np.random.default_rng(0)
    probe = (rng.standard_normal(in_rate // 2) * 0.3).astype(np.float32)
    full = soxr.resample(probe, in_rate, out_rate, quality=quality)
    start = p_in * ((in_rate // 8) // p_in)
    stop = start + p_in * max(1, (in_rate // 8) // p_in)
    part = soxr.resample(probe[start:stop], in_rate, out_rate, quality=quality)
    ref = full[start // p_in * p_out : start // p_in * p_out + part.size]
    bad = np.nonzero(np.abs(part[: ref.size] - ref) > tolerance)[0]
    half = part.size // 2
    left = int(bad[bad < half].max()) + 1 if np.any(bad < half) else 0
    right = part.size - int(bad[bad >= half].min()) if np.any(bad >= half) else 0
    reach = int(np.ceil(max(left, right) * in_rate / out_rate)) + in_rate // 2000  # + 0.5 ms margin
    _LOOKAHEAD_CACHE[key] = reach
    return reach


class OverlapResampler:
    """Low-latency streaming resampler: soxr's one-shot (linear phase, delay-compensated)
    over a sliding window of input, keeping just enough history and holding back just the
    filter's reach (2.5-10 ms depending on the rates) instead of soxr's stream buffering.

    Costs one filter design per call (20-200 us), so it suits 10-20 ms blocks where
    latency matters more than CPU. Same interface as ``StreamResampler``.
    """

    def __init__(self, in_rate: int, out_rate: int, quality: str = "HQ") -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._quality = quality
        g = math.gcd(in_rate, out_rate)
        self._p_in, self._p_out = in_rate // g, out_rate // g
        self._reach = _calibrate_edge(in_rate, out_rate, quality) if in_rate != out_rate else 0
        self.reset()

    @property
    def passthrough(self) -> bool:
        return self.in_rate == self.out_rate

    @property
    def lookahead_seconds(self) -> float:
        return self._reach / self.in_rate

    def reset(self) -> None:
        self._buf = np.zeros(0, dtype=np.float32)
        self._base = 0  # absolute input index of _buf[0], a multiple of _p_in
        self._in_count = 0
        self._out_count = 0

    def append(self, samples: npt.NDArray[np.floating]) -> None:
        """Take input without computing output yet (see ``available``)."""
        arr = np.ascontiguousarray(samples, dtype=np.float32)
        if arr.size:
            self._buf = np.concatenate((self._buf, arr)) if self._buf.size else arr.copy()
            self._in_count += int(arr.size)

    def input_needed_for(self, out_samples: int) -> int:
        """Total input count (since the start) at which ``out_samples`` more output samples
        than produced so far become available."""
        if self.passthrough:
            return self._out_count + out_samples
        target = self._out_count + out_samples
        return -(-target * self.in_rate // self.out_rate) + self._reach

    @property
    def available(self) -> int:
        """Output samples the next ``process`` call would return."""
        if self.passthrough:
            return self._buf.size
        usable_in = max(0, self._in_count - self._reach)
        return max(0, usable_in * self.out_rate // self.in_rate - self._out_count)

    def process(self, samples: npt.NDArray[np.floating] | None = None, last: bool = False) -> FloatArray:
        if samples is not None:
            self.append(samples)
        if self.passthrough:
            out_pass, self._buf = self._buf, np.zeros(0, dtype=np.float32)
            self._out_count += int(out_pass.size)
            return out_pass
        import soxr

        usable_in = self._in_count if last else self._in_count - self._reach
        end_out = max(0, usable_in) * self.out_rate // self.in_rate
        if end_out <= self._out_count:
            return np.zeros(0, dtype=np.float32)
        window = self._buf if not last else np.concatenate((self._buf, np.zeros(self._reach, np.float32)))
        y = soxr.resample(window, self.in_rate, self.out_rate, quality=self._quality)
        y_start = self._base // self._p_in * self._p_out
        out = np.asarray(y[self._out_count - y_start : end_out - y_start], dtype=np.float32)
        self._out_count += int(out.size)
        # keep the history the next window needs on its left edge
        keep_from = self._out_count * self.in_rate // self.out_rate - self._reach
        new_base = max(self._base, keep_from // self._p_in * self._p_in)
        if new_base > self._base:
            self._buf = self._buf[new_base - self._base :]
            self._base = new_base
        return out

    @property
    def pending_seconds(self) -> float:
        owed = self._in_count * self.out_rate // self.in_rate - self._out_count
        return max(0, owed) / self.out_rate

    def push_out_tail(self) -> FloatArray:
        if self.passthrough:
            return self.process()
        tail = self.process(last=True)
        self.reset()
        return tail
