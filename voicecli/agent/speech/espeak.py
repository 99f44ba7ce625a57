"""espeak-ng (the Debian package ``espeak-ng``) as a second synthesizer, for measuring the ears.

Its formant voices sound nothing like hibari's, so questions spoken by both show how the
recogniser does on voices it was not tuned on. Not used as the agent's own voice.
"""

from __future__ import annotations

import shutil
import subprocess

from voicecli.pcm.wav import read_wav_bytes


class EspeakSynthesizer:
    """A :class:`~voicecli.agent.voice_contracts.Synthesizer` over the ``espeak-ng`` command.

    ``voice``: an espeak-ng voice name with an optional variant ("en-us", "en-gb+m3");
    ``speed``: words per minute (espeak-ng's default is 175). Raises ``FileNotFoundError``
    when espeak-ng is not installed.
    """

    def __init__(self, voice: str = "en-us", speed: int = 175) -> None:
        command = shutil.which("espeak-ng")
        if command is None:
            raise FileNotFoundError("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
        self._command = command
        self.voice = voice
        self.speed = speed
        self.name = f"espeak-ng {voice} {speed} wpm"
        self.rate = self._read(self._run("ready"))[1]

    def _run(self, text: str) -> bytes:
        args = [self._command, "-v", self.voice, "-s", str(self.speed), "--stdout", text]
        return subprocess.run(args, capture_output=True, check=True, timeout=30).stdout

    @staticmethod
    def _read(wav: bytes) -> tuple[bytes, int]:
        pcm, rate, _channels = read_wav_bytes(wav)
        return pcm, rate

    def synthesize(self, text: str) -> bytes:
        """PCM16 mono at ``self.rate`` (22050 Hz)."""
        if not text.strip():
            return b""
        return self._read(self._run(text))[0]
