"""The session's audio link wires echo cancellation to the playback tap and the capture clock."""

from __future__ import annotations

import numpy as np

from tests.audio.conftest import from_pcm, pcm
from tests.support.room import PLAUSIBLE, room_impulse_response, speechlike
from voicecli.audio.aec import ApmEchoCanceller
from voicecli.audio.base import PlaybackTap
from voicecli.audio.echo import HalfDuplexGate
from voicecli.audio.scripted import CollectingPlayback, ScriptedCapture
from voicecli.protocol.events import AudioFormat, Event, SessionStarted
from voicecli.session.audio_link import AudioLink
from voicecli.session.events import Notice
from voicecli.session.options import SessionOptions

RATE = 16000
FMT = AudioFormat("pcm16", RATE)


class TappedPlayback(CollectingPlayback):
    def __init__(self, rate: int) -> None:
        super().__init__(rate)
        self.taps: list[PlaybackTap] = []

    def add_tap(self, tap: PlaybackTap) -> None:
        self.taps.append(tap)

    def remove_tap(self, tap: PlaybackTap) -> None:
        self.taps.remove(tap)

    @property
    def audible(self) -> bool:
        return True


class Backend:
    def __init__(self, name: str) -> None:
        self.name = name
        self.notice: str | None = None
        self.capture = ScriptedCapture(RATE, realtime=False)
        self.playback = TappedPlayback(RATE)

    async def open_capture(self, rate: int, frame_ms: int = 20) -> ScriptedCapture:
        return self.capture

    async def open_playback(self, rate: int) -> TappedPlayback:
        return self.playback

    async def close(self) -> None:
        return None


async def _link(name: str, **options: object) -> tuple[AudioLink, Backend, list[Event]]:
    events: list[Event] = []
    backend = Backend(name)
    link = AudioLink(backend, SessionOptions(**options), events.append)  # type: ignore[arg-type]
    await link.open(SessionStarted(FMT, FMT))
    return link, backend, events


async def test_auto_runs_the_canceller_on_real_devices_only():
    link, backend, _ = await _link("sounddevice")
    assert link.aec and len(backend.playback.taps) == 1
    files, backend2, _ = await _link("file")
    assert not files.aec and backend2.playback.taps == []
    on, backend3, _ = await _link("file", aec="on")
    assert on.aec and len(backend3.playback.taps) == 1
    off, backend4, _ = await _link("sounddevice", aec="off")
    assert not off.aec and backend4.playback.taps == []


async def test_half_duplex_wins_and_aec_says_why_it_cannot_run():
    link, backend, _ = await _link("sounddevice", half_duplex=True)
    assert not link.aec and len(backend.playback.taps) == 1
    assert backend.playback.taps[0].__self__.__class__ is HalfDuplexGate  # type: ignore[attr-defined]
    assert "half-duplex" in (link.set_aec(True) or "")


async def test_aec_off_and_on_again_moves_the_tap():
    link, backend, _ = await _link("sounddevice")
    assert link.set_aec(False) is None and not link.aec and backend.playback.taps == []
    frame = pcm(speechlike(RATE, 0.02))
    assert link.gate(frame, True, 1.0) == (frame, False)  # untouched while off
    assert link.set_aec(True) is None and link.aec and len(backend.playback.taps) == 1


async def test_gate_cancels_echo_using_the_capture_time():
    link, backend, events = await _link("sounddevice")
    assert not [e for e in events if isinstance(e, Notice)]
    tap = backend.playback.taps[0]
    assert isinstance(tap.__self__, ApmEchoCanceller)  # type: ignore[attr-defined]
    far = speechlike(RATE, 3.0, seed=5)
    mic = np.convolve(far, room_impulse_response(RATE, PLAUSIBLE.with_(delay_ms=60.0)))[:far.size]
    t0, frame = 50.0, RATE // 50
    out = np.zeros_like(mic)
    ahead = 4 * frame  # the reference is played (tapped) ahead of the microphone frames
    tap(pcm(far[:ahead]), RATE, t0)
    for i in range(0, far.size - frame + 1, frame):
        tap(pcm(far[i + ahead:i + ahead + frame]), RATE, t0 + (i + ahead) / RATE)
        backend.capture._last_capture = t0 + i / RATE  # the frame's capture time, as the device reports it
        got, silenced = link.gate(pcm(mic[i:i + frame]), True, t0 + i / RATE + 0.5)  # arrival: late
        assert not silenced
        out[i:i + frame] = from_pcm(got)
    tail = slice(far.size // 2, None)
    erle = 10 * np.log10(np.mean(mic[tail] ** 2) / (np.mean(out[tail] ** 2) + 1e-12))
    assert erle >= 30.0, erle


class _Host:
    def __init__(self, session: object) -> None:
        self.session = session
        self.notices: list[tuple[str, str]] = []

    def notice(self, text: str, level: str = "info") -> None:
        self.notices.append((text, level))

    def current_session(self) -> object:
        return self.session

    def run_audio(self, command: object) -> bool:
        return False  # /devices, /volume ...: not these tests' business


class _Session:
    def __init__(self, link: AudioLink) -> None:
        self.link = link

    def set_aec(self, on: bool | None) -> str:
        from voicecli.session.worker import Session

        return Session.set_aec(self, on)  # type: ignore[arg-type]


async def test_slash_aec_turns_it_off_and_tells_its_state():
    from voicecli.tui.commands import parse_slash
    from voicecli.tui.slash import run_slash

    link, _, _ = await _link("sounddevice")
    host = _Host(_Session(link))
    for line in ("/aec", "/aec off", "/aec", "/aec sideways"):
        command = parse_slash(line)
        assert command is not None
        run_slash(host, command)  # type: ignore[arg-type]
    assert [text for text, _ in host.notices] == [
        "echo cancellation is on", "echo cancellation is off", "echo cancellation is off", "/aec takes on or off"]
    assert not link.aec


def test_talk_refuses_an_unknown_aec_mode_in_one_line(tmp_path) -> None:
    from tests.tui.test_talk_cli import run

    result = run("--aec", "maybe", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["voicecli: error: --aec takes on, off or auto, not 'maybe'"]


class BrokenCanceller:
    def __init__(self) -> None:
        self.calls = 0

    def reference(self, played: bytes, rate: int, t: float) -> None:
        return None

    def process(self, frame: bytes, playback_audible: bool, now: float | None = None) -> bytes:
        self.calls += 1
        raise RuntimeError("apm stream error -11")


async def test_a_failing_canceller_falls_back_to_half_duplex_and_keeps_the_mic():
    link, backend, events = await _link("sounddevice", aec="on")
    broken = BrokenCanceller()
    backend.playback.taps = [broken.reference]
    link._echo = broken
    frame = pcm(np.full(320, 0.3))
    # the agent is audible (TappedPlayback): half-duplex mutes the frame rather than raising
    out, silenced = link.gate(frame, True, 1.0)
    assert broken.calls == 1 and out == bytes(len(frame)) and not silenced
    assert isinstance(link._echo, HalfDuplexGate) and not link.aec
    assert backend.playback.taps == [link._echo.reference]
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert any("echo cancellation failed (RuntimeError: apm stream error -11)" in n
               and "--half-duplex" in n for n in notices)
    link.gate(frame, True, 1.02)
    assert broken.calls == 1  # the broken canceller is not called again
