"""A synthetic room for echo tests: an impulse response and speech-like far-end signals.

The echo a laptop's microphone hears from its own speakers (:class:`Acoustics`):

- ``delay_ms`` (20-150): from the moment a sample is played to its echo in the microphone:
  the sound system's buffers on both sides (the air adds well under a millisecond);
- ``attenuation_db``: the direct path's gain, speaker to microphone (-6 dB: loud speakers a
  hand's width from the microphone, the echo louder than the user's voice);
- ``rt60_s``: the reverberation time, the time the room's tail takes to fall by 60 dB
  (0.2-0.4 s in a furnished small room or office);
- ``drr_db``: the direct-to-reverberant energy ratio: the direct path's energy over the whole
  tail's. It is positive near the speaker: a microphone ~0.25 m from the speakers of a 40 m³
  room with an RT60 of 0.3 s is well inside its critical distance (0.057·√(V/RT60) ≈ 0.66 m),
  about 20·log10(0.66/0.25) ≈ +8 dB.

``room_impulse_response`` builds the response from these: the direct path after the delay,
then an exponentially decaying noise tail (amplitude ``exp(-6.91 t / rt60)``, cut at -50 dB)
scaled to the DRR. :data:`PLAUSIBLE` is the laptop in a small room the figures are measured
on; :data:`HARSH` keeps the earlier bed's room (a 120 ms tail with 3.6x the direct path's
energy, DRR -5.6 dB: a speaker that reaches the microphone mostly through the room) for a
benchmark row. The PulseAudio bed's room (:meth:`tests.support.pulse.PulseBed.room`)
convolves the speaker's monitor with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tests.support.priority import popen_raised, realtime_thread


@dataclass(frozen=True)
class Acoustics:
    delay_ms: float = 80.0
    attenuation_db: float = -6.0
    rt60_s: float = 0.3
    drr_db: float = 8.0

    def with_(self, **changes: float) -> Acoustics:
        return replace(self, **changes)


PLAUSIBLE = Acoustics()
HARSH = Acoustics(rt60_s=0.138, drr_db=-5.6)

_TAIL_FLOOR_DB = -50.0  # the tail is cut where it has fallen this far


def room_impulse_response(rate: int, acoustics: Acoustics = PLAUSIBLE, seed: int = 7) -> np.ndarray:
    """The echo path's impulse response at ``rate`` (direct path at ``acoustics.delay_ms``)."""
    d = int(round(rate * acoustics.delay_ms / 1000))
    gain = 10 ** (acoustics.attenuation_db / 20)
    tail_s = acoustics.rt60_s * -_TAIL_FLOOR_DB / 60.0
    n = max(1, int(rate * tail_s))
    t = (np.arange(n) + 1) / rate  # the tail starts a sample after the direct path
    envelope = np.exp(-6.91 * t / acoustics.rt60_s)
    noise = np.random.default_rng(seed).standard_normal(n) * envelope
    tail_energy = gain ** 2 / 10 ** (acoustics.drr_db / 10)
    noise *= np.sqrt(tail_energy / np.sum(noise ** 2))
    rir = np.zeros(d + 1 + n, np.float32)
    rir[d] = gain
    rir[d + 1:] = noise
    return rir


def drr_db(rir: np.ndarray) -> float:
    """The direct-to-reverberant ratio of a response whose direct path is its largest tap."""
    peak = int(np.argmax(np.abs(rir)))
    return float(10 * np.log10(rir[peak] ** 2 / np.sum(np.asarray(rir[peak + 1:], np.float64) ** 2)))


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
    convolves them with the room's response (``rir``: direct path and reverberation, see
    :class:`Acoustics`) and schedules the result ``delay_ms`` after the moment the chunk was
    played, on a timeline the bed's microphone feeder mixes into what it writes (near-end
    speech queued with ``bed.mic.play`` comes on top: double talk). The moment a chunk was
    played is the monitor's sample count, anchored on the earliest arrival (a ``pacat`` of
    silence keeps the sink from idling, so the count never breaks): the echo path stays put
    when the machine is too busy to read the monitor on time, as a real room's does.
    ``echo`` keeps what was mixed in, by time, for measurements; ``cpu_seconds`` is the
    reader thread's CPU time.
    """

    def __init__(self, env: dict[str, str], rate: int, acoustics: Acoustics = PLAUSIBLE,
                 source: str = "spk.monitor") -> None:
        import subprocess
        import threading

        from voicecli.audio.aec_align import ReferenceTimeline

        self.rate = rate
        self.acoustics = acoustics
        self.delay_s = acoustics.delay_ms / 1000
        self.rir = room_impulse_response(rate, acoustics.with_(delay_ms=0.0))
        self.echo = ReferenceTimeline(rate, seconds=4.0)
        self.enabled = True
        self.cpu_seconds = 0.0
        self.chunks = 0
        self.anchors = 0
        self._history = np.zeros(self.rir.size - 1, np.float32)
        self._clock = -1.0  # monotonic time of the next monitor sample
        self._late_min, self._late_n = 1.0, 0  # the least lateness of the last chunks, and their count
        # silence played into the speaker for the room's whole life: the sink never idles, so
        # its monitor is one unbroken stream whose sample count keeps time
        sink = source.removesuffix(".monitor")
        with open("/dev/zero", "rb") as zeros:
            self._air = popen_raised(
                ["pacat", "--playback", "-d", sink, "--format=s16le", "--rate=8000", "--channels=1", "--raw",
                 "--latency-msec=50"], stdin=zeros, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        self._proc = popen_raised(
            ["parec", "-d", source, "--format=s16le", f"--rate={rate}", "--channels=1",
             "--latency-msec=5", "--process-time-msec=5", "--raw"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self._thread = threading.Thread(target=self._read, name="pulse-room", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        import time

        realtime_thread()  # the room's echo is mixed into the microphone as it is played
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
            # the monitor's own sample count keeps time: a chunk read late (this process or
            # the sound server starved on a busy machine) was still played on time, so the
            # count is moved earlier at once, to the earliest time a chunk could have been
            # played, and later only when every chunk of a second came late (samples were
            # lost: the count fell behind) or after a second with nothing (the sink stopped)
            late = start - self._clock
            if self._clock < 0 or late > 1.0:
                self._clock, self._late_min, self._late_n = start, 1.0, 0
                self.anchors += 1
            elif late < 0:
                self._clock = start
                self._late_min = 0.0
            else:
                self._late_min = min(self._late_min, late)
            self._late_n += 1
            if self._late_n >= 100:
                if self._late_min > 0.01:
                    self._clock += self._late_min
                    self.anchors += 1
                self._late_min, self._late_n = 1.0, 0
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
        for proc in (self._proc, self._air):
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except Exception:  # noqa: BLE001
                proc.kill()
                proc.wait()
        self._thread.join(timeout=3)
