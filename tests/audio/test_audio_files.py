"""Audio files through libsndfile: every common WAV subtype, FLAC and OGG are read; files
that cannot be used are one-line usage errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from voicecli.audio.audiofile import load_clip, read_audio
from voicecli.audio.wav import read_wav_mono
from voicecli.errors import UsageError

RATE = 16000


def tone(seconds: float = 0.25) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * RATE)) / RATE)).astype(np.float32)


@pytest.mark.parametrize(("name", "fmt", "subtype", "rate"), [
    ("float32.wav", "WAV", "FLOAT", RATE), ("double.wav", "WAV", "DOUBLE", RATE),
    ("ulaw.wav", "WAV", "ULAW", 8000), ("alaw.wav", "WAV", "ALAW", 8000),
    ("pcm24.wav", "WAV", "PCM_24", RATE), ("pcm_u8.wav", "WAV", "PCM_U8", RATE),
    ("extensible.wav", "WAVEX", "PCM_16", RATE), ("extensible-float.wav", "WAVEX", "FLOAT", 48000),
    ("clip.flac", "FLAC", "PCM_16", RATE), ("clip.ogg", "OGG", "VORBIS", RATE),
])
def test_common_subtypes_are_read(tmp_path: Path, name: str, fmt: str, subtype: str, rate: int) -> None:
    samples = tone()
    soundfile.write(tmp_path / name, np.column_stack([samples, samples]), rate, format=fmt, subtype=subtype)
    mono, got_rate = load_clip(tmp_path / name)
    assert got_rate == rate and mono.ndim == 1 and abs(mono.size - samples.size) <= 2048
    assert 0.3 < float(np.max(np.abs(mono))) < 0.7  # the tone, at its level
    resampled, new_rate = read_wav_mono(tmp_path / name, 24000)
    assert new_rate == 24000 and resampled.size > 0


def test_a_file_with_no_frames_is_refused_as_a_clip_but_reads_as_empty(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), RATE)
    data, rate = read_audio(tmp_path / "empty.wav")
    assert data.shape[0] == 0 and rate == RATE
    with pytest.raises(UsageError, match=r"holds no audio \(0 frames\)"):
        load_clip(tmp_path / "empty.wav")


@pytest.mark.parametrize("rate", [999, 400_000])
def test_an_unusable_rate_is_refused(tmp_path: Path, rate: int) -> None:
    soundfile.write(tmp_path / "odd.wav", tone(0.01), rate)
    with pytest.raises(UsageError, match="unusable sample rate"):
        read_audio(tmp_path / "odd.wav")
