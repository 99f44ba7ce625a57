"""``voicecli doctor``: is this machine ready to talk? Audio stack and devices, each
profile's key and host, the terminal (checks in :mod:`voicecli.cli.doctor_checks`).

Prints a table (or ``--json``); exits 0 when nothing needed is missing, else with the first
failure's code (10 audio, 3 a missing key, 6 a host that does not resolve, connect or
complete TLS). Keys are never printed, only whether they are set.
"""

from __future__ import annotations

import os
import select
import shutil
import sys
import time
from typing import Annotated

import typer

from voicecli.cli.config import api_key, config_path, key_required, load_config, resolve
from voicecli.cli.doctor_checks import Check, audio_checks, host_check, key_check
from voicecli.cli.output import print_json
from voicecli.errors import ConfigError, VoicecliError
from voicecli.secrets import redact

MARKS = {"ok": "ok", "warn": "warn", "fail": "FAIL", "info": "-"}


def profile_checks(config: str | None, network: bool) -> list[Check]:
    path = config_path(config)
    data = load_config(path, required=config is not None)
    profiles = data.get("profiles", {})
    if not profiles:
        return [Check("profile", "profiles", "info", f"none in {path}")]
    out: list[Check] = []
    for name in sorted(profiles):
        try:
            target = resolve(profile=name, url=None, dialect=None, agent=None, sample_rate=None, variables={},
                             config_file=config, default_to_atoms_with_agent=False)
        except VoicecliError as exc:
            out.append(Check("profile", name, "fail", str(exc), exc.exit_code))
            continue
        if target.local:
            out.append(Check("profile", name, "info", "no url: the built-in local agent"))
            continue
        present = api_key(target, required=False) is not None
        out.append(key_check(name, target.key_env, present, key_required(target)))
        if network and target.url:
            out.append(host_check(name, target.url))
    return out


def terminal_checks() -> list[Check]:
    tty = sys.stdout.isatty()
    size = shutil.get_terminal_size(fallback=(0, 0))
    term, colorterm = os.environ.get("TERM", ""), os.environ.get("COLORTERM", "").lower()
    if os.environ.get("NO_COLOR"):
        colours = "none (NO_COLOR is set)"
    elif colorterm in ("truecolor", "24bit"):
        colours = "24-bit"
    elif "256color" in term:
        colours = "256"
    elif not term or term == "dumb":
        colours = f"none (TERM={term or 'unset'})"
    else:
        colours = "16"
    small = tty and (size.columns < 60 or size.lines < 16)
    out = [Check("terminal", "terminal", "ok" if tty else "info",
                 f"{'a terminal' if tty else 'not a terminal (output is redirected)'}, TERM={term or 'unset'}"),
           Check("terminal", "colours", "info", colours),
           Check("terminal", "size", "warn" if small else "info",
                 (f"{size.columns}x{size.lines}" if size.columns else "unknown")
                 + (" (talk needs at least 60x16)" if small else ""))]
    out.append(Check("terminal", "kitty keyboard", "info", _kitty_keyboard()))
    return out


def _kitty_keyboard() -> str:
    """Ask the terminal (CSI ? u, then a device-attributes query every terminal answers)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return "unknown (not a terminal)"
    try:
        import termios
        import tty
    except ImportError:
        return "unknown (no termios)"
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    reply = b""
    try:
        tty.setcbreak(fd)
        os.write(sys.stdout.fileno(), b"\x1b[?u\x1b[c")
        deadline = time.monotonic() + 0.5
        while not reply.endswith(b"c") and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            reply += os.read(fd, 64)
    except OSError:
        return "unknown (the terminal did not answer)"
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    answers = reply.split(b"\x1b[?")[1:]
    if any(answer.rstrip(b"0123456789;").endswith(b"u") for answer in answers):
        return "supported (push-to-talk can use key release)"
    return "not supported (push-to-talk falls back to key repeat)" if reply else "unknown (no answer)"


def render(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = []
    group = ""
    for check in checks:
        if check.group != group:
            group = check.group
            lines.append(group)
        lines.append(f"  {MARKS[check.status]:<4}  {check.name:<{width}}  {check.detail}")
    return "\n".join(lines)


def doctor(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    audio: Annotated[bool, typer.Option("--audio/--no-audio", help="Check the audio stack and devices "
                                                                   "(--no-audio: a text-only machine).")] = True,
    input_device: Annotated[str | None, typer.Option("--input-device", help="Also check this microphone.")] = None,
    output_device: Annotated[str | None, typer.Option("--output-device", help="Also check this speaker.")] = None,
    network: Annotated[bool, typer.Option("--network/--no-network", help="Resolve and connect to each "
                                                                         "profile's host.")] = True,
    loopback: Annotated[bool, typer.Option("--loopback/--no-loopback", help="Play a short tone and listen "
                                                                            "for it.")] = True,
    config: Annotated[str | None, typer.Option("--config", help="Config file path.")] = None,
) -> int:
    """Check the audio stack, devices, profiles (keys, hosts) and the terminal."""
    checks = audio_checks(input_device, output_device, loopback) if audio else []
    try:
        checks += profile_checks(config, network)
    except ConfigError as exc:
        checks.append(Check("profile", "config", "fail", str(exc), exc.exit_code))
    checks += terminal_checks()
    failed = [c for c in checks if c.status == "fail"]
    code = (failed[0].exit_code or 1) if failed else 0
    if json_out:
        print_json({"ok": not failed, "exit_code": code, "checks": [c.to_dict() for c in checks]})
    else:
        print(redact(render(checks)))
        print("ready" if not failed else f"{len(failed)} problem{'s' if len(failed) > 1 else ''}: "
                                         + "; ".join(f"{c.name}: {c.detail}" for c in failed))
    return code
