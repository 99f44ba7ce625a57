"""The pieces under the audio commands: picking a named device, volume and gain, the
event pane's lines, pasted line breaks, the half-duplex indicator."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicecli.audio import devices
from voicecli.audio.devices import NamedDevice, pick_named
from voicecli.audio.gain import percent_factor, scale_pcm16
from voicecli.errors import AudioDeviceError
from voicecli.protocol.events import AudioFormat, SessionStarted
from voicecli.secrets import register
from voicecli.session.events import Notice
from voicecli.session.options import SessionOptions
from voicecli.tui import TalkSettings, create_app
from voicecli.tui.widgets.events import describe
from voicecli.tui.widgets.input import LINE_BREAK, restore_breaks

from .conftest import SIZE, wait_until
from .fakes import FakeSession, fake_factory

SINKS = [NamedDevice(1, "spk", "Null Output", True, "pulse"),
         NamedDevice(2, "desk_speaker", "Desk Speaker", False, "pulse"),
         NamedDevice(3, "desk_speaker_2", "Desk Speaker 2", False, "pulse")]


def test_pick_named_by_number_exact_name_or_unique_part() -> None:
    assert pick_named("1", SINKS, "output").name == "spk"
    assert pick_named("desk_speaker", SINKS, "output").name == "desk_speaker"  # exact beats partial
    assert pick_named("Speaker 2", SINKS, "output").name == "desk_speaker_2"
    with pytest.raises(AudioDeviceError, match="no output device number 9"):
        pick_named("9", SINKS, "output")
    with pytest.raises(AudioDeviceError, match="matches several output devices"):
        pick_named("desk", SINKS, "output")
    with pytest.raises(AudioDeviceError, match="no output device matches 'hdmi'"):
        pick_named("hdmi", SINKS, "output")


def test_without_a_sound_server_the_picker_lists_portaudio_devices(monkeypatch: Any) -> None:
    monkeypatch.setattr(devices, "_pactl_json", lambda *args: None)
    monkeypatch.setattr(devices, "list_devices", lambda: [
        devices.DeviceInfo(0, "USB Mic", "ALSA", 1, 0, 48000.0, True, False),
        devices.DeviceInfo(3, "HDMI", "ALSA", 0, 2, 48000.0, False, True)])
    mics = devices.named_devices("input")
    assert [(d.number, d.name, d.via, d.index, d.default) for d in mics] == [(1, "USB Mic", "portaudio", 0, True)]
    assert devices.route(devices.named_devices("output")[0], "output") == 3


@given(st.lists(st.integers(-32768, 32767), max_size=200), st.floats(0.0, 4.0))
def test_scaling_stays_in_range_and_is_exact_at_one(samples: list[int], factor: float) -> None:
    pcm = np.array(samples, dtype="<i2").tobytes()
    out = np.frombuffer(scale_pcm16(pcm, factor), dtype="<i2").astype(np.int64)
    assert len(out) == len(samples)
    expected = np.clip(np.rint(np.array(samples, dtype=np.float64) * np.float32(factor)), -32768, 32767)
    assert np.all(np.abs(out - expected) <= 1)
    assert scale_pcm16(pcm, 1.0) == pcm


def test_percentages() -> None:
    assert percent_factor("80") == 0.8 and percent_factor(" 150% ") == 1.5
    for bad in ("-1", "401", "loud", ""):
        with pytest.raises(ValueError, match="expected a percentage"):
            percent_factor(bad)


def test_event_lines_are_short_and_redacted() -> None:
    register("xi_secret_key_987")
    line = describe(Notice("the key xi_secret_key_987 was refused " + "x" * 200))
    assert line.startswith("Notice text='the key") and "xi_secret_key_987" not in line
    assert len(line) < 120
    assert describe(SessionStarted(AudioFormat(), AudioFormat())).startswith("SessionStarted input_format=")


def test_pasted_line_breaks_come_back_as_newlines() -> None:
    assert restore_breaks(f"one{LINE_BREAK}two") == "one\ntwo"
    assert restore_breaks("no breaks here") == "no breaks here"


async def test_half_duplex_is_shown_while_the_mic_is_open() -> None:
    session = FakeSession([SessionStarted(AudioFormat(), AudioFormat())])
    session.options = SessionOptions(half_duplex=True)  # type: ignore[attr-defined]
    app = create_app(fake_factory(session), TalkSettings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started)
        await pilot.pause()
        assert "half-duplex" in str(app.status_bar.render())
        assert "(half-duplex: mic off while the agent talks)" in str(app.ptt_indicator.render())
