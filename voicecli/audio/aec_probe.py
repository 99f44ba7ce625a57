"""Does this setup echo? A short probe before a session (``talk --echo-check``).

The speaker plays half a second of quiet noise bursts; the microphone listens meanwhile.
What the playback tap says was played is lined up with what was captured (the same
timeline the canceller uses); the echo path estimated from them over 0-300 ms of delay
tells whether the microphone hears the speaker, how loud (its direct path) and how late.
:func:`echo_verdict` is the analysis alone (no devices); :func:`probe_echo` runs it on a
backend's streams.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from voicecli.audio.aec_align import ReferenceTimeline
from voicecli.pcm.convert import FloatArray, float_to_pcm16, pcm16_to_float

if TYPE_CHECKING:
    from voicecli.audio.base import AudioBackend

PROBE_RATE = 16000
MAX_DELAY_S = 0.3


@dataclass(frozen=True)
class EchoCheck:
    echoes: bool
    level_db: float  # echo level relative to what was played
    delay_ms: float
    match: float = 0.0  # the strongest tap over the estimate's median

    def line(self, cancelling: bool) -> str:
        state = "echo cancellation is on" if cancelling else "echo cancellation is off"
        if not self.echoes:
            return f"echo check: the microphone does not hear the speaker; {state}"
        advice = "" if cancelling else " (use headphones, --aec on or --half-duplex)"
        return (f"echo check: the microphone hears the speaker ({self.level_db:.0f} dB, "
                f"{self.delay_ms:.0f} ms later); {state}{advice}")


def echo_verdict(played: FloatArray, heard: FloatArray, rate: int, threshold: float = 12.0) -> EchoCheck:
    """``played`` and ``heard`` on the same timeline (sample 0 = the same moment).

    The probe is white noise, so the cross-correlation of the two over 0-300 ms of lag,
    over the played energy, estimates the echo path's impulse response. The microphone
    echoes when the path's strongest tap stands out of the estimate's noise (``threshold``
    times its median); ``level_db`` is that tap's gain, ``delay_ms`` its lag.
    """
    n = min(played.size, heard.size)
    span = int(MAX_DELAY_S * rate)
    ref = played[:n].astype(np.float64)
    mic = heard[:n].astype(np.float64)
    ref_energy = float(np.dot(ref, ref))
    if n <= span or ref_energy <= 0.0 or not np.any(mic):
        return EchoCheck(False, float("-inf"), 0.0)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    path = np.abs(np.fft.irfft(np.conj(np.fft.rfft(ref, size)) * np.fft.rfft(mic, size), size)[:span]) / ref_energy
    peak = int(np.argmax(path))
    floor = float(np.median(path)) or 1e-12
    match = float(path[peak]) / floor
    level = 20 * np.log10(path[peak]) if path[peak] > 0 else float("-inf")
    return EchoCheck(bool(match >= threshold), float(level), peak / rate * 1000.0, match)


def probe_signal(rate: int = PROBE_RATE, seconds: float = 0.5, seed: int = 5) -> FloatArray:
    """Quiet (-26 dBFS) white-noise bursts: broadband, and nothing like speech."""
    rng = np.random.default_rng(seed)
    x = (0.05 * rng.standard_normal(int(rate * seconds))).astype(np.float32)
    gate = (np.arange(x.size) // (rate // 10)) % 2 == 0  # 100 ms on, 100 ms off
    out: FloatArray = (x * gate).astype(np.float32)
    return out


async def probe_echo(capture: object, playback: object, timeout: float = 3.0) -> EchoCheck:
    """Play the probe on ``playback`` (a tappable playback stream) while reading frames from
    ``capture`` (a capture stream at any rate); both already started."""
    from voicecli.audio.base import CaptureStream, TappablePlayback

    assert isinstance(playback, TappablePlayback) and isinstance(capture, CaptureStream)
    rate = capture.rate
    timeline = ReferenceTimeline(rate, seconds=4.0)
    playback.add_tap(timeline.add)
    heard: list[FloatArray] = []
    start = -1.0
    try:
        signal = probe_signal(rate)
        deadline = time.monotonic() + timeout
        settle = time.monotonic() + 0.3  # streams just opened: let their timing settle first
        async with asyncio.timeout(timeout):
            async for frame in capture.frames():
                if time.monotonic() < settle:
                    continue
                if start < 0:
                    start = capture.last_capture_time
                    playback.write(float_to_pcm16(signal), rate)  # type: ignore[attr-defined]
                heard.append(pcm16_to_float(frame))
                if time.monotonic() > deadline or sum(h.size for h in heard) >= rate * (0.5 + MAX_DELAY_S + 0.4):
                    break
    except TimeoutError:
        pass
    finally:
        playback.remove_tap(timeline.add)
    if not heard:
        return EchoCheck(False, float("-inf"), 0.0)
    mic = np.concatenate(heard)
    played = timeline.read(start, mic.size)
    return echo_verdict(played, mic, rate)


async def _check(backend: AudioBackend, mode: str) -> str | None:
    from voicecli.audio.aec import load_apm, resolve_aec

    capture = await backend.open_capture(PROBE_RATE)
    playback = await backend.open_playback(PROBE_RATE)
    try:
        if capture is None or playback is None:
            return None  # nothing can echo without both
        check = await probe_echo(capture, playback)
    finally:
        for stream in (capture, playback):
            if stream is not None:
                await stream.close()
    cancelling = resolve_aec(mode, True, True) and load_apm()[0] is not None
    return check.line(cancelling)


def check_setup(backend: AudioBackend, mode: str) -> str | None:
    """``talk --echo-check``: one line about the echo of this microphone and speaker (None
    without both), before the session opens them again."""
    try:
        return asyncio.run(_check(backend, mode))
    except Exception as exc:  # noqa: BLE001 - a probe that fails must not stop the session
        return f"echo check failed ({exc.__class__.__name__}: {exc})"
