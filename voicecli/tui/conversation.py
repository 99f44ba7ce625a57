"""The conversation model behind the pane: turns folded from events, saved as they settle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from voicecli.protocol.events import Event, Interruption
from voicecli.session.events import SessionClosed
from voicecli.session.summary import SessionSummary
from voicecli.session.transcript import Transcript, TranscriptLog, Turn


class Conversation:
    """A :class:`Transcript` and its JSONL log. The log file is created with the first
    settled turn or the session start, so a failed handshake leaves no empty file."""

    def __init__(self, path: Path | None) -> None:
        self.transcript = Transcript()
        self.wanted_path = path
        self.path: Path | None = None  # set once the file exists
        self.header: dict[str, Any] = {}
        self._log: TranscriptLog | None = None
        self.log_error: str | None = None  # why the file could not be written, once
        self.summary = SessionSummary()  # the exit screen, /export and the end record share it

    def apply(self, event: Event) -> list[Turn]:
        """Fold one event in; returns the changed turns (already logged when final)."""
        turns = self.transcript.apply(event)
        self.summary.apply(event)
        if isinstance(event, Interruption):
            # the cut-off turn is over: the agent's next words start a new turn (a late
            # truncated final from the provider still replaces its text, and is logged again)
            for turn in turns:
                turn.final = True
        if turns and self._log is None and any(t.final for t in turns):
            self.open_log()
        if self._log is not None and turns:
            self._log.update(turns)
        return turns

    def open_log(self) -> None:
        """Start the file; when it cannot be written, ``log_error`` says why and logging stops."""
        path = self.wanted_path
        if self._log is not None or path is None:
            return
        self.wanted_path = None
        try:
            self._log = TranscriptLog(path, self.header)
        except OSError as exc:
            self.log_error = f"cannot save the transcript: {exc}"
            return
        self.path = self.summary.transcript = path
        self._log.update([t for t in self.transcript.turns if t.final])

    def end(self, closed: SessionClosed) -> None:
        self.summary.finish(closed)
        self.summary.count(self.transcript)
        if self._log is not None:
            self._log.end(closed, self.summary.as_record())
            self._log = None

    def has_error(self, text: str) -> bool:
        return any(t.kind == "error" and t.text == text for t in self.transcript.turns)
