"""Speech for ``say`` turns: the offline voice (hibari, the local agent's TTS) turns text
into a clip once per text and process; every later turn, scenario or load session saying
the same words reuses the clip."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from voicecli.errors import UsageError
from voicecli.pcm.convert import FloatArray

LEAD_S = 0.2  # quiet before the words, as a person draws breath
_cache: dict[str, tuple[FloatArray, int]] = {}
_lock = threading.Lock()
_synth: object | None = None


def speak(text: str) -> tuple[FloatArray, int]:
    """``text`` spoken by the offline voice: float samples in [-1, 1] and their rate."""
    with _lock:
        clip = _cache.get(text)
        if clip is None:
            pcm, rate = _synthesizer().synthesize(text), _synthesizer().rate
            words = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
            clip = (np.concatenate([np.zeros(int(LEAD_S * rate), np.float32), words]), rate)
            _cache[text] = clip
        return clip


def _synthesizer() -> Any:
    global _synth
    if _synth is None:
        try:
            from voicecli.agent.speech.tts import HibariSynthesizer

            _synth = HibariSynthesizer()
        except (ImportError, FileNotFoundError) as exc:
            raise UsageError(f"say turns need the offline voice (pip install 'voicecli[local]'): {exc}") from None
    return _synth
