"""Running the slash commands typed in the message box."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

from voicecli.errors import VoicecliError
from voicecli.protocol.commands import ContextUpdate
from voicecli.session.recording import STOP_WORDS
from voicecli.session.summary import SessionSummary
from voicecli.session.transcript import Transcript, to_markdown
from voicecli.tui.binding import SessionLike, TalkSettings
from voicecli.tui.commands import SlashCommand
from voicecli.tui.conversation import Conversation
from voicecli.tui.ptt import PttMode


class SlashHost(Protocol):
    """What the commands need from the app."""

    settings: TalkSettings
    transcript: Transcript
    conversation: Conversation
    recording: Path | None

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
    elif name == "aec":
        aec(host, arg)
    elif name == "ptt":
        try:
            host.set_ptt_mode(PttMode.parse(arg))
        except ValueError as exc:
            host.notice(str(exc), "warning")
    elif name == "record":
        record(host, arg)
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


def aec(host: SlashHost, argument: str) -> None:
    """``/aec on|off`` turns echo cancellation on or off; ``/aec`` alone tells its state."""
    session = host.current_session()
    if session is None:
        return
    word = argument.lower()
    if word not in ("", "on", "off"):
        host.notice("/aec takes on or off", "warning")
        return
    answer = session.set_aec(None if not word else word == "on")
    host.notice(answer, "warning" if "needs" in answer or "unavailable" in answer else "info")


def context(host: SlashHost, text: str) -> None:
    session = host.current_session()
    if session is None:
        return
    if not session.adapter.capabilities.context_update:
        host.notice("this provider does not accept context updates", "warning")
        return
    session.submit(ContextUpdate(text))
    host.notice("context sent")


def record(host: SlashHost, argument: str) -> None:
    """``/record DIR`` starts a recording (stopping the one running, both files named);
    ``/record off`` or ``/record stop`` stops it. ``host.recording`` follows."""
    session = host.current_session()
    if session is None:
        return
    recorder = host.settings.recorder
    if recorder is None:
        host.notice("recording is not available", "warning")
        return
    try:
        if argument.lower() in STOP_WORDS:
            host.notice(recorder.stop(session))
        else:
            host.notice(recorder.start(session, Path(argument).expanduser()))
    except (OSError, VoicecliError) as exc:
        host.notice(f"cannot record: {exc}", "error")
    except Exception as exc:  # noqa: BLE001 - a recorder failure must not end the conversation
        host.notice(f"cannot record: {exc.__class__.__name__}: {exc}", "error")
    host.recording = recorder.current


def export_text(transcript: Transcript, summary: SessionSummary, who: str) -> str:
    """The Markdown export: a dated title, the conversation, then the summary so far."""
    date = time.strftime("%Y-%m-%d %H:%M", time.localtime(summary.started_at))
    summary.count(transcript)
    lines = ["", "## Summary", "", *(f"- {line}" for line in summary.lines()), ""]
    return to_markdown(transcript, f"voicecli talk — {who} — {date}") + "\n".join(lines)


def export(host: SlashHost, path: Path) -> None:
    who = host.settings.agent or host.settings.dialect
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(export_text(host.transcript, host.conversation.summary, who), encoding="utf-8")
    except OSError as exc:
        host.notice(f"cannot export: {exc.strerror or exc}", "error")
        return
    host.notice(f"conversation saved to {path}")
