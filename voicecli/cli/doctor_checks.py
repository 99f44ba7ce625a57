"""What ``voicecli doctor`` checks. Each check gives a :class:`Check`: ``ok``, ``warn``
(worth knowing, nothing is missing), ``fail`` (something needed is missing: the command
exits non-zero with the first failure's code) or ``info``.

Audio: PortAudio and its host APIs, the PulseAudio/PipeWire server (its socket, and
``pactl info`` for its name), each device opened at its default rate (a stream that
delivers or takes audio within a second), and a loopback level check (a short tone played
while the microphone listens; heard or not, it is information). Profiles: the key is
present (never shown) and the host resolves, accepts TCP and completes a TLS handshake
(``wss``/``https``). Terminal: colours, size, the kitty keyboard protocol.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from voicecli.audio import devices as audio_devices
from voicecli.errors import AudioDeviceError, ConfigError, NetworkError

NET_TIMEOUT_S = 3.0
OPEN_WAIT_S = 1.0
TONE_S, TONE_HZ = 0.4, 1000.0


@dataclass
class Check:
    group: str  # audio | profile | terminal
    name: str
    status: str  # ok | warn | fail | info
    detail: str
    exit_code: int = 0  # for a failure: the CLI exit code of its kind

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fail(group: str, name: str, detail: str, code: int) -> Check:
    return Check(group, name, "fail", detail, code)


# ---- audio ---------------------------------------------------------------------------------

def audio_checks(input_device: str | None, output_device: str | None, loopback: bool = True) -> list[Check]:
    out = [pulse_check()]
    sd = audio_devices.load_sounddevice()
    if sd is None:
        reason = audio_devices.unavailable_reason() or "PortAudio not found"
        out.insert(0, _fail("audio", "PortAudio", f"{reason}: install libportaudio2 (Debian) or portaudio",
                            AudioDeviceError.exit_code))
        return out
    version = str(getattr(sd, "get_portaudio_version", lambda: (0, "?"))()[1])
    out.insert(0, Check("audio", "PortAudio", "ok", version))
    found = audio_devices.list_devices()
    apis = sorted({d.hostapi for d in found})
    out.append(Check("audio", "host APIs", "info" if apis else "warn", ", ".join(apis) or "no devices found"))
    picked: dict[str, audio_devices.DeviceInfo] = {}
    for direction, spec in (("input", input_device), ("output", output_device)):
        label = f"{direction} device" + (f" {spec!r}" if spec else " (default)")
        try:
            device = audio_devices.find_device(spec, direction, found)  # type: ignore[arg-type]
        except AudioDeviceError as exc:
            out.append(_fail("audio", label, str(exc), AudioDeviceError.exit_code))
            continue
        rate = int(round(device.default_samplerate))
        problem = _open(sd, direction, device.index, rate)
        if problem:
            out.append(_fail("audio", label, f"{device.name} at {rate} Hz: {problem}", AudioDeviceError.exit_code))
        else:
            picked[direction] = device
            out.append(Check("audio", label, "ok", f"{device.name} ({device.hostapi}) opens at {rate} Hz"))
    if loopback and len(picked) == 2:
        out.append(_loopback(sd, picked["input"], picked["output"]))
    return out


def _open(sd: Any, direction: str, index: int, rate: int) -> str | None:
    """None when a stream on the device runs (gets audio from it or gives audio to it)."""
    moved = threading.Event()

    def callback(*args: Any) -> None:
        if direction == "output":
            args[0].fill(0)
        moved.set()

    cls = sd.InputStream if direction == "input" else sd.OutputStream
    try:
        with audio_devices.quiet_stderr(), cls(device=index, samplerate=rate, channels=1, dtype="float32",
                                               callback=callback):
            if not moved.wait(OPEN_WAIT_S):
                return f"opened, but no audio moved within {OPEN_WAIT_S:g} s"
    except Exception as exc:  # noqa: BLE001 - PortAudioError or ValueError from sounddevice
        return str(exc).splitlines()[0] or type(exc).__name__
    return None


def _loopback(sd: Any, mic: audio_devices.DeviceInfo, speaker: audio_devices.DeviceInfo) -> Check:
    """Play a tone on the speaker while the microphone listens: did the level rise?"""
    rate = int(round(speaker.default_samplerate))
    t = np.arange(int(TONE_S * rate)) / rate
    tone = (0.3 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
    quiet = np.zeros(int(0.3 * rate), np.float32)
    played = np.concatenate([quiet, tone, quiet[: rate // 10]])
    try:
        with audio_devices.quiet_stderr():
            heard = sd.playrec(played.reshape(-1, 1), samplerate=rate, channels=1, dtype="float32",
                               device=(mic.index, speaker.index), blocking=False)
            deadline = time.monotonic() + played.size / rate + 2.0
            while sd.get_stream().active and time.monotonic() < deadline:
                time.sleep(0.02)
            sd.stop()
    except Exception as exc:  # noqa: BLE001 - duplex at one rate is not possible everywhere
        return Check("audio", "loopback", "info", f"not possible here: {str(exc).splitlines()[0]}")
    data = np.asarray(heard, dtype=np.float32).reshape(-1)
    before = _db(data[: quiet.size])
    during = _db(data[quiet.size + rate // 20: quiet.size + tone.size])
    if during > -50 and during - before >= 10:
        return Check("audio", "loopback", "ok", f"the microphone heard the speaker: {during:.0f} dBFS "
                                                f"(quiet: {before:.0f} dBFS)")
    return Check("audio", "loopback", "info", f"the microphone did not hear the speaker ({during:.0f} dBFS; "
                                              "normal with headphones or a separate microphone)")


def _db(samples: np.ndarray[Any, Any]) -> float:
    if samples.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20 * float(np.log10(max(rms, 1e-6)))


def pulse_check() -> Check:
    """Linux: the PulseAudio (or PipeWire's pulse) server answers on its socket."""
    if not sys.platform.startswith("linux"):
        return Check("audio", "sound server", "info", f"not checked on {sys.platform}")
    server = os.environ.get("PULSE_SERVER", "")
    runtime = os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")
    path = server[len("unix:"):] if server.startswith("unix:") else (
        "" if server else os.path.join(runtime, "pulse", "native"))
    if not path:
        return Check("audio", "sound server", "info", f"PULSE_SERVER={server} (not a local socket; not checked)")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(NET_TIMEOUT_S)
            sock.connect(path)
    except OSError as exc:
        pipewire = os.path.join(runtime, "pipewire-0")
        extra = "; PipeWire's socket is there, but not its PulseAudio service" if os.path.exists(pipewire) else ""
        return Check("audio", "sound server", "warn",
                     f"no PulseAudio/PipeWire at {path} ({exc.strerror or exc}){extra}")
    return Check("audio", "sound server", "ok", _server_name() or f"answering at {path}")


def _server_name() -> str | None:
    if shutil.which("pactl") is None:
        return None
    try:
        info = subprocess.run(["pactl", "info"], capture_output=True, text=True, timeout=NET_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in info.stdout.splitlines():
        if line.startswith("Server Name:"):
            return line.split(":", 1)[1].strip()
    return None


# ---- profiles ------------------------------------------------------------------------------

def key_check(profile: str, key_env: str, present: bool, required: bool) -> Check:
    label = f"{profile}: key"
    if present:
        return Check("profile", label, "ok", f"set ({key_env})")
    if required:
        return _fail("profile", label, f"missing: set the environment variable {key_env}", ConfigError.exit_code)
    return Check("profile", label, "info", f"none ({key_env} unset; this dialect can connect without one)")


def host_check(profile: str, url: str) -> Check:
    """Resolve, connect (TCP) and, for wss/https, complete a TLS handshake."""
    label = f"{profile}: host"
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme in ("wss", "https")
    port = parts.port or (443 if secure else 80)
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return _fail("profile", label, f"{host} does not resolve ({_reason(exc)})", NetworkError.exit_code)
    family, kind, proto, _, address = addresses[0]
    started = time.monotonic()
    try:
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(NET_TIMEOUT_S)
            sock.connect(address)
            tcp_ms = (time.monotonic() - started) * 1000
            if not secure:
                return Check("profile", label, "ok", f"{host}:{port} reachable (TCP {tcp_ms:.0f} ms, no TLS)")
            context = ssl.create_default_context()
            with context.wrap_socket(sock, server_hostname=host) as tls:
                version = tls.version()
    except ssl.SSLError as exc:
        return _fail("profile", label, f"{host}:{port}: TLS handshake failed ({_reason(exc)})",
                     NetworkError.exit_code)
    except OSError as exc:
        return _fail("profile", label, f"{host}:{port} not reachable ({_reason(exc)})", NetworkError.exit_code)
    total_ms = (time.monotonic() - started) * 1000
    return Check("profile", label, "ok", f"{host}:{port} reachable (TCP {tcp_ms:.0f} ms, {version} "
                                         f"{total_ms:.0f} ms)")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or "certificate verify failed"
    if isinstance(exc, ssl.SSLError):
        return exc.reason or str(exc).splitlines()[0]
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {NET_TIMEOUT_S:g} s"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).splitlines()[0] or type(exc).__name__
