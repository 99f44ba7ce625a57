"""Microphone capture: 10 ms PortAudio input blocks -> mono -> session rate -> frames of the
provider's size (20 ms by default) -> asyncio."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from voicecli.audio.base import FRAME_MS
from voicecli.audio.devices import load_sounddevice, quiet_stderr, start_stream, stream_format, unavailable_reason
from voicecli.audio.framer import Frame
from voicecli.audio.pipeline import CapturePipeline
from voicecli.audio.realtime import CallbackThread
from voicecli.errors import AudioDeviceError
from voicecli.pcm.levels import SILENCE_DB, mean_square_db, window_mean_squares


class DeviceCapture:
    """A ``CaptureStream`` on a PortAudio input device.

    The callback feeds a ``CapturePipeline`` (downmix, resample, cut frames) and hands whole
    frames to the event loop. The queue between them is bounded: when the consumer falls behind, the oldest
    frames are dropped (``overflows`` counts them); the callback never waits.
    """

    def __init__(
        self,
        rate: int,
        frame_ms: int = FRAME_MS,
        *,
        device: int | None = None,
        device_rate: int | None = None,
        channels: int | None = None,
        block_ms: int = 10,
        max_queue_frames: int = 50,
        stall_check_s: float = 1.0,
    ) -> None:
        self.rate = rate
        self.frame_ms = frame_ms
        self._device = device
        self._requested_rate = device_rate
        self._requested_channels = channels
        self._block_ms = block_ms
        self._stall_check_s = stall_check_s
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=max_queue_frames)
        self._stream: Any = None
        self._watchdog_handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._offset = 0.0
        self._closed = False
        self._failed = False
        self._notice: str | None = None
        self._last_capture_time = 0.0
        self._level_db: float | None = SILENCE_DB
        self._squares: tuple[int, list[float]] | None = None  # (window samples, mean squares)
        self._last_frame = Frame(b"", 0.0)
        self.device_rate = 0
        self.channels = 0
        self.overflows = 0
        """Frames dropped (oldest first) because the consumer fell behind."""
        self.device_overflows = 0
        """Blocks the device reported as overflowed (PortAudio status flag)."""
        self.callbacks = 0
        self.callback_thread = CallbackThread()

    # --- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        sd = load_sounddevice()
        if sd is None:
            raise AudioDeviceError(unavailable_reason() or "audio unavailable")
        self._loop = asyncio.get_running_loop()
        fmt = stream_format(sd, self._device, "input", self._requested_rate)
        self.device_rate = fmt.rate
        # Mono and stereo microphones are covered by the first two channels; opening all
        # 32 channels of a sound server's virtual device would only cost CPU.
        self.channels = min(self._requested_channels or fmt.max_channels, 2)
        self._pipeline = CapturePipeline(self.device_rate, self.channels, self.rate, self.frame_ms)
        self._stream = start_stream(
            sd.InputStream, fmt, "input", self._set_clock_offset, device=self._device, channels=self.channels,
            blocksize=self.device_rate * self._block_ms // 1000, callback=self._callback,
            finished_callback=self._on_finished)
        self._watchdog_handle = self._loop.call_later(self._stall_check_s, self._watchdog)

    def _set_clock_offset(self, offset: float) -> None:
        self._offset = offset

    async def close(self) -> None:
        self._closed = True
        if self._watchdog_handle is not None:
            self._watchdog_handle.cancel()
            self._watchdog_handle = None
        if not self._queue.full():  # wake up a consumer waiting in frames()
            self._queue.put_nowait(Frame(b"", 0.0))
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):  # a vanished device may refuse; nothing to do
                with quiet_stderr():
                    stream.abort()
                    stream.close()

    # --- audio thread ------------------------------------------------------------------
    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # The pipeline resamples and cuts a frame only every other 10 ms block (a 20 ms frame
        # is two blocks); the event loop is woken only when a whole frame is ready.
        try:
            self.callback_thread.on_callback()
            self.callbacks += 1
            if status and status.input_overflow:
                self.device_overflows += 1
            adc = float(time_info.inputBufferAdcTime)
            if adc <= 0.0:
                adc = float(time_info.currentTime) - frames / self.device_rate
            ready = self._pipeline.feed(indata, adc - self._offset)
            loop = self._loop
            if ready and loop is not None and not self._closed:
                loop.call_soon_threadsafe(self._deliver, ready)
        except Exception:  # noqa: BLE001, S110 - never raise into PortAudio (loop closed, ...)
            pass

    def _on_finished(self) -> None:
        if not self._closed:
            loop = self._loop
            try:
                if loop is not None:
                    loop.call_soon_threadsafe(self._mark_failed, "input device stopped")
            except RuntimeError:
                self._mark_failed("input device stopped")

    # --- event loop ---------------------------------------------------------------------
    def _deliver(self, frames: list[Frame]) -> None:
        for frame in frames:
            if self._queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    self._queue.get_nowait()
                    self.overflows += 1
            self._queue.put_nowait(frame)

    def _mark_failed(self, why: str) -> None:
        if not self._failed and not self._closed:
            self._failed = True
            self._notice = f"microphone lost ({why}); continuing without it"
            if not self._queue.full():  # wake up frames()
                self._queue.put_nowait(Frame(b"", 0.0))

    async def frames(self) -> AsyncIterator[bytes]:
        """Exact frames at ``rate``. Ends when the stream is closed; raises
        ``AudioDeviceError`` once (and ``failed`` turns True) if the device goes away."""
        while not self._closed:
            if self._failed:
                raise AudioDeviceError(self._notice or "microphone lost")
            frame = await self._queue.get()
            if not frame.pcm or self._closed:
                continue
            self._last_capture_time = frame.start_time
            self._last_frame = frame
            self._level_db = None  # computed when asked (meters poll far less often than 50 Hz)
            self._squares = None
            yield frame.pcm

    def _watchdog(self) -> None:
        """Every ``stall_check_s``: is the stream still running? (One timer, not one per frame.)"""
        self._watchdog_handle = None
        if self._closed or self._failed or self._loop is None:
            return
        self._check_alive()
        if not self._failed:
            self._watchdog_handle = self._loop.call_later(self._stall_check_s, self._watchdog)

    def _check_alive(self) -> None:
        stream = self._stream
        if stream is None or self._closed:
            return
        try:
            active = bool(stream.active)
        except Exception:  # noqa: BLE001
            active = False
        if not active:
            self._mark_failed("input stream stopped")

    # --- properties ---------------------------------------------------------------------
    @property
    def last_capture_time(self) -> float:
        return self._last_capture_time

    def window_levels_db(self, window_ms: int) -> list[float] | None:
        """Levels of the last frame's consecutive ``window_ms`` windows, measured once on its
        float samples (the VAD's and the meter's one measurement); None when the frame is not
        a whole number of windows."""
        squares = self._window_squares(self.rate * window_ms // 1000)
        return None if squares is None else [mean_square_db(v) for v in squares]

    def _window_squares(self, window: int) -> list[float] | None:
        samples = self._last_frame.samples
        if window <= 0 or samples.size == 0 or samples.size % window:
            return None
        if self._squares is None or self._squares[0] != window:
            self._squares = (window, window_mean_squares(samples, window).tolist())
        return self._squares[1]

    @property
    def level_db(self) -> float:
        if self._level_db is None:
            squares = self._window_squares(self.rate // 100) or self._window_squares(self._last_frame.samples.size)
            self._level_db = mean_square_db(sum(squares) / len(squares)) if squares else SILENCE_DB
        return self._level_db

    @property
    def finished(self) -> bool:
        return False

    @property
    def failed(self) -> bool:
        return self._failed

    @property
    def notice(self) -> str | None:
        return self._notice
