"""Device discovery and selection on top of PortAudio (sounddevice), as plain data.

``sounddevice`` is imported lazily and with PortAudio's stderr chatter (ALSA, JACK)
silenced, so that importing ``voicecli.audio`` never needs PortAudio and never prints.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any, Literal

from voicecli.audio.realtime import raise_server_client_threads, server_client_threads
from voicecli.errors import AudioDeviceError

Direction = Literal["input", "output"]
DeviceSpec = int | str | None

_stderr_lock = threading.RLock()


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration (native libraries print there).

    Only where ``os.dup2`` works on a real descriptor 2; elsewhere a no-op."""
    with _stderr_lock:
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        try:
            saved = os.dup(2)
        except OSError:
            yield
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 2)
            finally:
                os.close(devnull)
        except OSError:
            os.close(saved)
            yield
            return
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


_sd: ModuleType | None = None
_sd_error: str | None = None


def load_sounddevice() -> ModuleType | None:
    """Import sounddevice once (quietly). ``None`` when PortAudio is unavailable;
    ``unavailable_reason()`` then says why."""
    global _sd, _sd_error
    if _sd is not None or _sd_error is not None:
        return _sd
    try:
        with quiet_stderr():
            import sounddevice

        _sd = sounddevice
        _silence_alsa()
    except (OSError, ImportError) as exc:
        _sd_error = f"audio unavailable ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    return _sd


_alsa_handler: Any = None


def _silence_alsa() -> None:
    """ALSA's library prints runtime messages ("underrun occurred") straight to stderr,
    long after the stream was opened: give it a handler that drops them (Linux only)."""
    global _alsa_handler
    if _alsa_handler is not None or not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("asound")
    if name is None:
        return
    try:
        lib = ctypes.CDLL(name)
        handler_type = ctypes.CFUNCTYPE(
            None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
        )
        _alsa_handler = handler_type(lambda *_: None)
        lib.snd_lib_error_set_handler(_alsa_handler)
    except (OSError, AttributeError):
        _alsa_handler = None


def unavailable_reason() -> str | None:
    return _sd_error


def reinitialize() -> None:
    """Make PortAudio enumerate devices again (it does so only at initialisation)."""
    sd = load_sounddevice()
    if sd is None:
        return
    with quiet_stderr():
        sd._terminate()
        sd._initialize()


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    default_input: bool
    default_output: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def channels(self, direction: Direction) -> int:
        return self.max_input_channels if direction == "input" else self.max_output_channels


def list_devices() -> list[DeviceInfo]:
    """Every PortAudio device, or ``[]`` when there is no PortAudio or no device."""
    sd = load_sounddevice()
    if sd is None:
        return []
    try:
        with quiet_stderr():
            raw = sd.query_devices()
            apis = sd.query_hostapis()
            default_in, default_out = _default_indices(sd)
    except Exception:  # noqa: BLE001 - PortAudio errors vary by host API; no device is the answer
        return []
    out: list[DeviceInfo] = []
    for dev in raw:
        idx = int(dev["index"])
        api = apis[int(dev["hostapi"])]["name"] if int(dev["hostapi"]) < len(apis) else "?"
        out.append(
            DeviceInfo(
                index=idx,
                name=str(dev["name"]),
                hostapi=str(api),
                max_input_channels=int(dev["max_input_channels"]),
                max_output_channels=int(dev["max_output_channels"]),
                default_samplerate=float(dev["default_samplerate"]),
                default_input=idx == default_in,
                default_output=idx == default_out,
            )
        )
    return out


def _default_indices(sd: ModuleType) -> tuple[int, int]:
    pair = sd.default.device
    try:
        default_in, default_out = int(pair[0]), int(pair[1])
    except (TypeError, ValueError, IndexError):
        default_in = default_out = -1
    if default_in < 0 or default_out < 0:
        # fall back to the host API's defaults (what PortAudio opens for device=None)
        with contextlib.suppress(Exception):
            api = sd.query_hostapis(0)
            if default_in < 0:
                default_in = int(api["default_input_device"])
            if default_out < 0:
                default_out = int(api["default_output_device"])
    return default_in, default_out


def find_device(spec: DeviceSpec, direction: Direction, devices: list[DeviceInfo] | None = None) -> DeviceInfo:
    """The device for ``spec``: an index, a case-insensitive name substring, or ``None``
    for the default. Raises ``AudioDeviceError`` when nothing fits."""
    devs = list_devices() if devices is None else devices
    usable = [d for d in devs if d.channels(direction) > 0]
    if not usable:
        raise AudioDeviceError(f"no {direction} device found")
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "default")):
        for d in usable:
            if (d.default_input if direction == "input" else d.default_output):
                return d
        return usable[0]
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        idx = int(spec)
        for d in devs:
            if d.index == idx:
                if d.channels(direction) == 0:
                    raise AudioDeviceError(f"device {idx} ({d.name}) has no {direction} channels")
                return d
        raise AudioDeviceError(f"no audio device with index {idx} (see `voicecli devices`)")
    needle = spec.strip().lower()
    exact = [d for d in usable if d.name.lower() == needle]
    if exact:
        return exact[0]
    matches = [d for d in usable if needle in d.name.lower()]
    if not matches:
        raise AudioDeviceError(f"no {direction} device matches {spec!r} (see `voicecli devices`)")
    return matches[0]


def check_rate(device: DeviceInfo, direction: Direction, rate: int, channels: int) -> None:
    """Raise ``AudioDeviceError`` unless the device accepts ``rate`` Hz."""
    sd = load_sounddevice()
    if sd is None:
        raise AudioDeviceError(unavailable_reason() or "audio unavailable")
    check = sd.check_input_settings if direction == "input" else sd.check_output_settings
    try:
        with quiet_stderr():
            check(device=device.index, samplerate=rate, channels=channels, dtype="float32")
    except Exception as exc:  # noqa: BLE001 - sounddevice raises PortAudioError or ValueError
        raise AudioDeviceError(
            f"{direction} device {device.index} ({device.name}) does not support {rate} Hz: "
            f"{str(exc).splitlines()[0]}"
        ) from None


@dataclass(frozen=True)
class StreamFormat:
    """What a stream on a device opens with: the requested rate or the device's default,
    and how many channels the device has in that direction."""

    name: str
    rate: int
    max_channels: int


def stream_format(sd: ModuleType, device: int | str | None, direction: Direction,
                  requested_rate: int | None) -> StreamFormat:
    with quiet_stderr():
        info = sd.query_devices(device, direction)
    max_channels = int(info[f"max_{direction}_channels"])
    if max_channels < 1:
        raise AudioDeviceError(f"device {info['name']!r} has no {direction} channels")
    rate = int(requested_rate or round(float(info["default_samplerate"])))
    return StreamFormat(str(info["name"]), rate, max_channels)


def start_stream(factory: Callable[..., Any], fmt: StreamFormat, direction: Direction,
                 set_clock_offset: Callable[[float], None], **kwargs: Any) -> Any:
    """Open and start a low-latency float32 stream. Before it starts (so before the first
    callback can run), ``set_clock_offset`` gets the offset that maps PortAudio's stream
    clock, which is not ``time.monotonic()``, to the monotonic clock. Failures become
    one-line ``AudioDeviceError``s."""
    before = server_client_threads()
    try:
        with quiet_stderr():
            stream = factory(samplerate=fmt.rate, dtype="float32", latency="low", **kwargs)
            set_clock_offset(float(stream.time) - time.monotonic())
            stream.start()
    except Exception as exc:  # noqa: BLE001 - PortAudioError or ValueError from sounddevice
        raise AudioDeviceError(f"cannot open {direction} device {fmt.name!r} at {fmt.rate} Hz: "
                               f"{str(exc).splitlines()[0]}") from None
    raise_server_client_threads(before)  # the callback thread asks for itself (realtime.py)
    return stream


# ---- named devices for the device picker ---------------------------------------------------
#
# PortAudio on Linux sees the sound server only as ALSA's ``pulse``/``default`` devices. Where
# ``pactl`` answers (PulseAudio, or PipeWire's pulse server), the picker lists the server's
# own sources and sinks by name, and a choice is opened through PortAudio's ``pulse`` device
# with ``PULSE_SOURCE``/``PULSE_SINK`` naming it (the ALSA plugin reads them when a stream
# opens). Elsewhere the picker lists PortAudio's devices.

_PULSE_ENV: dict[Direction, str] = {"input": "PULSE_SOURCE", "output": "PULSE_SINK"}


@dataclass(frozen=True, slots=True)
class NamedDevice:
    """One choice in the picker: ``number`` is what ``/input N`` takes (1-based)."""

    number: int
    name: str  # the server's name (pulse) or PortAudio's
    description: str
    default: bool
    via: Literal["pulse", "portaudio"]
    index: int = -1  # the PortAudio index (portaudio only)


def _pactl_json(*args: str) -> Any:
    import json
    import shutil
    import subprocess

    if shutil.which("pactl") is None:
        return None
    try:
        out = subprocess.run(["pactl", "-f", "json", *args], capture_output=True, text=True, timeout=3)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    try:
        return json.loads(out.stdout)
    except ValueError:
        return None


def _pulse_default(direction: Direction) -> str | None:
    import subprocess

    what = "get-default-source" if direction == "input" else "get-default-sink"
    try:
        out = subprocess.run(["pactl", what], capture_output=True, text=True, timeout=3)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def pulse_devices(direction: Direction) -> list[NamedDevice] | None:
    """The sound server's sources (without sink monitors) or sinks; ``None`` without one."""
    raw = _pactl_json("list", "sources" if direction == "input" else "sinks")
    if not isinstance(raw, list):
        return None
    chosen = os.environ.get(_PULSE_ENV[direction]) or _pulse_default(direction)
    out: list[NamedDevice] = []
    for item in raw:
        name = str(item.get("name", "")) if isinstance(item, dict) else ""
        if not name or (direction == "input" and _is_monitor(item)):
            continue
        out.append(NamedDevice(len(out) + 1, name, str(item.get("description") or name), name == chosen, "pulse"))
    return out


def _is_monitor(source: dict[str, Any]) -> bool:
    """A sink's monitor (what it plays), not a microphone. pactl 16's JSON puts the sink's
    name under ``monitor_source``; ``device.class`` says it plainly."""
    props = source.get("properties") or {}
    return props.get("device.class") == "monitor" or source.get("monitor_of_sink") not in (None, "", "n/a")


def named_devices(direction: Direction) -> list[NamedDevice]:
    """What the picker offers: the sound server's devices where there is one, else PortAudio's."""
    pulse = pulse_devices(direction)
    if pulse is not None and (pulse or not list_devices()):
        return pulse
    usable = [d for d in list_devices() if d.channels(direction) > 0]
    return [NamedDevice(n, d.name, f"{d.name} ({d.hostapi})", d.default_input if direction == "input"
                        else d.default_output, "portaudio", d.index) for n, d in enumerate(usable, 1)]


def pick_named(spec: str, devices: list[NamedDevice], direction: Direction) -> NamedDevice:
    """``N`` (the listed number), an exact name, or a unique part of a name or description."""
    text = spec.strip()
    if text.isdigit():
        for dev in devices:
            if dev.number == int(text):
                return dev
        raise AudioDeviceError(f"no {direction} device number {text} (see /devices)")
    needle = text.lower()
    exact = [d for d in devices if needle in (d.name.lower(), d.description.lower())]
    matches = exact or [d for d in devices if needle in d.name.lower() or needle in d.description.lower()]
    if not matches:
        raise AudioDeviceError(f"no {direction} device matches {spec!r} (see /devices)")
    if len(matches) > 1:
        names = ", ".join(d.name for d in matches[:4])
        raise AudioDeviceError(f"{spec!r} matches several {direction} devices ({names}); be more precise")
    return matches[0]


def route(device: NamedDevice, direction: Direction) -> DeviceSpec:
    """What to open through PortAudio for ``device``: its index, or the ``pulse`` device
    with the server's device named in the environment (so the next stream opens it)."""
    if device.via == "portaudio":
        return device.index
    os.environ[_PULSE_ENV[direction]] = device.name
    pulse = [d for d in list_devices() if d.name == "pulse" and d.channels(direction) > 0]
    if not pulse:
        raise AudioDeviceError("PortAudio has no `pulse` device to open the sound server's devices through "
                               "(install libasound2-plugins)")
    return pulse[0].index


def current_name(direction: Direction, spec: DeviceSpec) -> str | None:
    """The name of the device a stream opened with ``spec`` uses, for the status bar."""
    try:
        chosen = find_device(spec, direction) if spec is not None else None
    except AudioDeviceError:
        return None
    if chosen is not None and chosen.name not in ("pulse", "default"):
        return chosen.name
    named = named_devices(direction)
    return next((d.name for d in named if d.default), chosen.name if chosen else None)
