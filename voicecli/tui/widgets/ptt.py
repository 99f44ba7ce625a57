"""Push-to-talk: the mode and mic-gate indicator, and the hold-to-talk button."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from voicecli.tui.ptt import PttMode
from voicecli.tui.state import TalkState


class PttIndicator(Widget):
    """``PTT toggle · mic closed — tap space to talk``: the mode and the mic, with a hint
    that names only the key that works where the focus is (``talk_key``)."""

    DEFAULT_CSS = "PttIndicator { height: 1; width: 1fr; }"

    def __init__(self, state: TalkState, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.state = state
        self.talk_key = "ctrl+space"

    def show(self, talk_key: str) -> None:
        self.talk_key = talk_key
        state = self.state
        self.set_class(state.live and state.ptt != "off" and state.gate_open and not state.muted, "-talking")
        self.refresh()

    def render(self) -> Text:
        state, key = self.state, self.talk_key
        mode = PttMode(state.ptt)
        text = Text(f"PTT {mode.value} · ", style="bold", no_wrap=True, overflow="ellipsis")
        word = state.mic_word
        if word == "muted":
            text.append("muted (F2 to unmute)", style="bold")
        elif word == "talking":
            text.append("● TALKING", style="bold reverse")
            text.append(f" — tap {key} to send" if mode is PttMode.TOGGLE else " — release to send")
        elif word == "closed":
            verb = "tap" if mode is PttMode.TOGGLE else "hold"
            text.append(f"mic closed — {verb} {key} to talk")
        else:
            text.append(word)
        if state.half_duplex and word in ("open mic", "talking"):
            text.append(" (half-duplex: mic off while the agent talks)")
        return text


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
