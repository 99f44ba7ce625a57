"""Offline speech synthesis with hibari's bundled English voice (24 kHz).

A process loads each voice's model once (:func:`shared_model`): every synthesizer of that
voice uses it, one sentence at a time under the model's lock (a process that starts several
local agents, the test suite's workers among them, pays for one load and one warm-up).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicecli.pcm.convert import float_to_pcm16

RATE = 24000
DEFAULT_VOICE = "heart"  # the one voice inside the package; the others would need a download
ORT_TELEMETRY_ENV = "ORT_DISABLE_TELEMETRY"  # onnxruntime's opt-out of its usage telemetry


@dataclass
class SharedModel:
    """A loaded model, the lock its synthesis runs under, and whether it was warmed up."""

    model: Any
    lock: threading.Lock = field(default_factory=threading.Lock)
    warm: bool = False


_models: dict[tuple[str, int], SharedModel] = {}
_loading = threading.Lock()


def shared_model(voice: str, threads: int, load: Callable[[], Any]) -> SharedModel:
    """This process's model for ``(voice, threads)``, loaded by ``load()`` the first time."""
    with _loading:
        shared = _models.get((voice, threads))
        if shared is None:
            shared = _models[(voice, threads)] = SharedModel(load())
        return shared


class HibariSynthesizer:
    """A :class:`~voicecli.agent.voice_contracts.Synthesizer`: one sentence → PCM16 mono at 24 kHz.

    The model and its pronunciation dictionary are loaded by the first synthesizer of a voice
    in the process (and warmed up, so the first real sentence is fast), then shared. Only
    voices already on disk are used: a voice that would have to be downloaded raises
    ``FileNotFoundError`` instead.
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
        # hibari runs on onnxruntime, whose Linux and macOS builds (1.29 on) write a device id
        # and a telemetry store under the user's cache folder and send usage events to
        # Microsoft unless this is set before it starts: an offline agent sends nothing (a
        # user who sets the variable to 0 keeps their choice)
        os.environ.setdefault(ORT_TELEMETRY_ENV, "1")
        from hibari import Hibari
        from hibari.voices import voice_path

        self.voice = voice
        self.speed = speed
        self.seed = seed
        shared = shared_model(voice, threads, lambda: Hibari(
            voice=voice, model=voice_path(voice, download_missing=False), threads=threads))
        self._tts: Any = shared.model
        self._lock = shared.lock
        if warm_up and not shared.warm:
            self.synthesize("Ready.")
            shared.warm = True

    def synthesize(self, text: str) -> bytes:
        if not text.strip():
            return b""
        with self._lock:
            audio = np.asarray(self._tts(text, self.speed, self.seed), dtype=np.float32)
        return float_to_pcm16(audio)

