"""The event pane (``/events`` or F6): recent session events, one line each.

Audio chunks and meter readings are counted, not listed (they come tens of times a second);
every line goes through :func:`voicecli.secrets.redact` and keeps field values short."""

from __future__ import annotations

import dataclasses
import time
from collections import deque

from textual.widgets import Log

from voicecli.protocol.events import AgentAudio, Event
from voicecli.secrets import redact
from voicecli.session.events import Levels

MAX_LINES = 300
MAX_VALUE = 60


def stamp() -> str:
    """The wall-clock time at the start of each line."""
    return time.strftime("%H:%M:%S")


def _short(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def describe(event: Event) -> str:
    """``TranscriptFinal role='agent' text='Hello'``: the event's name and its set fields
    (none left at its default)."""
    fields = []
    if dataclasses.is_dataclass(event):
        for f in dataclasses.fields(event):
            value = getattr(event, f.name)
            if value is None or value == {} or isinstance(value, bytes) \
                    or (f.default is not dataclasses.MISSING and value == f.default):
                continue
            fields.append(f"{f.name}={_short(value)}")
    return redact(" ".join([type(event).__name__, *fields]))


class EventPane(Log):
    """Hidden until asked for; keeps the last :data:`MAX_LINES` lines. Lines are kept aside
    while the pane is hidden and written when it is shown (:meth:`show`): a hidden pane does
    no layout work, and none is left running when the app leaves."""

    DEFAULT_CSS = "EventPane { height: 8; display: none; }"

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(max_lines=MAX_LINES, auto_scroll=True, id=id)
        self.audio_chunks = 0
        self.kept: deque[str] = deque(maxlen=MAX_LINES)

    def add(self, event: Event) -> None:
        if isinstance(event, Levels):
            return
        if isinstance(event, AgentAudio):
            self.audio_chunks += 1
            if self.audio_chunks % 50 != 1:
                return
            line = f"AgentAudio ×{self.audio_chunks} ({len(event.data)} bytes, {event.format.sample_rate} Hz)"
        else:
            line = describe(event)
        line = f"{stamp()} {line}"
        self.kept.append(line)
        if self.display:
            self.write_line(line)

    def show(self, shown: bool) -> None:
        """Show the pane with the lines kept so far, or hide it."""
        if shown and not self.display:
            self.clear()
            self.write_lines(self.kept)
        self.display = shown
