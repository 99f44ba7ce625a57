"""WAV files: read any audio file as mono float at a chosen rate (libsndfile, see
:mod:`voicecli.audio.audiofile`), write PCM16, and an incremental writer whose header is
kept valid while it grows."""

from __future__ import annotations

import struct
import wave
from pathlib import Path
from typing import IO, BinaryIO

import numpy as np
import numpy.typing as npt

from voicecli.audio.audiofile import read_audio
from voicecli.audio.resample import resample
from voicecli.pcm.convert import FloatArray, float_to_pcm16
from voicecli.pcm.wav import wav_header


def read_wav(path: str | Path | IO[bytes]) -> tuple[npt.NDArray[np.float32], int]:
    """An audio file (any WAV subtype, FLAC, OGG; see :mod:`voicecli.audio.audiofile`) as
    ``(float32 (frames, channels), rate)``. Raises UsageError."""
    return read_audio(path)


def read_wav_mono(path: str | Path, rate: int | None = None) -> tuple[FloatArray, int]:
    """A WAV file downmixed to mono and, if ``rate`` is given, resampled to it."""
    data, src_rate = read_wav(path)
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else np.ascontiguousarray(data[:, 0])
    if rate is None or rate == src_rate:
        return mono, src_rate
    return resample(mono, src_rate, rate), rate


def write_wav(path: str | Path, pcm: bytes, rate: int, channels: int = 1) -> None:
    """Write PCM16 little-endian bytes (interleaved when ``channels`` > 1)."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)


class IncrementalWavWriter:
    """A PCM16 WAV file written in pieces. ``sync()`` patches the header sizes and flushes
    to the OS, so a crash leaves a playable file holding everything written before it."""

    def __init__(self, path: str | Path, rate: int, channels: int = 1) -> None:
        self.path = Path(path)
        self.rate = rate
        self.channels = channels
        self._data_len = 0
        self._synced_len = -1
        self._fh: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._fh.write(wav_header(rate, channels, 0))
        self._fh.flush()

    @property
    def frames_written(self) -> int:
        return self._data_len // (2 * self.channels)

    def write(self, samples: npt.NDArray[np.floating] | bytes) -> None:
        """Append float samples (shape ``(n,)`` or ``(n, channels)``) or PCM16 bytes."""
        if self._fh is None:
            return
        data = samples if isinstance(samples, bytes) else float_to_pcm16(samples)
        self._fh.write(data)
        self._data_len += len(data)

    def sync(self) -> None:
        fh = self._fh
        if fh is None or self._synced_len == self._data_len:
            return
        fh.seek(4)
        fh.write(struct.pack("<I", 36 + self._data_len))
        fh.seek(40)
        fh.write(struct.pack("<I", self._data_len))
        fh.seek(0, 2)
        fh.flush()
        self._synced_len = self._data_len

    def close(self) -> None:
        if self._fh is not None:
            self.sync()
            self._fh.close()
            self._fh = None
