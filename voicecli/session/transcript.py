"""The conversation as turns, built from session events, and its files.

:class:`Transcript` folds events into turns (streaming deltas rewrite the open turn,
finals settle it, interruptions mark and truncate the agent's turn). :class:`TranscriptLog`
appends each settled turn to a JSONL file as it happens, so a crash loses nothing said;
:func:`to_markdown` renders the whole conversation for ``/export``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from voicecli.protocol.events import (
    AgentAudio,
    ErrorEvent,
    Event,
    Interruption,
    SessionEnded,
    SessionStarted,
    TextDelta,
    ToolCall,
    ToolResult,
    TranscriptCorrection,
    TranscriptDelta,
    TranscriptFinal,
)
from voicecli.secrets import redact
from voicecli.session.events import PlaybackFlushed, SessionClosed, TextSent

TurnKind = Literal["speech", "typed", "reasoning", "tool", "error", "notice"]


@dataclass
class Turn:
    role: str  # "user" | "agent" | "system"
    text: str = ""
    kind: TurnKind = "speech"
    final: bool = False
    interrupted: bool = False
    at: float = field(default_factory=time.time)
    audio_s: float = 0.0  # agent audio received for this turn
    index: int = 0

    def as_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["text"] = redact(self.text)
        return record


class Transcript:
    """Turns in order. ``apply(event)`` returns the turns it changed (for redraws and logs)."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.session_id: str | None = None
        self.conversation_id: str | None = None

    # ---- folding ---------------------------------------------------------------------------

    def apply(self, event: Event) -> list[Turn]:
        if isinstance(event, SessionStarted):
            self.session_id = event.session_id
            self.conversation_id = event.conversation_id
            return []
        if isinstance(event, TextSent):
            return [self._new("user", event.text, "typed", final=True)]
        if isinstance(event, TranscriptDelta):
            turn = self._open(event.role, "speech")
            turn.text = event.text if event.cumulative else turn.text + event.text
            return [turn]
        if isinstance(event, TranscriptFinal):
            return self._final(event.role, event.text)
        if isinstance(event, TranscriptCorrection):
            corrected = self._last("agent")
            if corrected is None:
                return []
            corrected.text = event.corrected
            return [corrected]
        if isinstance(event, TextDelta):
            kind: TurnKind = "reasoning" if event.kind == "reasoning" else "speech"
            turn = self._open("agent", kind)
            turn.text += event.text
            if event.phase == "stop" and kind == "reasoning":
                turn.final = True
            return [turn]
        if isinstance(event, AgentAudio):
            turn = self._open("agent", "speech")
            if event.format.is_pcm and event.format.sample_rate:
                turn.audio_s += len(event.data) / 2 / event.format.sample_rate
            return []
        if isinstance(event, Interruption):
            cut = self._last("agent")
            if cut is not None and (not cut.final or cut is self.turns[-1]):
                cut.interrupted = True
                cut.final = True  # the agent's next words start a new turn
                return [cut]
            return []
        if isinstance(event, PlaybackFlushed):
            return self._truncate(event.heard_s)
        if isinstance(event, ToolCall):
            args = json.dumps(dict(event.arguments), ensure_ascii=False)[:200]
            return [self._new("agent", f"{event.name}({args})", "tool", final=True)]
        if isinstance(event, ToolResult):
            status = "error" if event.is_error else "result"
            return [self._new("agent", f"{event.name} {status}: {str(event.result)[:200]}", "tool",
                              final=True)]
        if isinstance(event, ErrorEvent):
            return [self._new("system", f"error {event.code}: {event.message}", "error", final=True)]
        if isinstance(event, SessionEnded) and event.error:
            return [self._new("system", event.error, "error", final=True)]
        if isinstance(event, SessionClosed):
            changed = [t for t in self.turns if not t.final]
            for turn in changed:
                turn.final = True
            return changed
        return []

    def _new(self, role: str, text: str, kind: TurnKind, final: bool = False) -> Turn:
        turn = Turn(role=role, text=text, kind=kind, final=final, index=len(self.turns))
        self.turns.append(turn)
        return turn

    def _open(self, role: str, kind: TurnKind) -> Turn:
        """The open turn of ``role`` and ``kind``, or a new one."""
        for turn in reversed(self.turns):
            if turn.role == role and turn.kind == kind and not turn.final and not turn.interrupted:
                return turn
            if turn.role == role and turn.kind in ("speech", "typed"):
                break
        return self._new(role, "", kind)

    def _last(self, role: str) -> Turn | None:
        for turn in reversed(self.turns):
            if turn.role == role and turn.kind == "speech":
                return turn
        return None

    def _final(self, role: str, text: str) -> list[Turn]:
        if role == "user":
            last = self.turns[-1] if self.turns else None
            # a provider that echoes typed text as a user transcript: keep one turn
            if last is not None and last.kind == "typed" and last.text.strip() == text.strip():
                return []
        for turn in reversed(self.turns):
            if turn.role == role and turn.kind == "speech":
                if not turn.final:
                    turn.text = text
                    turn.final = True
                    return [turn]
                if turn.interrupted and role == "agent" and turn is self._last("agent"):
                    turn.text = text  # the provider's truncated text after an interruption
                    return [turn]
                break
        return [self._new(role, text, "speech", final=True)]

    def _truncate(self, heard_s: float) -> list[Turn]:
        """Cut an interrupted agent turn to about what was heard, when the provider
        sends no truncated text of its own (it may still replace it later)."""
        turn = self._last("agent")
        if turn is None or not turn.interrupted or turn.audio_s <= 0 or not turn.text:
            return []
        fraction = min(1.0, heard_s / turn.audio_s)
        if fraction >= 0.98:
            return []
        words = turn.text.split()
        keep = math.ceil(len(words) * fraction)  # the word being spoken was partly heard
        turn.text = " ".join(words[:keep]) + (" …" if keep < len(words) else "")
        return [turn]


class TranscriptLog:
    """Appends settled turns to a JSONL file, flushed line by line."""

    def __init__(self, path: Path, header: dict[str, Any] | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._written: set[int] = set()
        self._write({"type": "session", "at": time.time(), **(header or {})})

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(redact(json.dumps(record, ensure_ascii=False)) + "\n")
        self._file.flush()

    def update(self, turns: list[Turn]) -> None:
        """Write the turns that became final (once each; an interrupted agent turn whose
        text is corrected later is written again with ``"revision": true``)."""
        for turn in turns:
            if not turn.final:
                continue
            record = {"type": "turn", **turn.as_record()}
            if turn.index in self._written:
                record["revision"] = True
            self._written.add(turn.index)
            self._write(record)

    def end(self, closed: SessionClosed) -> None:
        self._write({"type": "end", "at": time.time(), "reason": closed.reason,
                     "close_code": closed.close_code, "error": closed.error})
        self._file.close()


def to_markdown(transcript: Transcript, title: str = "Conversation") -> str:
    lines = [f"# {title}", ""]
    for turn in transcript.turns:
        stamp = time.strftime("%H:%M:%S", time.localtime(turn.at))
        who = {"user": "You", "agent": "Agent"}.get(turn.role, "System")
        text = redact(turn.text)
        if turn.kind == "reasoning":
            text = f"_{text}_"
        elif turn.kind == "tool":
            text = f"`{text}`"
        suffix = " _(interrupted)_" if turn.interrupted else ""
        lines.append(f"**{who}** ({stamp}): {text}{suffix}")
        lines.append("")
    return "\n".join(lines)
