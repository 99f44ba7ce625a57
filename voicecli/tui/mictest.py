"""The mic test (``/mictest``): the microphone's level over a few seconds, in words."""

from __future__ import annotations

from voicecli.tui.state import SPEECH_DB

TEST_S = 3.0


class MicTest:
    """Collects the mic meter readings while a test runs; ``finish`` words the result."""

    def __init__(self) -> None:
        self.running = False
        self.peak = -100.0
        self.readings = 0
        self.loud = 0

    def start(self) -> None:
        self.running, self.peak, self.readings, self.loud = True, -100.0, 0, 0

    def level(self, mic_db: float) -> None:
        if not self.running:
            return
        self.readings += 1
        self.peak = max(self.peak, mic_db)
        self.loud += mic_db > SPEECH_DB

    def finish(self) -> tuple[str, str]:
        """The result line and its level (info, or warning when nothing was heard)."""
        self.running = False
        if not self.readings:
            return "mic test: no level readings came from the microphone", "warning"
        if self.loud == 0:
            return (f"mic test: peak {self.peak:.0f} dB, below the speech threshold ({SPEECH_DB:.0f} dB): "
                    "speak up, raise /gain or pick another /input", "warning")
        share = self.loud / self.readings
        return f"mic test: peak {self.peak:.0f} dB, speech heard {share:.0%} of the time", "info"
