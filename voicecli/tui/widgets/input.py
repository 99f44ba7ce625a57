"""The message box: Enter sends text or a /command; space in an empty box is the talk key."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Input


class MessageInput(Input):
    """An :class:`Input` that hands the talk key to the app while it is empty, so
    push-to-talk works without leaving the box and typing spaces still works."""

    class TalkKey(Message):
        """Space was pressed (or auto-repeated) in the empty box."""

    talk_key = False  # True while push-to-talk is on: space in the empty box is the talk key

    async def _on_key(self, event: events.Key) -> None:
        if self.talk_key and event.key == "space" and not self.value:
            event.stop()
            event.prevent_default()
            self.post_message(self.TalkKey())
            return
        await super()._on_key(event)
