"""Speaker playback: resample on write (a causal polyphase FIR: nothing held back, so no tail
to push out and nothing left over after a flush), a jitter-buffered ring, a 10 ms PortAudio
callback."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import numpy as np

from voicecli.audio.base import PlaybackTap
from voicecli.audio.devices import load_sounddevice, quiet_stderr, start_stream, stream_format, unavailable_reason
from voicecli.audio.jitter import JitterPolicy, PlaybackBuffer
from voicecli.audio.playclock import StreamClock
from voicecli.audio.realtime import CallbackThread
from voicecli.audio.resample import PolyphaseResampler
from voicecli.errors import AudioDeviceError
from voicecli.pcm.convert import float_to_pcm16, pcm16_to_float
from voicecli.pcm.levels import float_rms_db


class DevicePlayback:
    """A ``PlaybackStream`` on a PortAudio output device.

    ``write`` resamples to the device rate and queues into a bounded ``PlaybackBuffer``;
    the callback copies ~10 ms blocks out of it (silence when it is empty or still filling
    up) and never raises. ``flush`` empties the buffer so the very next callback is silent.
    Taps receive what was played, on the event loop thread. The level is measured only when
    asked, on the last block played, read in place.
    """

    def __init__(
        self,
        rate: int,
        *,
        device: int | None = None,
        device_rate: int | None = None,
        block_ms: int = 10,
        capacity_seconds: float = 60.0,
        policy: JitterPolicy | None = None,
    ) -> None:
        self.rate = rate
        self._device = device
        self._requested_rate = device_rate
        self._block_ms = block_ms
        self._capacity_seconds = capacity_seconds
        self._policy = policy
        self._stream: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._offset = 0.0
        self._resampler: PolyphaseResampler | None = None
        self._taps: list[PlaybackTap] = []
        self._closed = False
        self._failed = False
        self._notice: str | None = None
        self._last_block = np.zeros(0, dtype=np.float32)
        self._stream_clock = StreamClock(1)
        self.device_rate = 0
        self.channels = 0
        self.device_underflows = 0
        """Blocks PortAudio reported as output underflow (the callback came too late)."""
        self.last_run_start = 0.0
        """``time.monotonic()`` in the callback that started the latest playback run."""
        self.last_audible_callback = 0.0
        """``time.monotonic()`` at the end of the latest callback that produced agent audio."""
        self.output_latency = 0.0
        self.callback_thread = CallbackThread()

    # --- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        sd = load_sounddevice()
        if sd is None:
            raise AudioDeviceError(unavailable_reason() or "audio unavailable")
        self._loop = asyncio.get_running_loop()
        fmt = stream_format(sd, self._device, "output", self._requested_rate)
        self.device_rate = fmt.rate
        self.channels = min(fmt.max_channels, 2)
        self._buffer = PlaybackBuffer(self.device_rate, self._capacity_seconds, self._policy)
        self._stream_clock = StreamClock(self.device_rate, jump_s=0.04)
        block = max(1, self.device_rate * self._block_ms // 1000)
        self._scratch = np.zeros(block * 8, dtype=np.float32)
        self._stream = start_stream(
            sd.OutputStream, fmt, "output", self._set_clock_offset, device=self._device,
            channels=self.channels, blocksize=block, callback=self._callback, finished_callback=self._on_finished)
        self.output_latency = float(self._stream.latency)

    def _set_clock_offset(self, offset: float) -> None:
        self._offset = offset

    async def close(self) -> None:
        self._closed = True
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):  # a vanished device may refuse; nothing to do
                with quiet_stderr():
                    stream.abort()
                    stream.close()

    # --- producer side ---------------------------------------------------------------------
    def write(self, pcm: bytes, rate: int | None = None) -> None:
        if self._closed or self._failed or not pcm:
            return
        src_rate = rate or self.rate
        if self._resampler is None or self._resampler.in_rate != src_rate:
            self._resampler = PolyphaseResampler(src_rate, self.device_rate)
        self._buffer.write(self._resampler.process(pcm16_to_float(pcm)), time.monotonic())

    def flush(self) -> float:
        if self.device_rate == 0:  # never started
            return 0.0
        dropped = self._buffer.flush()
        if self._resampler is not None:
            self._resampler.reset()
        return dropped / self.device_rate

    async def drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._failed and self._stream is not None:
            if self._buffer.buffered_samples == 0:
                return
            await asyncio.sleep(0.01)

    def add_tap(self, tap: PlaybackTap) -> None:
        self._taps.append(tap)

    def remove_tap(self, tap: PlaybackTap) -> None:
        if tap in self._taps:
            self._taps.remove(tap)

    # --- audio thread ------------------------------------------------------------------
    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        try:
            self.callback_thread.on_callback()
            if status and status.output_underflow:
                self.device_underflows += 1
                self._stream_clock.restart()  # the device played silence we did not count
            if frames > self._scratch.size:
                self._scratch = np.zeros(frames, dtype=np.float32)
            block = self._scratch[:frames]
            now = time.monotonic()
            result = self._buffer.read(block, now)
            if not result.real:  # silence: one pass over the device buffer
                outdata.fill(0)
                if self._last_block.size:
                    self._last_block = block[:0]
                self._play_time(time_info, frames, now)  # the stream clock counts silent blocks too
                return
            outdata[:] = block[:, None]
            # the meter reads the block in place (the next callback overwrites it: a meter
            # does not mind); only taps, which run later on the loop, get a copy
            self._last_block = block[: result.real]
            if result.started:
                self.last_run_start = now
            self.last_audible_callback = time.monotonic()
            t_play = self._play_time(time_info, frames, now)
            if self._taps and self._loop is not None:
                self._loop.call_soon_threadsafe(self._dispatch, self._last_block.copy(), t_play)
        except Exception:  # noqa: BLE001 - never raise into PortAudio; play silence instead
            with contextlib.suppress(Exception):
                outdata.fill(0)

    def _play_time(self, time_info: Any, frames: int, now: float) -> float:
        """When this block's first sample reaches the DAC: the stream's own sample count
        (``StreamClock``), anchored on the reported DAC times (taps align on it)."""
        dac = float(time_info.outputBufferDacTime)
        reported = dac - self._offset if dac > 0 else now + self.output_latency
        return self._stream_clock.advance(reported, frames)

    def _on_finished(self) -> None:
        if self._closed:
            return
        try:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._mark_failed, "output device stopped")
                return
        except RuntimeError:
            pass
        self._mark_failed("output device stopped")

    # --- event loop ---------------------------------------------------------------------
    def _dispatch(self, block: np.ndarray[Any, np.dtype[np.float32]], t_play: float) -> None:
        pcm = float_to_pcm16(block)
        for tap in list(self._taps):
            try:
                tap(pcm, self.device_rate, t_play)
            except Exception:  # noqa: BLE001 - a faulty tap must not stop playback
                self.remove_tap(tap)

    def _mark_failed(self, why: str) -> None:
        if not self._failed and not self._closed:
            self._failed = True
            self._notice = f"speaker lost ({why}); continuing without audio output"

    # --- properties ---------------------------------------------------------------------
    @property
    def played_seconds(self) -> float:
        return self._buffer.played_samples / self.device_rate if self.device_rate else 0.0

    @property
    def buffered_seconds(self) -> float:
        return self._buffer.buffered_samples / self.device_rate if self.device_rate else 0.0

    @property
    def level_db(self) -> float:
        return float_rms_db(self._last_block)

    @property
    def underruns(self) -> int:
        """Times the buffer ran dry in the middle of a stream of agent audio."""
        return self._buffer.underruns

    @property
    def run_starts(self) -> list[float]:
        """``time.monotonic()`` of the callbacks that started recent playback runs."""
        return list(self._buffer.run_starts)

    @property
    def audible(self) -> bool:
        if self._buffer.buffered_samples > 0:
            return True
        return time.monotonic() - self.last_audible_callback < self.output_latency + 0.02

    @property
    def failed(self) -> bool:
        return self._failed

    @property
    def notice(self) -> str | None:
        return self._notice
