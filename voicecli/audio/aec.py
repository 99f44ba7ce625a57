"""Acoustic echo cancellation with WebRTC's audio processing module (AEC3, NS, HPF).

:class:`ApmEchoCanceller` implements :class:`~voicecli.audio.echo.EchoCanceller`:

1. ``reference(played, rate, t)`` is a playback tap: the exact block the playback callback
   handed the device, with the monotonic time its first sample reached the DAC. It goes
   into a :class:`~voicecli.audio.aec_align.ReferenceTimeline` at the processing rate.
2. ``process(frame, playback_audible, t)`` takes a microphone frame whose first sample was
   captured at ``t`` (the capture stream's ADC time). Each 10 ms block of it is preceded by
   the far-end block played over the same 10 ms, ``lead_ms`` ahead (``process_reverse_stream``),
   then cleaned in place (``process_stream``); AEC3 finds the room's delay from there on its
   own. The frames' capture times jitter as much as the playback's: both go through a
   :class:`~voicecli.audio.playclock.StreamClock`, so that the reference read stays one
   continuous stream (a reference that jumps about is an echo path that moves). The lead
   keeps the reference ahead of its echo when the two streams' reported times are off by a
   few milliseconds (sound servers jitter; a laptop's speaker is ~1 ms from its
   microphone): a reference that comes after its echo cannot cancel it. It stays small: the
   reference must already have arrived from the playback callback when the frame is cleaned
   (a block fed as silence is lost to the canceller, and its echo gets through).
3. Each cleaned block then goes through an :class:`~voicecli.audio.aec_guard.EchoGuard`
   (``guard=True``): AEC3 lets the first echo through while it finds the delay (at the start
   of a session, when the echo path moved), which the agent would take for the user cutting
   in; the guard silences blocks no louder than the echo the far end can make, and lets
   double talk through.

The processing rate is the microphone frame's rate. The engine comes from the optional
``livekit`` wheel (``pip install 'voicecli[aec]'``); :func:`load_apm` says in one line
when it is missing. ``resolve_aec`` turns ``--aec on|off|auto`` into a decision.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from voicecli.audio.aec_align import ReferenceTimeline
from voicecli.audio.aec_guard import EchoGuard, Powers
from voicecli.audio.playclock import StreamClock
from voicecli.pcm.convert import pcm16_to_float

AEC_MODES = ("auto", "on", "off")
MISSING_NOTICE = "echo cancellation needs the aec extra (pip install 'voicecli[aec]'); using the open mic as is"

ApmFactory = Callable[[], Any]
log = logging.getLogger(__name__)
_TIMING_LOG_S = 1.0
"""At most one debug line a second from each side (reference, microphone) on their timing."""


def load_apm() -> tuple[ApmFactory | None, str | None]:
    """A factory of WebRTC APM instances, or None and a one-line reason."""
    try:
        from livekit.rtc import AudioProcessingModule
    except Exception:  # noqa: BLE001 - missing wheel or a native library that does not load
        return None, MISSING_NOTICE

    def factory() -> Any:
        return AudioProcessingModule(echo_cancellation=True, noise_suppression=True, high_pass_filter=True)

    return factory, None


def resolve_aec(mode: str, mic: bool, speaker: bool) -> bool:
    """``auto`` is on when both a microphone and a speaker are open."""
    if mode == "on":
        return True
    if mode == "off":
        return False
    return mic and speaker


class ApmEchoCanceller:
    """WebRTC AEC3 fed the played reference aligned on the capture clock."""

    def __init__(self, rate: int, factory: ApmFactory, *, clock: Callable[[], float] = time.monotonic,
                 stream_delay_ms: int = 0, lead_ms: float = 30.0, guard: bool = True) -> None:
        from livekit.rtc import AudioFrame

        self.rate = rate
        self.block = rate // 100
        if self.block * 100 != rate:
            raise ValueError(f"echo cancellation needs a rate in whole 100 Hz steps, not {rate}")
        self._frame_type = AudioFrame
        self._apm = factory()
        self._apm.set_stream_delay_ms(stream_delay_ms)
        self._clock = clock
        self.lead_s = lead_ms / 1000.0
        self.timeline = ReferenceTimeline(rate)
        self._mic_clock = StreamClock(rate, jump_s=0.04)
        self.guard = EchoGuard(rate) if guard else None
        self._timing_marks = (0, 0)  # the reference's runs and the mic clock's restarts seen
        self._far_end_t = -1.0  # where the reference ended at the last frame
        self._logged = {"reference": -1e9, "mic": -1e9}  # when each side's timing was last logged
        self.enabled = True
        self.blocks_processed = 0
        self.cpu_s = 0.0
        self.cancelled = b""
        """The last frame as AEC3 left it, before the guard (for measurements)."""

    def reference(self, played: bytes, rate: int, t: float) -> None:
        runs = self.timeline.runs
        self.timeline.add(played, rate, t)
        if log.isEnabledFor(logging.DEBUG) and self._timing_due("reference", self.timeline.runs != runs):
            log.debug("echo timing: reference run %d, a block played at %+.0f ms from now",
                      self.timeline.runs, (t - self._clock()) * 1000)

    def _timing_due(self, side: str, anyway: bool = False) -> bool:
        now = self._clock()
        if anyway or now - self._logged[side] >= _TIMING_LOG_S:
            self._logged[side] = now
            return True
        return False

    def process(self, frame: bytes, playback_audible: bool, now: float | None = None) -> bytes:
        """``now``: capture time of the frame's first sample (arrival time if unknown)."""
        if not self.enabled:
            return frame
        n = len(frame) // 2
        if n == 0 or n % self.block:
            return frame
        reported = self._clock() - n / self.rate if now is None else now
        t0 = self._mic_clock.advance(reported, n)
        self._watch_timing(t0)
        if log.isEnabledFor(logging.DEBUG) and self._timing_due("mic"):
            log.debug("echo timing: mic frame captured at %+.0f ms from now (reported %+.0f ms, %d restarts), "
                      "reference up to %+.0f ms from it", (t0 - self._clock()) * 1000,
                      (reported - self._clock()) * 1000, self._mic_clock.restarts,
                      (self.timeline.end_time - t0) * 1000)
        started = time.perf_counter()
        mic = bytearray(frame)
        out, cancelled = bytearray(), bytearray()
        step = self.block * 2
        for i in range(n // self.block):
            at = t0 + self.lead_s + i * self.block / self.rate
            far = self.timeline.read(at, self.block)
            quiet = self.timeline.silent_from(at)
            ref = bytes(step) if quiet else np.clip(far * 32768.0, -32768, 32767).astype(np.int16).tobytes()
            self._apm.process_reverse_stream(self._frame_type(ref, self.rate, 1, self.block))
            near = self._frame_type(bytes(mic[i * step:(i + 1) * step]), self.rate, 1, self.block)
            self._apm.process_stream(near)
            cleaned = bytes(near.data)
            cancelled += cleaned
            if self.guard is not None and self.guard.process(
                    far, pcm16_to_float(mic[i * step:(i + 1) * step]), pcm16_to_float(cleaned),
                    self._far_history(at)):
                cleaned = bytes(step)
            out += cleaned
            self.blocks_processed += 1
        self.cancelled = bytes(cancelled)
        self.cpu_s += time.perf_counter() - started
        return bytes(out)

    def _watch_timing(self, t0: float) -> None:
        """A new run of the reference while the far end was playing (a playback stream that
        underflowed and restarted its clock), or a jump of the microphone's clock, moves
        the echo path as the canceller sees it: the guard widens its watch meanwhile."""
        marks = (self.timeline.runs, self._mic_clock.restarts)
        if self.guard is not None and marks != self._timing_marks:
            if marks[1] != self._timing_marks[1] or self._far_end_t > t0 - 0.3:
                self.guard.widen()
            self._timing_marks = marks
        self._far_end_t = self.timeline.end_time

    def _far_history(self, t: float) -> Powers:
        """The reference's 10 ms block powers around the block at ``t`` as the timeline holds
        them now (blocks that came too late for the canceller included), furthest ahead first."""
        guard = self.guard
        assert guard is not None
        step = self.block / self.rate
        start = t - (guard.span - guard.ahead - 1) * step
        if self.timeline.silent_from(start):  # the far end quiet all along: nothing to measure
            return np.zeros(guard.span)
        x = self.timeline.read(start, guard.span * self.block)
        powers: Powers = np.mean(np.square(x.reshape(guard.span, self.block), dtype=np.float64), axis=1)
        return powers[::-1]

    def reset(self) -> None:
        """Nothing to forget at a barge-in: the reference simply goes silent."""


def make_canceller(rate: int) -> tuple[ApmEchoCanceller | None, str | None]:
    """An echo canceller for microphone frames at ``rate``, or None and why not."""
    factory, why = load_apm()
    if factory is None:
        return None, why
    try:
        return ApmEchoCanceller(rate, factory), None
    except Exception as exc:  # noqa: BLE001 - an engine that fails to start must not end the session
        return None, f"echo cancellation unavailable ({exc}); using the open mic as is"
