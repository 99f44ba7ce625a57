"""Push-to-talk: the mode and mic-gate indicator, and the hold-to-talk button."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from voicecli.tui.ptt import PttMode


class PttIndicator(Widget):
    """``PTT toggle · mic closed: tap space to talk``: the active mode, always shown."""

    DEFAULT_CSS = "PttIndicator { height: 1; width: 1fr; }"

    mode: reactive[PttMode] = reactive(PttMode.OFF)
    gate_open: reactive[bool] = reactive(True)
    muted: reactive[bool] = reactive(False)

    def render(self) -> Text:
        text = Text(f"PTT {self.mode.value} · ", style="bold")
        if self.muted:
            text.append("muted (m to unmute)", style="bold")
        elif self.mode is PttMode.OFF:
            text.append("open mic")
        elif self.gate_open:
            text.append("● TALKING", style="bold reverse")
            text.append(" — tap space to send" if self.mode is PttMode.TOGGLE else " — release to send")
        else:
            text.append("mic closed — " + self.mode.describe())
        return text

    def watch_gate_open(self, gate_open: bool) -> None:
        self.set_class(gate_open and self.mode is not PttMode.OFF, "-talking")


class HoldButton(Widget):
    """A button to hold with the mouse: real mouse down opens the mic, mouse up closes it."""

    DEFAULT_CSS = "HoldButton { height: 1; width: auto; }"

    class Pressed(Message):
        """The mouse button went down on the hold-to-talk button."""

    class Released(Message):
        """The mouse button went up (anywhere, since the button captured the mouse)."""

    held: reactive[bool] = reactive(False)

    def render(self) -> Text:
        if self.held:
            return Text("[ ● talking… ]", style="bold reverse")
        return Text("[ hold to talk ]")

    def get_content_width(self, container: object, viewport: object) -> int:  # type: ignore[override]
        return 16

    def on_mouse_down(self, event: events.MouseDown) -> None:
        event.stop()
        if self.held:
            return
        self.capture_mouse()
        self.held = True
        self.post_message(self.Pressed())

    def on_mouse_up(self, event: events.MouseUp) -> None:
        event.stop()
        self.release_mouse()
        if self.held:
            self.held = False
            self.post_message(self.Released())
