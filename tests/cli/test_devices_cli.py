"""Device selection errors and the devices command, on the PulseAudio test bed."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli
from tests.support.pulse import PulseBed


def test_devices_lists_the_bed(cli: Cli, pulse_bed: PulseBed) -> None:
    proc = cli.run("devices", "--json", extra_env={"PULSE_SERVER": pulse_bed.server})
    assert proc.returncode == 0, proc.stderr
    devices = json.loads(proc.stdout)
    assert any(d["max_input_channels"] > 0 for d in devices) and any(d["max_output_channels"] > 0 for d in devices)
    table = cli.run("devices", extra_env={"PULSE_SERVER": pulse_bed.server})
    assert table.returncode == 0 and "host API" in table.stdout


def test_unknown_device_fails_before_the_app_starts(cli: Cli, pulse_bed: PulseBed) -> None:
    env = {"PULSE_SERVER": pulse_bed.server}
    proc = cli.run("talk", "--input-device", "no-such-mic", extra_env=env, timeout=30)
    assert proc.returncode == 10
    assert proc.stderr.strip() == ("voicecli: error: no input device matches 'no-such-mic' "
                                   "(see `voicecli devices`)")
    proc = cli.run("talk", "--output-device", "999", extra_env=env, timeout=30)
    assert proc.returncode == 10
    assert proc.stderr.strip() == "voicecli: error: no audio device with index 999 (see `voicecli devices`)"
