"""Clickable controls: the mute toggle."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

WIDTH = 14  # the same in both states: a second click lands where the first did


class MuteButton(Widget):
    """Shows the mute state; a click asks the app to toggle it."""

    DEFAULT_CSS = f"MuteButton {{ height: 1; width: {WIDTH}; }}"

    class Clicked(Message):
        """The user clicked the mute button."""

    muted: reactive[bool] = reactive(False)

    def render(self) -> Text:
        label = "[ muted F2 ]" if self.muted else "[ mute  F2 ]"
        return Text(label.ljust(WIDTH), style="bold" if self.muted else "")

    def watch_muted(self, muted: bool) -> None:
        self.set_class(muted, "-muted")

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked())
