"""The audio commands: ``/devices``, ``/input``, ``/output``, ``/mictest``, ``/volume``, ``/gain``.

Devices are listed and chosen through :mod:`voicecli.audio.devices` (the sound server's
sources and sinks by name where there is one); the switch itself is the session's
(``switch_device``, for a backend with devices to choose: a
:class:`~voicecli.audio.base.DeviceChoice`), volume and gain are its audio link's."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

from voicecli.audio import devices
from voicecli.audio.base import DeviceChoice
from voicecli.audio.gain import percent_factor
from voicecli.errors import AudioDeviceError
from voicecli.session.surface import LevelControls
from voicecli.tui.commands import SlashCommand
from voicecli.tui.mictest import TEST_S

if TYPE_CHECKING:
    from voicecli.tui.app import VoiceApp

AUDIO_COMMANDS = ("devices", "input", "output", "mictest", "volume", "gain")
Level = Literal["volume", "gain"]


def run_audio(app: VoiceApp, command: SlashCommand) -> bool:
    """Run an audio command; False when ``command`` is not one."""
    name, arg = command.name, command.argument
    if name not in AUDIO_COMMANDS:
        return False
    if app.text_only and name != "devices":
        app.notice("text-only: there is no audio to adjust", "warning")
    elif name == "devices":
        app.run_worker(list_devices(app), group="devices")
    elif name in ("input", "output"):
        direction: Literal["input", "output"] = "input" if name == "input" else "output"
        app.run_worker(choose(app, direction, arg), group="devices", exclusive=True)
    elif name == "mictest":
        mic_test(app)
    else:
        level(app, "volume" if name == "volume" else "gain", arg)
    return True


async def list_devices(app: VoiceApp) -> None:
    for direction, title in (("input", "microphones (/input N)"), ("output", "speakers (/output N)")):
        found = await asyncio.to_thread(devices.named_devices, direction)  # type: ignore[arg-type]
        app.notice(f"{title}:" if found else f"{title}: none found")
        for dev in found:
            mark = "*" if dev.default else " "
            detail = f" — {dev.description}" if dev.description != dev.name else ""
            app.notice(f" {mark}{dev.number:>2}  {dev.name}{detail}")


async def choose(app: VoiceApp, direction: Literal["input", "output"], spec: str) -> None:
    session = app.current_session()
    if session is None:
        return
    if not isinstance(session.audio, DeviceChoice):
        app.notice("this session cannot switch devices", "warning")
        return
    try:
        found = await asyncio.to_thread(devices.named_devices, direction)
        device = devices.pick_named(spec, found, direction)
        target = await asyncio.to_thread(devices.route, device, direction)
        await session.switch_device(direction, target)
    except AudioDeviceError as exc:
        app.notice(f"cannot switch: {exc}", "error")
        return
    if direction == "input":
        app.state.input_device = device.name
    else:
        app.state.output_device = device.name
    app.notice(f"{'microphone' if direction == 'input' else 'speaker'}: {device.description}")
    app.render_state()


async def show_device_names(app: VoiceApp, live_input: bool, live_output: bool) -> None:
    """The names of the devices the session opened, for the status bar."""
    backend = app.live.session.audio if app.live is not None else None
    if not isinstance(backend, DeviceChoice):
        return
    if live_input:
        app.state.input_device = await asyncio.to_thread(devices.current_name, "input", backend.input_device)
    if live_output:
        app.state.output_device = await asyncio.to_thread(devices.current_name, "output", backend.output_device)
    app.render_state()


def mic_test(app: VoiceApp) -> None:
    if app.current_session() is None:
        return
    if app.mic_test.running:
        app.notice("the mic test is already running", "warning")
        return
    app.mic_test.start()
    app.notice(f"mic test: speak for {TEST_S:.0f} seconds…")
    app.set_timer(TEST_S, lambda: app.notice(*app.mic_test.finish()))


def _get(link: LevelControls, name: Level) -> float:
    return link.volume if name == "volume" else link.gain


def _set(link: LevelControls, name: Level, value: float) -> None:
    if name == "volume":
        link.volume = value
    else:
        link.gain = value


def level(app: VoiceApp, name: Level, arg: str) -> None:
    session = app.current_session()
    if session is None:
        return
    if not arg.strip():
        app.notice(f"{name}: {_get(session.link, name) * 100:.0f}%")
        return
    try:
        factor = percent_factor(arg)
    except ValueError as exc:
        app.notice(f"/{name}: {exc}", "warning")
        return
    _set(session.link, name, factor)
    app.notice(f"{name}: {factor * 100:.0f}%")


def step_level(app: VoiceApp, name: Level, step: float) -> None:
    """The volume/gain keys: ±10 percentage points, within 0-400%."""
    session = app.current_session()
    if session is None:
        return
    value = min(4.0, max(0.0, round(_get(session.link, name) + step, 2)))
    _set(session.link, name, value)
    app.notice(f"{name}: {value * 100:.0f}%")
