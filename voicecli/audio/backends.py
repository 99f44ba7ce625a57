"""Audio backends: real devices through PortAudio, and WAV files standing in for them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from voicecli.audio.base import FRAME_MS, CaptureStream, PlaybackStream
from voicecli.audio.capture import DeviceCapture
from voicecli.audio.devices import (
    DeviceInfo,
    DeviceSpec,
    Direction,
    check_rate,
    find_device,
    list_devices,
    load_sounddevice,
    unavailable_reason,
)
from voicecli.audio.filestreams import FileCapture, FilePlayback
from voicecli.audio.jitter import JitterPolicy
from voicecli.audio.playback import DevicePlayback
from voicecli.errors import AudioDeviceError


class SoundDeviceBackend:
    """Microphone and speaker through PortAudio.

    With no device requested, a missing device or PortAudio means "go on without it":
    ``open_*`` returns ``None`` and ``notice`` says why in one line. A device the user
    asked for that does not exist, or a rate it refuses, raises ``AudioDeviceError``.
    ``input_rate``/``output_rate`` force the device rate (default: the device's own).
    """

    name = "sounddevice"

    def __init__(
        self,
        input_device: DeviceSpec = None,
        output_device: DeviceSpec = None,
        *,
        input_rate: int | None = None,
        output_rate: int | None = None,
        block_ms: int = 10,
        jitter: JitterPolicy | None = None,
    ) -> None:
        self.input_device = input_device
        self.output_device = output_device
        self.input_rate = input_rate
        self.output_rate = output_rate
        self.block_ms = block_ms
        self.jitter = jitter
        self.notice: str | None = None
        self._streams: list[DeviceCapture | DevicePlayback] = []

    def _pick(self, spec: DeviceSpec, direction: Direction, rate: int | None) -> DeviceInfo | None:
        if load_sounddevice() is None:
            self._note(f"{unavailable_reason() or 'audio unavailable'}; text only")
            if spec is not None:
                raise AudioDeviceError(unavailable_reason() or "audio unavailable")
            return None
        devices = list_devices()
        if spec is None and not any(d.channels(direction) > 0 for d in devices):
            self._note(f"no {direction} device found; going on without {_what(direction)}")
            return None
        dev = find_device(spec, direction, devices)
        if rate is not None:
            check_rate(dev, direction, rate, min(dev.channels(direction), 2))
        return dev

    def _note(self, text: str) -> None:
        self.notice = text if self.notice is None or self.notice == text else f"{self.notice}; {text}"

    async def open_capture(self, rate: int, frame_ms: int = FRAME_MS) -> CaptureStream | None:
        dev = self._pick(self.input_device, "input", self.input_rate)
        if dev is None:
            return None
        cap = DeviceCapture(rate, frame_ms, device=dev.index, device_rate=self.input_rate,
                            block_ms=self.block_ms)
        try:
            await cap.start()
        except AudioDeviceError as exc:
            if self.input_device is not None:
                raise
            self._note(f"{exc}; going on without a microphone")
            return None
        self._streams.append(cap)
        return cap

    async def open_playback(self, rate: int) -> PlaybackStream | None:
        dev = self._pick(self.output_device, "output", self.output_rate)
        if dev is None:
            return None
        play = DevicePlayback(rate, device=dev.index, device_rate=self.output_rate,
                              block_ms=self.block_ms, policy=self.jitter)
        try:
            await play.start()
        except AudioDeviceError as exc:
            if self.output_device is not None:
                raise
            self._note(f"{exc}; going on without a speaker")
            return None
        self._streams.append(play)
        return play

    async def close(self) -> None:
        streams, self._streams = self._streams, []
        for s in streams:
            await s.close()


def _what(direction: Direction) -> str:
    return "a microphone" if direction == "input" else "a speaker"


class FileBackend:
    """WAV files as microphone (``source_wavs``, played in order, then silence) and as
    speaker (``sink_wav`` receives what the session played; ``None`` discards it)."""

    name = "file"

    def __init__(
        self,
        source_wavs: Sequence[str | Path] | None = None,
        sink_wav: str | Path | None = None,
        realtime: bool = True,
    ) -> None:
        self.source_wavs = list(source_wavs) if source_wavs is not None else None
        self.sink_wav = sink_wav
        self.realtime = realtime
        self.notice: str | None = None
        self._streams: list[FileCapture | FilePlayback] = []

    async def open_capture(self, rate: int, frame_ms: int = FRAME_MS) -> CaptureStream | None:
        if self.source_wavs is None:
            self.notice = "no input file; not sending audio"
            return None
        cap = FileCapture(self.source_wavs, rate, frame_ms, realtime=self.realtime)
        self._streams.append(cap)
        return cap

    async def open_playback(self, rate: int) -> PlaybackStream | None:
        play = FilePlayback(rate, self.sink_wav, realtime=self.realtime)
        await play.start()
        self._streams.append(play)
        return play

    async def close(self) -> None:
        streams, self._streams = self._streams, []
        for s in streams:
            await s.close()
