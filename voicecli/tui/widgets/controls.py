"""Clickable controls: the mute toggle."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class MuteButton(Widget):
    """Shows the mute state; a click asks the app to toggle it."""

    DEFAULT_CSS = "MuteButton { height: 1; width: auto; }"

    class Clicked(Message):
        """The user clicked the mute button."""

    muted: reactive[bool] = reactive(False, layout=True)

    def render(self) -> Text:
        return Text("[ muted  (m) ]" if self.muted else "[ mute (m) ]", style="bold" if self.muted else "")

    def watch_muted(self, muted: bool) -> None:
        self.set_class(muted, "-muted")

    def get_content_width(self, container: object, viewport: object) -> int:  # type: ignore[override]
        return 14 if self.muted else 12

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked())
