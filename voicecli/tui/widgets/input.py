"""The message box: Enter sends text or a /command; space in an empty box is the talk key;
up/down walk the history of sent lines; a multi-line paste keeps its line breaks (shown
as ``⏎``, sent as newlines)."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input

LINE_BREAK = " ⏎ "  # how a pasted line break shows in the one-line box
HISTORY = 100


def restore_breaks(text: str) -> str:
    """The text to send: pasted line breaks back as newlines."""
    return "\n".join(part.strip() for part in text.split(LINE_BREAK.strip())) if LINE_BREAK.strip() in text else text


class MessageInput(Input):
    """An :class:`Input` that hands the talk key to the app while it is empty, so
    push-to-talk works without leaving the box and typing spaces still works."""

    BINDINGS = [
        Binding("up", "history(-1)", "previous", show=False),
        Binding("down", "history(1)", "next", show=False),
    ]

    class TalkKey(Message):
        """Space was pressed (or auto-repeated) in the empty box."""

    talk_key = False  # True while push-to-talk is on: space in the empty box is the talk key
    blink_s = 10.0
    """The cursor blinks this long after the last key, then stays lit: a session left open
    redraws nothing twice a second (the terminal is written only when something changes)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.history: list[str] = []
        self._at: int | None = None  # the history entry shown, None: the line being typed
        self._draft = ""
        self._settle: Timer | None = None

    def on_mount(self) -> None:
        self._wake_cursor()

    def _wake_cursor(self) -> None:
        """Blinking again, for ``blink_s`` from now."""
        self.cursor_blink = True
        if self._settle is not None:
            self._settle.stop()
        self._settle = self.set_timer(self.blink_s, self._settle_cursor)

    def _settle_cursor(self) -> None:
        self.cursor_blink = False  # the cursor stays shown

    async def _on_key(self, event: events.Key) -> None:
        self._wake_cursor()
        if self.talk_key and event.key == "space" and not self.value:
            event.stop()
            event.prevent_default()
            self.post_message(self.TalkKey())
            return
        await super()._on_key(event)

    def _on_paste(self, event: events.Paste) -> None:
        self._wake_cursor()
        lines = event.text.splitlines()
        if len(lines) > 1:
            while lines and not lines[-1].strip():
                lines.pop()
            event.stop()
            event.prevent_default()  # not Input's own handler, which keeps the first line only
            self.insert_text_at_cursor(LINE_BREAK.join(lines))
        # one line: Input's own handler inserts it (Textual runs each class's handler in
        # turn; calling it from here as well pasted the line twice)

    def remember(self, line: str) -> None:
        """A submitted line goes to the end of the history (not twice in a row)."""
        self._at, self._draft = None, ""
        if line.strip() and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[:-HISTORY]

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._at is None:
            if step > 0:
                return
            self._draft, self._at = self.value, len(self.history)
        self._at = max(0, self._at + step)
        if self._at >= len(self.history):
            self._at, value = None, self._draft
        else:
            value = self.history[self._at]
        self.value = value
        self.cursor_position = len(value)
