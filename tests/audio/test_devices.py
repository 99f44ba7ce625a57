import json
import os

import pytest

from voicecli.audio import devices as devmod
from voicecli.audio.devices import DeviceInfo, find_device, quiet_stderr
from voicecli.cli.devices import devices_command
from voicecli.errors import AudioDeviceError


def _dev(index, name, ins, outs, din=False, dout=False):
    return DeviceInfo(index, name, "ALSA", ins, outs, 48000.0, din, dout)


DEVS = [
    _dev(0, "HDA Intel PCH: ALC257 Analog", 2, 2),
    _dev(1, "USB Headset", 1, 2, din=True),
    _dev(2, "HDMI 0", 0, 8, dout=True),
]


def test_find_default_by_index_and_by_name():
    assert find_device(None, "input", DEVS).index == 1
    assert find_device(None, "output", DEVS).index == 2
    assert find_device(0, "input", DEVS).index == 0
    assert find_device("0", "output", DEVS).index == 0
    assert find_device("headset", "input", DEVS).index == 1
    assert find_device("hdmi", "output", DEVS).index == 2


@pytest.mark.parametrize(
    ("spec", "direction", "message"),
    [
        ("hdmi", "input", "no input device matches 'hdmi'"),
        (7, "output", "no audio device with index 7"),
        (2, "input", "has no input channels"),
    ],
)
def test_unknown_device_is_a_clear_error(spec, direction, message):
    with pytest.raises(AudioDeviceError, match=message) as err:
        find_device(spec, direction, DEVS)
    assert err.value.exit_code == 10


def test_no_device_at_all():
    with pytest.raises(AudioDeviceError, match="no input device found"):
        find_device(None, "input", [])


def test_quiet_stderr_hides_native_noise(capfd):
    with quiet_stderr():
        os.write(2, b"ALSA lib pcm.c: noise\n")
    os.write(2, b"visible\n")
    err = capfd.readouterr().err
    assert "noise" not in err and "visible" in err


def test_devices_command_with_no_device(monkeypatch, capsys):
    monkeypatch.setattr("voicecli.cli.devices.list_devices", lambda: [])
    assert devices_command(json_out=True) == 0
    out = capsys.readouterr()
    assert json.loads(out.out) == []
    assert "no audio devices" in out.err and "Traceback" not in out.err
    assert devices_command(json_out=False) == 0
    assert "no audio devices" in capsys.readouterr().err


def test_devices_command_table_and_json(monkeypatch, capsys):
    monkeypatch.setattr("voicecli.cli.devices.list_devices", lambda: DEVS)
    assert devices_command(json_out=False) == 0
    out = capsys.readouterr().out
    assert "USB Headset" in out and "HDMI 0" in out and "input" in out
    assert devices_command(json_out=True) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[1] == {
        "index": 1, "name": "USB Headset", "hostapi": "ALSA", "max_input_channels": 1,
        "max_output_channels": 2, "default_samplerate": 48000.0, "default_input": True,
        "default_output": False,
    }


async def test_backend_without_portaudio_goes_text_only(monkeypatch):
    from voicecli.audio.backends import SoundDeviceBackend

    monkeypatch.setattr(devmod, "_sd", None)
    monkeypatch.setattr(devmod, "_sd_error", "audio unavailable (PortAudio library not found)")
    backend = SoundDeviceBackend()
    assert await backend.open_capture(16000) is None
    assert await backend.open_playback(24000) is None
    assert backend.notice is not None and "PortAudio library not found" in backend.notice
    assert "\n" not in backend.notice
    with pytest.raises(AudioDeviceError):
        await SoundDeviceBackend(input_device="usb").open_capture(16000)


def test_importing_the_audio_package_does_not_load_portaudio():
    import subprocess
    import sys

    code = (
        "import sys, voicecli.audio.backends, voicecli.audio.recorder, voicecli.audio.codecs, "
        "voicecli.cli.devices; print('sounddevice' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
    assert out.stderr == ""


def test_devices_command_prints_no_native_noise(capfd):
    devices_command(json_out=True)
    err = capfd.readouterr().err
    assert "ALSA" not in err and "jack" not in err.lower()
