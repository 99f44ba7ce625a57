"""PCM16 WAV files as bytes: a complete file, the canonical 44-byte header, and a reader."""

from __future__ import annotations

import io
import struct
import wave

HEADER_BYTES = 44


class WavError(ValueError):
    """The bytes are not a PCM16 WAV file."""


def wav_header(rate: int, channels: int, data_len: int) -> bytes:
    """The canonical RIFF/WAVE header for ``data_len`` bytes of PCM16 audio."""
    block_align = channels * 2
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_len)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block_align, block_align, 16)
        + b"data"
        + struct.pack("<I", data_len)
    )


def wav_bytes(pcm: bytes, rate: int, channels: int = 1) -> bytes:
    """A complete in-memory PCM16 WAV file (``pcm`` interleaved when ``channels`` > 1)."""
    return wav_header(rate, channels, len(pcm)) + pcm


def read_wav_bytes(data: bytes) -> tuple[bytes, int, int]:
    """A PCM16 WAV file's ``(pcm, rate, channels)``. Raises ``WavError`` for anything else."""
    try:
        with wave.open(io.BytesIO(data)) as reader:
            if reader.getsampwidth() != 2:
                raise WavError(f"{8 * reader.getsampwidth()}-bit WAV, expected 16-bit PCM")
            return reader.readframes(reader.getnframes()), reader.getframerate(), reader.getnchannels()
    except (wave.Error, EOFError) as exc:
        raise WavError(f"not a PCM WAV file ({exc or 'truncated'})") from None
