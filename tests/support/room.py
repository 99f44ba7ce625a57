"""A synthetic room for echo tests: an impulse response and speech-like far-end signals.

``room_impulse_response`` is a direct path after ``delay_ms`` at ``attenuation_db`` and an
exponentially decaying noise tail (the reverberation) of ``tail_ms``. The PulseAudio bed's
room (:meth:`tests.support.pulse.PulseBed.room`) convolves the speaker's monitor with it.
"""

from __future__ import annotations

import numpy as np


def room_impulse_response(rate: int, delay_ms: float, attenuation_db: float = -6.0,
                          tail_ms: float = 120.0, seed: int = 7) -> np.ndarray:
    d = int(round(rate * delay_ms / 1000))
    tail = max(1, int(rate * tail_ms / 1000))
    gain = 10 ** (attenuation_db / 20)
    rng = np.random.default_rng(seed)
    rir = np.zeros(d + tail, np.float32)
    decay = np.exp(-np.arange(tail) / (rate * tail_ms / 1000 / 6))  # -52 dB at the tail's end
    rir[d:] = gain * 0.15 * rng.standard_normal(tail).astype(np.float32) * decay
    rir[d] = gain
    return rir


def speechlike(rate: int, seconds: float, seed: int = 1, amp: float = 0.3) -> np.ndarray:
    """Coloured noise with a syllable-rate envelope (3 Hz), loud enough to trip a VAD."""
    n = int(rate * seconds)
    rng = np.random.default_rng(seed)
    x = np.convolve(rng.standard_normal(n), np.ones(8) / 8, "same")
    env = (0.5 + 0.5 * np.sin(np.arange(n) / rate * 2 * np.pi * 3)) ** 2
    return (amp * x * env / (np.std(x) + 1e-9)).astype(np.float32)


class Room:
    """Routes what the bed's speaker plays back into its microphone, like a laptop's room.

    A ``parec`` reader on the speaker's monitor hands ~10 ms chunks to a thread that
    convolves them with the room's response (``rir``: direct path and reverberation) and
    schedules the result ``delay_ms`` after the moment the chunk was played, on a timeline
    the bed's microphone feeder mixes into what it writes (near-end speech queued with
    ``bed.mic.play`` comes on top: double talk). ``echo`` keeps what was mixed in, by time,
    for measurements; ``cpu_seconds`` is the reader thread's CPU time.
    """

    def __init__(self, env: dict[str, str], rate: int, delay_ms: float = 80.0, attenuation_db: float = -6.0,
                 tail_ms: float = 120.0, source: str = "spk.monitor") -> None:
        import subprocess
        import threading

        from voicecli.audio.aec_align import ReferenceTimeline

        self.rate = rate
        self.delay_s = delay_ms / 1000
        self.rir = room_impulse_response(rate, 0.0, attenuation_db, tail_ms)
        self.echo = ReferenceTimeline(rate, seconds=4.0)
        self.enabled = True
        self.cpu_seconds = 0.0
        self.chunks = 0
        self.anchors = 0
        self._history = np.zeros(self.rir.size - 1, np.float32)
        self._clock = -1.0  # monotonic time of the next monitor sample
        self._proc = subprocess.Popen(
            ["parec", "-d", source, "--format=s16le", f"--rate={rate}", "--channels=1",
             "--latency-msec=5", "--process-time-msec=5", "--raw"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self._thread = threading.Thread(target=self._read, name="pulse-room", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        import time

        assert self._proc.stdout is not None
        block = self.rate // 100 * 2
        while True:
            data = self._proc.stdout.read1(block)
            if not data:
                return
            if len(data) % 2:
                data += self._proc.stdout.read(1)
            now = time.monotonic()
            x = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
            start = now - x.size / self.rate
            # the monitor's own sample count keeps time (a chunk read late was still played
            # on time); re-anchor only at the start, after a pause of the sink, or if the
            # count runs ahead of the wall clock
            if self._clock < 0 or start - self._clock > 0.25 or start < self._clock - 0.02:
                self._clock = start
                self.anchors += 1
            self._add(x, self._clock)
            self._clock += x.size / self.rate
            self.chunks += 1
            self.cpu_seconds = time.thread_time()

    def _add(self, x: np.ndarray, t: float) -> None:
        joined = np.concatenate([self._history, x])
        self._history = joined[x.size:]
        if not self.enabled:
            return
        y = np.convolve(joined, self.rir, "valid").astype(np.float32)
        self.echo.add(np.clip(np.rint(y * 32768), -32768, 32767).astype("<i2").tobytes(), self.rate,
                      t + self.delay_s)

    def mix(self, t: float, n: int) -> np.ndarray:
        """The echo arriving at the microphone over ``n`` samples from time ``t``."""
        return self.echo.read(t, n)

    def stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=3)
        except Exception:  # noqa: BLE001
            self._proc.kill()
            self._proc.wait()
        self._thread.join(timeout=3)
