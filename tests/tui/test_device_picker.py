"""The in-app device picker on the PulseAudio bed: two sinks and two sources by name,
listed by ``/devices`` and switched to mid-session by ``/output`` and ``/input``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.pulse import PulseBed
from voicecli.agent.config import AgentConfig
from voicecli.audio.backends import SoundDeviceBackend
from voicecli.tui import TalkSettings, create_app
from voicecli.tui.widgets.status import status_parts

from .conftest import SIZE, local_factory, submit, texts, wait_until

pytestmark = pytest.mark.pulse


@pytest.fixture
def second_devices(pulse_bed: PulseBed, monkeypatch: pytest.MonkeyPatch) -> Iterator[PulseBed]:
    """A second sink (``desk_speaker``) and source (``desk_mic``) beside the bed's own."""
    modules = [
        pulse_bed.pactl("load-module", "module-null-sink", "sink_name=desk_speaker",
                        "sink_properties=device.description=Desk-Speaker").strip(),
        pulse_bed.pactl("load-module", "module-null-source", "source_name=desk_mic").strip(),
    ]
    for name in ("PULSE_SINK", "PULSE_SOURCE"):  # the picker sets them: restored afterwards
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    try:
        yield pulse_bed
    finally:
        for module in modules:
            pulse_bed.pactl("unload-module", module)


def _streams(bed: PulseBed, kind: str, owner: str) -> list[str]:
    """The names of the sinks (or sources) this process's streams are on."""
    devices = {d["index"]: d["name"] for d in json.loads(bed.pactl("-f", "json", "list", owner + "s"))}
    streams = json.loads(bed.pactl("-f", "json", "list", kind))
    return [devices[s[owner]] for s in streams if s["properties"].get("application.process.id") == str(_pid())]


def _pid() -> int:
    import os

    return os.getpid()


async def test_devices_lists_and_switches_pulse_sinks_and_sources_by_name(second_devices: PulseBed) -> None:
    bed = second_devices
    assert bed.mic is not None
    config = AgentConfig(api_key=None, greeting="", speech=False, brain="rules")
    backend = SoundDeviceBackend()
    app = create_app(local_factory(config, backend), TalkSettings())
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.started and app.state.output_device is not None, timeout=20,
                         what="the session with its devices")
        assert (app.state.input_device, app.state.output_device) == ("mic", "spk")
        await submit(pilot, "/devices")
        await wait_until(pilot, lambda: any("speakers" in t for t in texts(app)), what="the list")
        shown = texts(app)
        speakers = shown[shown.index("speakers (/output N):") + 1:]
        mics = shown[shown.index("microphones (/input N):") + 1: shown.index("speakers (/output N):")]
        assert any(line.strip().startswith("*") and " spk" in line for line in speakers), speakers
        assert any("desk_speaker — Desk-Speaker" in line for line in speakers), speakers
        assert any(line.strip().startswith("*") and " mic" in line for line in mics), mics
        assert any(" desk_mic" in line and not line.strip().startswith("*") for line in mics), mics
        assert not any("monitor" in line for line in mics)  # sink monitors are not microphones

        await submit(pilot, "/output desk")
        await wait_until(pilot, lambda: app.state.output_device == "desk_speaker", timeout=15, what="the switch")
        assert "speaker: Desk-Speaker" in texts(app)
        await wait_until(pilot, lambda: _streams(bed, "sink-inputs", "sink") == ["desk_speaker"], timeout=10,
                         what="playback on desk_speaker")
        number = next(line.lstrip(" *").split()[0] for line in speakers if " spk" in line)
        await submit(pilot, "/input desk_mic")
        await wait_until(pilot, lambda: app.state.input_device == "desk_mic", timeout=15, what="the mic switch")
        await wait_until(pilot, lambda: _streams(bed, "source-outputs", "source") == ["desk_mic"], timeout=10,
                         what="capture on desk_mic")
        assert "mic desk_mic · spk desk_speaker" in [text for text, _ in status_parts(app.state)]
        assert number.isdigit()
        await submit(pilot, f"/output {number}")  # by its number in the list
        await wait_until(pilot, lambda: app.state.output_device == "spk", timeout=15, what="back to spk")
        await submit(pilot, "/output nowhere")
        error = "cannot switch: no output device matches 'nowhere' (see /devices)"
        await wait_until(pilot, lambda: error in texts(app), what="the one-line error")
        await pilot.press("ctrl+q")

