"""Slash commands typed in the message box, parsed without any UI."""

from __future__ import annotations

from dataclasses import dataclass

#: name → (argument, help line)
SLASH_COMMANDS: dict[str, tuple[str, str]] = {
    "mute": ("", "mute or unmute the microphone (it sends silence while muted)"),
    "aec": ("", "echo cancellation: /aec on, /aec off, or /aec alone to see it"),
    "ptt": ("MODE", "push-to-talk mode: off, toggle or hold"),
    "record": ("DIR|off", "record both sides as a stereo WAV in DIR; off (or stop) stops it"),
    "export": ("PATH", "save the conversation so far as Markdown"),
    "context": ("TEXT", "send background context to the agent (where the provider takes it)"),
    "interrupt": ("", "stop the agent's current reply"),
    "reconnect": ("", "reconnect now (while reconnecting, or after it gave up)"),
    "copy": ("", "copy the last reply to the clipboard; /copy all copies the conversation"),
    "events": ("", "show or hide the event pane (recent protocol events)"),
    "devices": ("", "list the microphones and speakers"),
    "input": ("NAME|N", "switch to another microphone (a name or a number from /devices)"),
    "output": ("NAME|N", "switch to another speaker (a name or a number from /devices)"),
    "mictest": ("", "show the microphone's level for a few seconds"),
    "volume": ("", "the speaker volume in percent, e.g. /volume 80 (0-400)"),
    "gain": ("", "the microphone gain in percent, e.g. /gain 150 (0-400)"),
    "help": ("", "show the keys and commands"),
    "quit": ("", "end the session and leave"),
}

_NEEDS_ARGUMENT = {name for name, (arg, _) in SLASH_COMMANDS.items() if arg}


@dataclass(frozen=True)
class SlashCommand:
    name: str
    argument: str = ""


class SlashError(ValueError):
    """A line that starts with ``/`` but is not a usable command."""


def parse_slash(line: str) -> SlashCommand | None:
    """``None`` for ordinary text (``//text`` sends ``/text``); a command otherwise.

    Raises :class:`SlashError` for unknown commands and missing arguments.
    """
    stripped = line.strip()
    if not stripped.startswith("/") or stripped.startswith("//"):
        return None
    name, _, argument = stripped[1:].partition(" ")
    name = name.lower()
    argument = argument.strip()
    if name in ("q", "exit"):
        name = "quit"
    if name == "?":
        name = "help"
    if name not in SLASH_COMMANDS:
        known = " ".join(f"/{n}" for n in SLASH_COMMANDS)
        raise SlashError(f"unknown command /{name}; commands: {known}")
    if name in _NEEDS_ARGUMENT and not argument:
        raise SlashError(f"/{name} needs {SLASH_COMMANDS[name][0]}")
    return SlashCommand(name, argument)


def unescape(line: str) -> str:
    """The text to send for a line that is not a command (``//x`` → ``/x``)."""
    stripped = line.strip()
    return stripped[1:] if stripped.startswith("//") else stripped
