"""Energy voice-activity detection (numpy only), for the client's turn marks and the local
agent's turn-taking.

The audio is judged in 10 ms windows whatever the size of the frames fed in:

- speech starts after ``min_speech_ms`` of consecutive windows louder than the threshold
  (shorter bursts, such as clicks, are ignored);
- speech ends after ``hangover_ms`` of consecutive quieter windows.

With ``adaptive=True`` the threshold also rises to ``margin_db`` above a tracked noise floor
(it follows quiet levels at once and louder ones over a few seconds), so steady background
noise does not count as speech.
"""

from __future__ import annotations

from collections.abc import Iterable

from voicecli.pcm.levels import SILENCE_DB, pcm16_window_levels_db

SPEECH_START = "speech_start"
SPEECH_END = "speech_end"
WINDOW_MS = 10


class EnergyVad:
    """Feed PCM16 mono frames; get ``"speech_start"`` / ``"speech_end"`` markers back."""

    def __init__(
        self,
        rate: int,
        threshold_db: float = -40.0,
        hangover_ms: int = 600,
        min_speech_ms: int = 60,
        *,
        adaptive: bool = False,
        margin_db: float = 12.0,
    ) -> None:
        self.rate = rate
        self.threshold_db = threshold_db
        self.hangover_ms = hangover_ms
        self.min_speech_ms = min_speech_ms
        self.adaptive = adaptive
        self.margin_db = margin_db
        self.noise_floor_db = SILENCE_DB
        self.level_db = SILENCE_DB  # the last window's level
        self.speaking = False
        self.voiced = False  # the last window was above the threshold
        self._window_bytes = 2 * max(1, rate * WINDOW_MS // 1000)
        self._pending = b""
        self._voiced_ms = 0
        self._quiet_ms = 0

    @property
    def effective_threshold_db(self) -> float:
        if not self.adaptive:
            return self.threshold_db
        return max(self.threshold_db, self.noise_floor_db + self.margin_db)

    def reset(self) -> None:
        self.speaking = False
        self._pending = b""
        self._voiced_ms = self._quiet_ms = 0

    @property
    def window_samples(self) -> int:
        return self._window_bytes // 2

    def feed(self, pcm16_frame: bytes) -> list[str]:
        """Judge the whole 10 ms windows of what was fed so far (the levels of a frame come
        from one conversion of it); a partial window waits for the next frame."""
        data = self._pending + pcm16_frame if self._pending else pcm16_frame
        whole = len(data) - len(data) % self._window_bytes
        self._pending = data[whole:]
        return self.feed_levels(pcm16_window_levels_db(data[:whole], self.window_samples))

    def feed_levels(self, levels_db: Iterable[float]) -> list[str]:
        """Judge windows whose levels are already known (a capture stream measures them on
        its float samples): one level per 10 ms window, in order. Only for frames of whole
        windows, fed with nothing pending from ``feed``."""
        markers: list[str] = []
        for level in levels_db:
            marker = self._window(level)
            if marker:
                markers.append(marker)
        return markers

    def _window(self, level: float) -> str | None:
        self.level_db = level
        voiced = self.voiced = level >= self.effective_threshold_db
        if self.adaptive:
            self._track_noise(level)
        if self.speaking:
            self._quiet_ms = 0 if voiced else self._quiet_ms + WINDOW_MS
            if self._quiet_ms >= self.hangover_ms:
                self.speaking = False
                self._voiced_ms = self._quiet_ms = 0
                return SPEECH_END
            return None
        self._voiced_ms = self._voiced_ms + WINDOW_MS if voiced else 0
        if self._voiced_ms >= self.min_speech_ms:
            self.speaking = True
            self._quiet_ms = 0
            return SPEECH_START
        return None

    def _track_noise(self, level: float) -> None:
        if self.noise_floor_db <= SILENCE_DB:
            self.noise_floor_db = level
        else:  # falls fast, rises slowly (about 2 s to follow a louder room)
            alpha = 0.3 if level < self.noise_floor_db else 0.005
            self.noise_floor_db += alpha * (level - self.noise_floor_db)
