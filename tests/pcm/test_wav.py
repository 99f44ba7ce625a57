"""PCM16 WAV bytes: written with the canonical header, read back by the standard library."""

from __future__ import annotations

import io
import wave

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicecli.pcm.wav import HEADER_BYTES, WavError, read_wav_bytes, wav_bytes, wav_header


@given(st.binary(max_size=600), st.sampled_from([8000, 16000, 22050, 44100]), st.sampled_from([1, 2]))
def test_round_trip(payload: bytes, rate: int, channels: int) -> None:
    pcm = payload[: len(payload) - len(payload) % (2 * channels)]
    data = wav_bytes(pcm, rate, channels)
    assert len(data) == HEADER_BYTES + len(pcm)
    assert read_wav_bytes(data) == (pcm, rate, channels)
    with wave.open(io.BytesIO(data)) as reader:  # what the standard library reads too
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (rate, channels, 2)


def test_header_fields() -> None:
    header = wav_header(16000, 1, 320)
    assert header[:4] == b"RIFF" and header[8:16] == b"WAVEfmt " and header[36:40] == b"data"
    assert int.from_bytes(header[4:8], "little") == 36 + 320
    assert int.from_bytes(header[28:32], "little") == 32000  # bytes per second


def test_other_data_is_a_one_line_error() -> None:
    with pytest.raises(WavError, match="not a PCM WAV file"):
        read_wav_bytes(b"not a wav at all")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80" * 8)
    with pytest.raises(WavError, match="8-bit"):
        read_wav_bytes(out.getvalue())
