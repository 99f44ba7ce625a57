"""Offline speech synthesis with hibari's bundled English voice (24 kHz)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from voicecli.pcm.convert import float_to_pcm16

RATE = 24000
DEFAULT_VOICE = "heart"  # the one voice inside the package; the others would need a download


class HibariSynthesizer:
    """A :class:`~voicecli.agent.interfaces.Synthesizer`: one sentence → PCM16 mono at 24 kHz.

    The model and its pronunciation dictionary are loaded once in the constructor (and warmed
    up, so the first real sentence is fast). Only voices already on disk are used: a voice
    that would have to be downloaded raises ``FileNotFoundError`` instead.
    """

    name = "hibari"
    rate = RATE

    def __init__(
        self,
        voice: str = DEFAULT_VOICE,
        *,
        speed: float = 1.0,
        threads: int = 1,
        seed: int | None = None,
        warm_up: bool = True,
    ) -> None:
        from hibari import Hibari
        from hibari.voices import voice_path

        self.voice = voice
        self.speed = speed
        self.seed = seed
        model = voice_path(voice, download_missing=False)
        self._tts: Any = Hibari(voice=voice, model=model, threads=threads)
        self._lock = threading.Lock()
        if warm_up:
            self.synthesize("Ready.")

    def synthesize(self, text: str) -> bytes:
        if not text.strip():
            return b""
        with self._lock:
            audio = np.asarray(self._tts(text, self.speed, self.seed), dtype=np.float32)
        return float_to_pcm16(audio)

