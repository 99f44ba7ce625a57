"""The key-bindings help screen (F1 or /help)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from voicecli.tui.commands import SLASH_COMMANDS

KEYS: list[tuple[str, str]] = [
    ("Enter", "send the typed message (or run a /command)"),
    ("typing", "letters, digits and space always go to the message box, wherever the focus is"),
    ("Up, Down", "the messages sent before (in the message box)"),
    ("space", "talk key, in the empty message box (see PTT modes)"),
    ("ctrl+space", "talk key, anywhere"),
    ("F2", "mute / unmute the microphone"),
    ("F3", "cycle the push-to-talk mode: off → toggle → hold"),
    ("F4", "interrupt the agent"),
    ("F5", "copy the selection, or else the last reply"),
    ("ctrl+c", "with text selected: copy it; otherwise end the session and quit"),
    ("F6", "show / hide the event pane"),
    ("F7, F8", "speaker volume down / up (10%)"),
    ("F9, F10", "microphone gain down / up (10%)"),
    ("Escape", "leave the message box, to scroll the conversation with the arrow and page keys"),
    ("Tab", "back to the message box"),
    ("F1", "this help"),
    ("ctrl+q", "end the session and quit"),
    ("mouse", "drag to select text; click the mute button; hold the \"hold to talk\" button"),
]

PTT_MODES: list[tuple[str, str]] = [
    ("off", "open mic (default): the provider detects your turns"),
    ("toggle", "tap the talk key to open the mic, tap again to close it and send the turn"),
    ("hold", "hold the talk key while you speak; let go to send (the hold is detected from the "
             "terminal's key repeat; up to 60 s)"),
]


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row(Text("Keys", style="bold underline"), "")
    for key, what in KEYS:
        table.add_row(key, what)
    table.add_row("", "")
    table.add_row(Text("Push-to-talk", style="bold underline"), "")
    for mode, what in PTT_MODES:
        table.add_row(f"--ptt {mode}", what)
    table.add_row("", "While the mic is closed or muted it sends silence.")
    table.add_row("", "")
    table.add_row(Text("Commands", style="bold underline"), "")
    for name, (arg, what) in SLASH_COMMANDS.items():
        table.add_row(f"/{name} {arg}".strip(), what)
    table.add_row("//text", "send text that starts with /")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1", "dismiss", "close help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(help_table())
            yield Static(Text("Escape closes this help.", style="italic"), id="help-footer")
