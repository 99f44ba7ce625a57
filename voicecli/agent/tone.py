"""The fallback voice: a deterministic, clearly audible tone pattern instead of speech.

Each word becomes a short beep whose pitch depends on the word and whose length grows
with it; sentence punctuation adds a longer pause. The result is as long as the text
would roughly take to say, so pacing, barge-in and transcripts behave as with speech.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from voicecli.pcm.convert import float_to_pcm16

RATE = 24000
WORD_BASE_MS = 70
CHAR_MS = 35
GAP_MS = 40
PAUSE_MS = 160
FADE_MS = 6
AMPLITUDE = 0.3

_WORD = re.compile(r"\S+")


def _beep(freq: float, ms: float, rate: int) -> np.ndarray:
    n = max(1, int(rate * ms / 1000))
    t = np.arange(n, dtype=np.float64) / rate
    wave = np.sin(2 * np.pi * freq * t) * AMPLITUDE
    fade = min(n // 2, int(rate * FADE_MS / 1000))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        wave[:fade] *= ramp
        wave[-fade:] *= ramp[::-1]
    return wave


def tone_pattern(text: str, rate: int = RATE) -> bytes:
    """PCM16 mono at ``rate`` for ``text`` (silence-free for any non-empty text)."""
    parts: list[np.ndarray] = []
    for word in _WORD.findall(text):
        letters = sum(ch.isalnum() for ch in word) or 1
        freq = 330.0 + (zlib.crc32(word.lower().encode()) % 12) * 45.0
        parts.append(_beep(freq, WORD_BASE_MS + CHAR_MS * min(letters, 12), rate))
        pause = PAUSE_MS if word[-1] in ".!?;:," else GAP_MS
        parts.append(np.zeros(int(rate * pause / 1000)))
    if not parts:
        return b""
    samples = np.concatenate(parts)
    return float_to_pcm16(samples)


class ToneSynthesizer:
    """A :class:`~voicecli.agent.voice_contracts.Synthesizer` that plays tones for text."""

    name = "tone"

    def __init__(self, rate: int = RATE) -> None:
        self.rate = rate

    def synthesize(self, text: str) -> bytes:
        return tone_pattern(text, self.rate)
