"""Running the slash commands typed in the message box."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from voicecli.errors import VoicecliError
from voicecli.protocol.commands import ContextUpdate
from voicecli.session.transcript import Transcript, to_markdown
from voicecli.tui.binding import SessionLike, TalkSettings
from voicecli.tui.commands import SlashCommand
from voicecli.tui.ptt import PttMode


class SlashHost(Protocol):
    """What the commands need from the app."""

    settings: TalkSettings
    transcript: Transcript

    def notice(self, text: str, level: str = "info") -> None: ...

    def current_session(self) -> SessionLike | None: ...

    def set_ptt_mode(self, mode: PttMode) -> None: ...

    def action_toggle_mute(self) -> None: ...

    def action_interrupt(self) -> None: ...

    def reconnect_now(self) -> None: ...

    def action_help(self) -> None: ...

    def action_quit_session(self) -> None: ...

    def copy_command(self, argument: str) -> None: ...

    def action_toggle_events(self) -> None: ...

    def run_audio(self, command: SlashCommand) -> bool: ...


def run_view(host: SlashHost, command: SlashCommand) -> bool:
    """``/copy`` and ``/events``; False for other commands."""
    if command.name == "copy":
        host.copy_command(command.argument)
    elif command.name == "events":
        host.action_toggle_events()
    else:
        return False
    return True


def run_slash(host: SlashHost, command: SlashCommand) -> None:
    if run_view(host, command) or host.run_audio(command):
        return
    name, arg = command.name, command.argument
    if name == "mute":
        host.action_toggle_mute()
    elif name == "ptt":
        try:
            host.set_ptt_mode(PttMode.parse(arg))
        except ValueError as exc:
            host.notice(str(exc), "warning")
    elif name == "record":
        record(host, Path(arg).expanduser())
    elif name == "export":
        export(host, Path(arg).expanduser())
    elif name == "context":
        context(host, arg)
    elif name == "interrupt":
        host.action_interrupt()
    elif name == "reconnect":
        host.reconnect_now()
    elif name == "help":
        host.action_help()
    elif name == "quit":
        host.action_quit_session()


def context(host: SlashHost, text: str) -> None:
    session = host.current_session()
    if session is None:
        return
    if not session.adapter.capabilities.context_update:
        host.notice("this provider does not accept context updates", "warning")
        return
    session.submit(ContextUpdate(text))
    host.notice("context sent")


def record(host: SlashHost, directory: Path) -> None:
    session = host.current_session()
    if session is None:
        return
    if host.settings.recorder is None:
        host.notice("recording is not available", "warning")
        return
    try:
        host.notice(host.settings.recorder(session, directory))
    except (OSError, VoicecliError) as exc:
        host.notice(f"cannot record: {exc}", "error")
    except Exception as exc:  # noqa: BLE001 - a recorder failure must not end the conversation
        host.notice(f"cannot record: {exc.__class__.__name__}: {exc}", "error")


def export(host: SlashHost, path: Path) -> None:
    title = f"voicecli talk — {host.settings.agent or host.settings.dialect}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_markdown(host.transcript, title), encoding="utf-8")
    except OSError as exc:
        host.notice(f"cannot export: {exc.strerror or exc}", "error")
        return
    host.notice(f"conversation saved to {path}")
