"""Session recording: one stereo WAV, microphone on the left, agent audio (as played) on
the right, placed on a common ``time.monotonic()`` timeline.

The file grows as the session runs; its header is patched and the file flushed at least
every ``sync_every`` seconds, so a crash loses at most the last second.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voicecli.audio.base import TappablePlayback
from voicecli.audio.resample import StreamResampler
from voicecli.audio.wav import IncrementalWavWriter
from voicecli.pcm.convert import pcm16_to_float

_GAP_TOLERANCE_S = 0.03
"""Audio arriving up to this much after where its channel ends is appended back to back;
later audio is preceded by silence."""
_HORIZON_S = 0.5
"""Channels are padded with silence up to this long before now, then written out."""


class _Track:
    """One channel: a resampler into the file rate and the samples not yet written."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.resampler: StreamResampler | None = None
        self.pending: list[npt.NDArray[np.float32]] = []
        self.pending_len = 0
        self.end = 0
        """File position (in samples) just after this track's last sample."""

    def add(self, pcm: bytes, rate: int, start_time: float, t0: float) -> None:
        if self.resampler is None or self.resampler.in_rate != rate:
            self.resampler = StreamResampler(rate, self.rate)
        samples = pcm16_to_float(pcm)
        out = self.resampler.process(samples)
        if out.size == 0:
            return
        end_time = start_time + samples.size / rate - self.resampler.pending_seconds
        pos = round((end_time - t0) * self.rate) - int(out.size)
        if pos > self.end + _GAP_TOLERANCE_S * self.rate:
            self.pad_to(pos)
        self.pending.append(out)
        self.pending_len += int(out.size)
        self.end += int(out.size)

    def pad_to(self, pos: int) -> None:
        if pos > self.end:
            self.pending.append(np.zeros(pos - self.end, dtype=np.float32))
            self.pending_len += pos - self.end
            self.end = pos

    def take(self, n: int) -> npt.NDArray[np.float32]:
        data = np.concatenate(self.pending) if self.pending else np.zeros(0, dtype=np.float32)
        head, rest = data[:n], data[n:]
        self.pending = [rest] if rest.size else []
        self.pending_len = int(rest.size)
        return head


class Recorder:
    """Records a session into ``directory`` as ``voicecli-YYYYmmdd-HHMMSS.wav``.

    Call ``mic(frame, rate)`` with each microphone frame as sent, and ``played(pcm, rate,
    t)`` with agent audio as played (``attach_playback(stream)`` wires a playback stream's
    tap to it). ``rate`` is the file's rate (default: the first audio's rate). The calls
    may come from different threads (the speaker's tap, the app stopping the recording).
    """

    def __init__(
        self,
        directory: str | Path,
        rate: int | None = None,
        *,
        name: str | None = None,
        sync_every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.path = self.directory / (name or f"voicecli-{stamp}.wav")
        self.rate = rate
        self.sync_every = sync_every
        self._clock = clock
        self._t0: float | None = None
        self._writer: IncrementalWavWriter | None = None
        self._tracks: tuple[_Track, _Track] | None = None
        self._last_sync = clock()
        self._closed = False
        self._lock = threading.RLock()
        atexit.register(self.close)  # finish the file even if the owner never calls close()

    # --- inputs -----------------------------------------------------------------------
    def mic(self, frame: bytes, rate: int, t: float | None = None) -> None:
        """A microphone frame as sent; ``t`` is its first sample's time (default: it ends now)."""
        start = t if t is not None else self._clock() - len(frame) / 2 / rate
        self._add(0, frame, rate, start)

    def played(self, pcm: bytes, rate: int, t: float) -> None:
        """Agent audio as it reached the speaker; ``t`` is its first sample's time."""
        self._add(1, pcm, rate, t)

    def attach_playback(self, playback: object) -> bool:
        """Record what ``playback`` plays, if it offers a tap. Returns whether it did."""
        if isinstance(playback, TappablePlayback):
            playback.add_tap(self.played)
            return True
        return False

    def _add(self, channel: int, pcm: bytes, rate: int, start: float) -> None:
        with self._lock:
            self._add_locked(channel, pcm, rate, start)

    def _add_locked(self, channel: int, pcm: bytes, rate: int, start: float) -> None:
        if self._closed or not pcm:
            return
        if self._tracks is None:
            self.rate = self.rate or rate
            self._t0 = start
            self._tracks = (_Track(self.rate), _Track(self.rate))
            self._writer = IncrementalWavWriter(self.path, self.rate, channels=2)
        assert self._t0 is not None
        self._tracks[channel].add(pcm, rate, max(start, self._t0), self._t0)
        now = self._clock()
        if now - self._last_sync >= self.sync_every:
            self.flush(now)

    # --- output -----------------------------------------------------------------------
    def flush(self, now: float | None = None, final: bool = False) -> None:
        """Write out everything up to shortly before ``now`` (everything if ``final``)."""
        with self._lock:
            self._flush(now, final)

    def _flush(self, now: float | None, final: bool) -> None:
        tracks, writer = self._tracks, self._writer
        if tracks is None or writer is None or self._t0 is None or self.rate is None:
            return
        now = self._clock() if now is None else now
        if final:
            horizon = max(t.end for t in tracks)
        else:
            horizon = int((now - self._t0 - _HORIZON_S) * self.rate)
        for track in tracks:
            track.pad_to(horizon)
        written = writer.frames_written
        n = min(t.end for t in tracks) - written
        if n > 0:
            left, right = tracks[0].take(n), tracks[1].take(n)
            writer.write(np.column_stack((left, right)))
        writer.sync()
        self._last_sync = now

    def close(self) -> Path | None:
        """Finish the file; returns its path (``None`` if nothing was recorded)."""
        with self._lock:
            return self._close()

    def _close(self) -> Path | None:
        if self._closed:
            return self.path if self._writer is not None else None
        self._flush(None, final=True)
        self._closed = True
        atexit.unregister(self.close)
        if self._writer is None:
            return None
        self._writer.close()
        return self.path
