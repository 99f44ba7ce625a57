"""``voicecli devices``: list audio devices as a table or JSON."""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.table import Table

from voicecli.audio.devices import list_devices, load_sounddevice, unavailable_reason


def devices_command(json_out: bool) -> int:
    """Print every audio device (stdout); a one-line note on stderr when there is none."""
    devices = list_devices()
    note: str | None = None
    if not devices:
        note = (
            f"{unavailable_reason()}: no audio devices (text-only sessions still work)"
            if load_sounddevice() is None
            else "no audio devices found (text-only sessions still work)"
        )
    if json_out:
        print(json.dumps([d.to_dict() for d in devices], indent=2))
        if note:
            print(note, file=sys.stderr)
        return 0
    table = Table(title="Audio devices", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("name")
    table.add_column("host API")
    table.add_column("in", justify="right")
    table.add_column("out", justify="right")
    table.add_column("default rate", justify="right")
    table.add_column("default")
    for d in devices:
        marks = [m for m, on in (("input", d.default_input), ("output", d.default_output)) if on]
        table.add_row(
            str(d.index),
            d.name,
            d.hostapi,
            str(d.max_input_channels),
            str(d.max_output_channels),
            f"{d.default_samplerate:g}",
            ", ".join(marks),
        )
    Console().print(table)
    if note:
        Console(stderr=True).print(note, highlight=False)
    return 0
