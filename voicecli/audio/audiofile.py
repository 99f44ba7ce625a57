"""Audio files read with libsndfile (``soundfile``): every common WAV subtype (PCM 8-32
bit, float, µ-law, A-law, WAVE_FORMAT_EXTENSIBLE), FLAC and OGG/Vorbis.

Whatever a file holds, reading it either gives samples at a usable rate or raises a
one-line :class:`~voicecli.errors.UsageError`: a missing or unreadable file, an unknown
format, a sample rate outside :data:`MIN_RATE`..:data:`MAX_RATE` (a header that claims
2**31 Hz would make resampling run for minutes), and, for a clip the user gives as a turn,
a file with no audio in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt
import soundfile

from voicecli.errors import UsageError

MIN_RATE = 1000
MAX_RATE = 384_000
MAX_CHANNELS = 32


def read_audio(source: str | Path | IO[bytes], name: str | None = None) -> tuple[npt.NDArray[np.float32], int]:
    """An audio file as ``(float32 (frames, channels), rate)``; raises UsageError."""
    label = name or (str(source) if isinstance(source, (str, Path)) else "audio data")
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise UsageError(f"audio file not found: {label}")
        if not path.is_file():
            raise UsageError(f"not an audio file (a directory?): {label}")
    try:
        with soundfile.SoundFile(source if not isinstance(source, Path) else str(source)) as sf:
            rate, channels = sf.samplerate, sf.channels
            _check_header(label, rate, channels)
            data = sf.read(dtype="float32", always_2d=True)
    except soundfile.LibsndfileError as exc:
        raise UsageError(f"cannot read audio file {label}: {_reason(exc)}") from None
    except (RuntimeError, TypeError, ValueError, EOFError) as exc:
        raise UsageError(f"cannot read audio file {label}: {str(exc)[:120] or exc.__class__.__name__}") from None
    except PermissionError:
        raise UsageError(f"cannot read audio file {label}: permission denied") from None
    except OSError as exc:
        raise UsageError(f"cannot read audio file {label}: {exc.strerror or exc.__class__.__name__}") from None
    return np.ascontiguousarray(data, dtype=np.float32), rate


def load_clip(path: str | Path) -> tuple[npt.NDArray[np.float32], int]:
    """A clip given as a turn, as mono float32 at the file's rate: it must hold audio."""
    data, rate = read_audio(path)
    if data.shape[0] == 0:
        raise UsageError(f"audio file {path} holds no audio (0 frames)")
    mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else np.ascontiguousarray(data[:, 0])
    return mono, rate


def _check_header(label: str, rate: int, channels: int) -> None:
    if not MIN_RATE <= rate <= MAX_RATE:
        raise UsageError(f"audio file {label} has an unusable sample rate ({rate} Hz; "
                         f"expected {MIN_RATE}..{MAX_RATE})")
    if not 1 <= channels <= MAX_CHANNELS:
        raise UsageError(f"audio file {label} has an unusable channel count ({channels})")


def _reason(exc: soundfile.LibsndfileError) -> str:
    text = str(getattr(exc, "error_string", "") or exc).strip()
    first = text.splitlines()[0] if text else "unknown format"
    return first[:160]
