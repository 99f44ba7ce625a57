"""The session's side of the audio devices.

:class:`AudioLink` opens the streams for the formats the provider negotiated, decodes and
plays agent audio, empties playback at a barge-in, gates the microphone (mute, push-to-talk,
half-duplex), applies the speaker volume and the mic gain, cancels the speaker's echo in it
(``--aec``: the playback stream's tap is the far-end reference, each frame's capture time
aligns it; a canceller that fails hands over to the half-duplex gate with a notice, so the
microphone goes on), reads the meters and notices a speaker that stopped working.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from voicecli.audio.base import AudioBackend, CaptureStream, MonitoredStream, PlaybackStream, TappablePlayback
from voicecli.audio.codecs import CodecUnavailable, decode
from voicecli.audio.echo import EchoCanceller, HalfDuplexGate
from voicecli.audio.gain import scale_pcm16
from voicecli.errors import AudioDeviceError
from voicecli.pcm.levels import SILENCE_DB
from voicecli.protocol.events import AgentAudio, Event, SessionStarted
from voicecli.session.events import AudioStatus, Levels, Notice, PlaybackFlushed
from voicecli.session.options import SessionOptions


class AudioLink:
    def __init__(self, backend: AudioBackend | None, options: SessionOptions,
                 emit: Callable[[Event], None]) -> None:
        self.backend = backend
        self.options = options
        self._emit = emit
        self.capture: CaptureStream | None = None
        self.playback: PlaybackStream | None = None
        self._echo: EchoCanceller | None = None
        self.aec: bool = False
        """Echo cancellation is running on the microphone."""
        self._silence = b""
        self._turn_start_played = 0.0
        self.volume = 1.0  # the speaker's level (/volume), applied to agent audio
        self.gain = 1.0  # the mic's level (/gain), applied before the provider hears it
        self._codec_missing = False  # the notice for a missing codec extra was given

    async def open(self, event: SessionStarted) -> None:
        """Open what the backend can give; say in one :class:`AudioStatus` what is live."""
        backend = self.backend
        if backend is None:
            self._emit(AudioStatus(input=None, output=None, notice="text only (no audio)"))
            return
        failure: str | None = None
        try:
            if self.options.audio_output:
                self.playback = await backend.open_playback(event.output_format.sample_rate)
            if self.options.audio_input:
                self.capture = await backend.open_capture(event.input_format.sample_rate,
                                                          self.options.frame_ms)
        except AudioDeviceError as exc:
            failure = str(exc)
        # the backend says why a stream is missing only once it has tried to open it
        notice = failure or backend.notice
        echo_notice = self._open_echo(event.input_format.sample_rate, backend.name == "sounddevice")
        if echo_notice:
            self._emit(Notice(echo_notice, "warning"))
        recorder = self.options.recorder
        if recorder is not None and self.playback is not None:
            recorder.attach_playback(self.playback)
        name = backend.name
        self._emit(AudioStatus(
            input=name if self.capture else None, output=name if self.playback else None,
            input_rate=event.input_format.sample_rate if self.capture else None,
            output_rate=event.output_format.sample_rate if self.playback else None,
            notice=notice))

    def _open_echo(self, rate: int, devices: bool) -> str | None:
        """Half-duplex when asked; else echo cancellation per ``options.aec`` (auto: on with a
        real microphone and speaker). Returns a one-line notice when it cannot run."""
        if self.options.half_duplex:
            self._echo = HalfDuplexGate(self.options.half_duplex_tail_ms)
        elif self.capture is not None:
            from voicecli.audio.aec import resolve_aec

            if not resolve_aec(self.options.aec, devices, devices and self.playback is not None):
                return None
            return self.set_aec(True, rate)
        if self._echo is not None and isinstance(self.playback, TappablePlayback):
            self.playback.add_tap(self._echo.reference)
        return None

    def set_aec(self, on: bool, rate: int | None = None) -> str | None:
        """Turn echo cancellation on or off (``/aec``); a one-line notice when it cannot run."""
        if isinstance(self._echo, HalfDuplexGate) or self.capture is None:
            return "echo cancellation needs an open microphone (and is off with --half-duplex)"
        if not on:
            self.aec = False
            if self._echo is not None:
                if isinstance(self.playback, TappablePlayback):
                    self.playback.remove_tap(self._echo.reference)
                self._echo = None
            return None
        if self._echo is None:
            from voicecli.audio.aec import make_canceller

            canceller, why = make_canceller(rate or self.capture.rate)
            if canceller is None:
                return why
            self._echo = canceller
            if isinstance(self.playback, TappablePlayback):
                self.playback.add_tap(canceller.reference)
        self.aec = True
        return None

    # ---- agent audio ---------------------------------------------------------------------

    def decode(self, event: AgentAudio) -> tuple[bytes, int] | None:
        """PCM16 and its rate for an audio event (encoded chunks decoded), or None."""
        pcm, rate = event.data, event.format.sample_rate
        if not event.format.is_pcm or event.format.encoding == "ulaw":
            try:
                pcm, rate = decode(event.data, event.format.encoding, event.format.sample_rate)
            except CodecUnavailable as exc:  # an extra not installed: its notice once, then silence
                if not self._codec_missing:
                    self._codec_missing = True
                    self._emit(Notice(str(exc), "warning"))
                return None
            except Exception as exc:  # noqa: BLE001 - a bad chunk must not end the session
                self._emit(Notice(f"could not decode {event.format.encoding} audio: {exc}", "warning"))
                return None
        return (pcm, rate) if rate > 0 else None

    def play(self, pcm: bytes, rate: int) -> None:
        if self.playback is not None:
            self.playback.write(scale_pcm16(pcm, self.volume), rate)

    def agent_turn_started(self) -> None:
        """A new agent turn: its audio starts after what is queued now (``heard_s`` of a
        flush counts from there)."""
        if self.playback is not None:
            self._turn_start_played = self.playback.played_seconds + self.playback.buffered_seconds

    def flush(self) -> None:
        """Barge-in: drop queued agent audio so the next callback is silent."""
        if self.playback is None:
            return
        dropped = self.playback.flush()
        heard = max(0.0, self.playback.played_seconds - self._turn_start_played)
        if isinstance(self._echo, HalfDuplexGate):
            self._echo.reset()
        self._emit(PlaybackFlushed(dropped_s=dropped, heard_s=heard))

    @property
    def busy(self) -> bool:
        """Agent audio is still queued (more than a block)."""
        return self.playback is not None and self.playback.buffered_seconds > 0.05

    def _audible(self) -> bool:
        playback = self.playback
        if playback is None:
            return False
        if isinstance(playback, TappablePlayback):
            return playback.audible
        return playback.buffered_seconds > 0

    # ---- microphone ----------------------------------------------------------------------

    def gate(self, frame: bytes, mic_open: bool, now: float) -> tuple[bytes, bool]:
        """The frame to send, and whether it was replaced by silence because the mic is
        closed (muted or push-to-talk): silence keeps the provider's stream alive."""
        if not mic_open:
            if len(self._silence) != len(frame):
                self._silence = bytes(len(frame))
            return self._silence, True
        frame = scale_pcm16(frame, self.gain)
        if self._echo is not None:
            # the canceller aligns the reference on the frame's capture time
            at = now if isinstance(self._echo, HalfDuplexGate) or self.capture is None \
                else self.capture.last_capture_time or now
            try:
                return self._echo.process(frame, self._audible(), at), False
            except Exception as exc:  # noqa: BLE001 - a failed canceller must not take the mic with it
                self._fall_back_to_half_duplex(exc)
                return self._echo.process(frame, self._audible(), now), False
        return frame, False

    def _fall_back_to_half_duplex(self, exc: Exception) -> None:
        """The echo canceller failed: the microphone goes on, muted while the agent is
        audible (as with ``--half-duplex``), rather than sending the agent its own voice."""
        if isinstance(self.playback, TappablePlayback) and self._echo is not None:
            self.playback.remove_tap(self._echo.reference)
        gate = HalfDuplexGate(self.options.half_duplex_tail_ms)
        self._echo, self.aec = gate, False
        if isinstance(self.playback, TappablePlayback):
            self.playback.add_tap(gate.reference)
        self._emit(Notice(f"echo cancellation failed ({type(exc).__name__}: {exc}); the microphone now "
                          "mutes while the agent talks, as with --half-duplex", "warning"))

    def lose_capture(self, reason: str) -> None:
        self.capture = None
        self._emit(Notice(f"microphone lost: {reason}; going on text-only", "warning"))
        self._emit(AudioStatus(input=None, output="audio" if self.playback else None))

    # ---- meters --------------------------------------------------------------------------

    def levels(self, mic_open: bool) -> Levels | None:
        """Current meters, after checking that the speaker still works."""
        if isinstance(self.playback, MonitoredStream) and self.playback.failed:
            reason = self.playback.notice or "the speaker stopped"
            self.playback = None
            self._emit(Notice(f"{reason}; going on without sound", "warning"))
            self._emit(AudioStatus(input="audio" if self.capture else None, output=None))
        if self.capture is None and self.playback is None:
            return None
        mic = self.capture.level_db if self.capture is not None else SILENCE_DB
        agent = self.playback.level_db if self.playback is not None else SILENCE_DB
        queued = self.playback.buffered_seconds if self.playback is not None else 0.0
        return Levels(mic_db=mic, agent_db=agent, mic_open=mic_open, agent_queued_s=queued)

    async def close(self) -> None:
        for stream in (self.capture, self.playback):
            if stream is not None:
                with contextlib.suppress(Exception):
                    await stream.close()
        recorder = self.options.recorder
        if recorder is not None:
            with contextlib.suppress(Exception):
                recorder.close()

