"""Downmixing and resampling: soxr one-shot and streaming (files, recordings, the agent's
ears), and a polyphase FIR for the live microphone and speaker paths (nothing held back,
~2.3 ms of group delay); sample conversion is :mod:`voicecli.pcm.convert`."""

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


_DESIGNS: dict[tuple[int, int, float], tuple[FloatArray, int]] = {}


def _design(up: int, down: int, atten_db: float) -> tuple[FloatArray, int]:
    """The polyphase table ``(up, taps)`` of a Kaiser-windowed low-pass for resampling by
    ``up/down``, each row reversed (oldest input first), and the taps per phase.

    The pass band ends at 0.4375 and the stop band starts at 0.525 of the lower of the two
    rates (7 kHz and 8.4 kHz for 16 kHz): whatever lies above 8.4 kHz folds back at least
    ``atten_db`` down, and only 8-8.4 kHz, attenuated less, folds back to 7.6-8 kHz, the
    very edge of the band."""
    key = (up, down, atten_db)
    if key in _DESIGNS:
        return _DESIGNS[key]
    # frequencies in units of gcd(in_rate, out_rate): the lower rate is min(up, down) and
    # the prototype filter runs at in_rate * up = up * down
    low = min(up, down)
    proto_rate = float(up * down)
    cutoff = 0.48125 * low
    width = 0.0875 * low
    n_ideal = (atten_db - 7.95) / (2.285 * 2 * math.pi * width / proto_rate)
    taps = max(2, math.ceil(n_ideal / up))
    n = taps * up
    beta = 0.1102 * (atten_db - 8.7)
    t = np.arange(n) - (n - 1) / 2
    h = (2 * cutoff / proto_rate) * np.sinc(2 * cutoff / proto_rate * t) * np.kaiser(n, beta) * up
    table = np.ascontiguousarray(h.reshape(taps, up).T[:, ::-1], dtype=np.float32)
    _DESIGNS[key] = (table, taps)
    return table, taps


class PolyphaseResampler:
    """Streaming low-latency resampler for the live microphone and speaker: a polyphase FIR
    (Kaiser window, ``atten_db`` of alias rejection) over the exact ratio ``out_rate/in_rate``.

    Each output sample depends only on input already taken (a causal, linear-phase filter),
    so nothing is held back: every ``process`` call returns all the output its input allows,
    ``delay_seconds`` (about 2.3 ms) behind it. Float32 in and out.

    The ratio is ``up/down`` in lowest terms, so the output repeats its pattern of filter
    phases every ``up`` samples while the input moves on by ``down``. One such period of
    outputs is a single row of input (``down`` samples plus the filter's span) times a fixed
    matrix whose column ``r`` holds phase ``r``'s taps at that output's offset: a block is
    one matrix product over as many periods as it spans, whatever the ratio (48->16 kHz,
    44.1->16 kHz, 24->44.1 kHz alike), with no per-output gathering. Outputs of the first
    and last period that this call does not own are computed and dropped, so the buffer
    keeps ``down`` samples of history beyond the filter's and some slack after the input.
    """

    def __init__(self, in_rate: int, out_rate: int, atten_db: float = 100.0) -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        g = math.gcd(in_rate, out_rate)
        self._up, self._down = out_rate // g, in_rate // g
        if self.passthrough:
            self._taps = 1
            self._period = np.ones((1, 1), dtype=np.float32)
        else:
            table, self._taps = _design(self._up, self._down, atten_db)
            self._period = _period_matrix(table, self._taps, self._up, self._down)
        self._span = int(self._period.shape[0])  # inputs one period of outputs reads
        self._history = self._taps - 1 + self._down
        self.reset()

    @property
    def passthrough(self) -> bool:
        return self.in_rate == self.out_rate

    @property
    def delay_seconds(self) -> float:
        """Group delay: output sample ``j`` shows the input at ``j / out_rate - delay_seconds``."""
        if self.passthrough:
            return 0.0
        return (self._taps * self._up - 1) / 2 / self._up / self.in_rate

    def input_needed_for(self, total_out: int) -> int:
        """Input count (since the start) at which ``total_out`` output samples exist."""
        if total_out <= 0:
            return 0
        if self.passthrough:
            return total_out
        return (total_out - 1) * self._down // self._up + 1

    def reset(self) -> None:
        """Forget history (the next input starts from silence)."""
        self._buf = np.zeros(self._history + 4096 + 2 * self._down + self._span, dtype=np.float32)
        self._in_count = 0
        self._out_count = 0

    def process(self, samples: npt.NDArray[np.floating]) -> FloatArray:
        x = np.asarray(samples, dtype=np.float32)
        if self.passthrough:
            return x
        k, up, down, hist = self._taps, self._up, self._down, self._history
        n = int(x.size)
        if hist + n + 2 * down + self._span > self._buf.size:
            grown = np.zeros(hist + n + 2 * down + self._span, dtype=np.float32)
            grown[:hist] = self._buf[:hist]
            self._buf = grown
        # _buf holds the last ``hist`` inputs, then this block: input index of _buf[0] is
        buf0 = self._in_count - hist
        self._buf[hist : hist + n] = x
        self._in_count += n
        end = -(-self._in_count * up // down)  # outputs whose newest input has arrived
        first = self._out_count
        out: FloatArray
        if end > first:
            self._out_count = end
            q0, q1 = first // up, -(-end // up)  # the periods these outputs fall in
            at = q0 * down - (k - 1) - buf0  # >= 0: the history covers the first period
            rows: FloatArray = np.ndarray((q1 - q0, self._span), np.float32, self._buf, at * 4, (down * 4, 4))
            out = (rows.copy() @ self._period).reshape(-1)[first - q0 * up : end - q0 * up]
        else:
            out = np.zeros(0, dtype=np.float32)
        self._buf[:hist] = self._buf[n : n + hist]
        return out


def _period_matrix(table: FloatArray, taps: int, up: int, down: int) -> FloatArray:
    """``(down_span, up)``: column ``r`` holds the (oldest-first) taps of output ``r`` of a
    period, placed at that output's offset ``floor(r * down / up)`` into the period's input."""
    offsets = np.arange(up) * down // up
    phases = table[(np.arange(up) * down) % up]  # rows in output order
    matrix = np.zeros((int(offsets[-1]) + taps, up), dtype=np.float32)
    for r in range(up):
        matrix[offsets[r] : offsets[r] + taps, r] = phases[r]
    return matrix
