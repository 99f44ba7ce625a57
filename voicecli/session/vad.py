"""A small energy voice-activity detector for client-side turn ends and latency marks."""

from __future__ import annotations

from voicecli.audio.levels import SILENCE_DB, rms_db

__all__ = ["SILENCE_DB", "EnergyVad", "rms_db"]


class EnergyVad:
    """Speech starts after ``min_speech_ms`` above ``threshold_db`` and ends after
    ``hangover_ms`` below it. ``feed`` returns "speech_start"/"speech_end" markers."""

    def __init__(self, frame_ms: int = 20, threshold_db: float = -40.0, hangover_ms: int = 600,
                 min_speech_ms: int = 60) -> None:
        self.frame_ms = frame_ms
        self.threshold_db = threshold_db
        self.hangover_frames = max(1, hangover_ms // frame_ms)
        self.min_frames = max(1, min_speech_ms // frame_ms)
        self.speaking = False
        self._loud = 0
        self._quiet = 0
        self.voiced = False  # the last frame was above the threshold

    def feed(self, pcm: bytes) -> list[str]:
        loud = rms_db(pcm) >= self.threshold_db
        self.voiced = loud
        if not self.speaking:
            self._loud = self._loud + 1 if loud else 0
            if self._loud >= self.min_frames:
                self.speaking = True
                self._quiet = 0
                return ["speech_start"]
            return []
        if loud:
            self._quiet = 0
            return []
        self._quiet += 1
        if self._quiet >= self.hangover_frames:
            self.speaking = False
            self._loud = 0
            return ["speech_end"]
        return []

    @property
    def hangover_s(self) -> float:
        return self.hangover_frames * self.frame_ms / 1000

    def reset(self) -> None:
        self.speaking = False
        self._loud = 0
        self._quiet = 0
