"""The conversation as turns, built from session events, and its files.

:class:`Transcript` folds events into turns in conversation order, whatever order the
provider sends a reply's pieces in:

- the agent's pieces (text deltas, final text, audio, corrections, interruptions) are
  filed under the provider's own turn identity (``event.turn``: ElevenLabs' ``event_id``,
  Atoms' talking turns, VoiceAgent's streams). A reply's text may come before, with or
  after its audio, and audio may trail its final text: all of it lands on one turn, and a
  late piece edits its turn in place, wherever that turn now sits;
- a piece with no identity belongs to the agent turn in progress (the last agent turn,
  while the user has not spoken since and it is neither settled nor cut), else opens one;
  the next piece with an identity adopts that turn;
- a new agent turn is always added at the end, so a reply never sits above the user turn
  that caused it; no agent turn is made for nothing (text or audio, or it is not shown);
- user turns: streaming deltas rewrite the open user turn, a final settles it, typed text
  is a turn of its own (a provider's echo of it as a transcript is not a second turn);
- an interruption marks the agent turn it cut; the provider's truncated text or
  correction, or else the share of audio heard (:class:`PlaybackFlushed`), edits it; a
  final text that is not what was heard (``as_heard=False``: VoiceAgent's text streamed
  so far, ElevenLabs' and PerfVoice's whole reply, either of which may arrive after the
  cut) is cut to that share too;
- a lost connection (:class:`ConnectionLost`) settles the agent's turns and marks the reply
  it cut as interrupted; the provider's turn identities start again on the next connection,
  so they are keyed per connection ("epoch") and never land on an older turn;
  :class:`Reconnected` adds a "reconnected" marker turn.

:class:`TranscriptLog` appends each settled turn to a JSONL file as it happens, so a crash
loses nothing said, and writes it again (``"revision": true``) when it changes later;
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
from voicecli.session.events import ConnectionLost, Mark, PlaybackFlushed, Reconnected, SessionClosed, TextSent

TurnKind = Literal["speech", "typed", "reasoning", "tool", "error", "notice"]
AGENT_KINDS: tuple[TurnKind, ...] = ("speech", "reasoning")


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

    @property
    def empty(self) -> bool:
        return not self.text.strip() and self.audio_s <= 0


class Transcript:
    """Turns in order. ``apply(event)`` returns the turns it changed (for redraws and logs)."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.session_id: str | None = None
        self.conversation_id: str | None = None
        self._epoch = 0  # connections so far: provider turn ids restart on each
        self._by_key: dict[tuple[tuple[int, int], str], Turn] = {}  # ((epoch, provider turn), kind) -> turn
        self._key_of: dict[int, tuple[int, int]] = {}  # turn index -> (epoch, provider turn)
        self._input_at = 0  # where the latest input began (a Mark)
        self._cut: Turn | None = None  # the agent turn the last interruption cut
        self._cut_text = ""  # its text when it was cut (what a truncation shortens)
        self._heard_s: float | None = None  # seconds of the cut turn heard (from its flush)
        # turn index -> (seconds, text) of each audio chunk that said what it speaks
        self._spoken: dict[int, list[tuple[float, str]]] = {}

    # ---- what is shown -----------------------------------------------------------------------

    @property
    def visible(self) -> list[Turn]:
        """The turns worth showing: every turn but agent turns that hold nothing yet."""
        return [t for t in self.turns if not (t.role == "agent" and t.empty)]

    # ---- folding ---------------------------------------------------------------------------

    def apply(self, event: Event) -> list[Turn]:
        changed = self._apply(event)
        return [t for t in changed if not (t.role == "agent" and t.empty)]

    def _apply(self, event: Event) -> list[Turn]:
        if isinstance(event, SessionStarted):
            self.session_id = event.session_id
            self.conversation_id = event.conversation_id
            return []
        if isinstance(event, Mark):
            self._input_at = len(self.turns)  # a new input: the agent's next words answer it
            return []
        if isinstance(event, TextSent):
            return [self._new("user", event.text, "typed", final=True)]
        if isinstance(event, TranscriptDelta):
            if event.role == "user":
                turn = self._open_user()
                turn.text = event.text if event.cumulative else turn.text + event.text
                return [turn]
            turn = self._agent(event.turn, "speech")
            if turn.final:
                return []  # the settled text wins over a late draft
            turn.text = event.text if event.cumulative else turn.text + event.text
            return [turn]
        if isinstance(event, TranscriptFinal):
            return self._user_final(event.text) if event.role == "user" else self._agent_final(event)
        if isinstance(event, TranscriptCorrection):
            corrected = self._corrected(event.turn)
            if corrected is None:
                return []
            corrected.text = event.corrected
            return [corrected]
        if isinstance(event, TextDelta):
            kind: TurnKind = "reasoning" if event.kind == "reasoning" else "speech"
            turn = self._agent(event.turn, kind)
            if turn.final and kind == "speech":
                return []
            turn.text += event.text
            if event.phase == "stop" and kind == "reasoning":
                turn.final = True
            return [turn]
        if isinstance(event, AgentAudio):
            turn = self._agent(event.turn, "speech")
            if event.format.is_pcm and event.format.sample_rate:
                seconds = len(event.data) / 2 / event.format.sample_rate
                turn.audio_s += seconds
                if event.text is not None:
                    self._spoken.setdefault(turn.index, []).append((seconds, event.text))
            return []  # audio is not shown; the turn is logged with its text
        if isinstance(event, Interruption):
            return self._interrupt(event.turn)
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
        if isinstance(event, ConnectionLost):
            return self._lost(event.mid_reply)
        if isinstance(event, Reconnected):
            self._cut = None
            return [self._new("system", "reconnected", "notice", final=True)]
        if isinstance(event, SessionClosed):
            for turn in self.turns:
                turn.final = True
            return list(self.turns)  # audio may have grown on settled turns: the log compares
        return []

    # ---- turns -----------------------------------------------------------------------------

    def _new(self, role: str, text: str, kind: TurnKind, final: bool = False) -> Turn:
        turn = Turn(role=role, text=text, kind=kind, final=final, index=len(self.turns))
        self.turns.append(turn)
        return turn

    def _since_user(self) -> list[Turn]:
        """The turns after the user last spoke or typed (or a caller's :class:`Mark` said a
        new input began, for providers that report none of the user's words)."""
        for pos in range(len(self.turns) - 1, self._input_at - 1, -1):
            if self.turns[pos].role == "user":
                return self.turns[pos + 1:]
        return self.turns[self._input_at:]

    def _agent(self, turn_id: int | None, kind: TurnKind) -> Turn:
        """The agent turn of ``kind`` that provider turn ``turn_id`` belongs to."""
        key = None if turn_id is None else (self._epoch, turn_id)
        if key is not None and (key, kind) in self._by_key:
            return self._by_key[(key, kind)]
        in_progress = next((t for t in reversed(self._since_user())
                            if t.role == "agent" and t.kind == kind), None)
        if in_progress is not None and (in_progress.final or in_progress.interrupted):
            in_progress = None
        if in_progress is not None and key is not None and in_progress.index in self._key_of:
            in_progress = None  # it belongs to another provider turn: this is a new one
        turn = in_progress or self._new("agent", "", kind)
        if key is not None:
            self._by_key[(key, kind)] = turn
            self._key_of[turn.index] = key
        return turn

    def _agent_final(self, event: TranscriptFinal) -> list[Turn]:
        cut = self._cut
        if event.turn is None and cut is not None and cut.index not in self._key_of \
                and not any(t.role == "agent" and t.kind == "speech" for t in self.turns[cut.index + 1:]):
            turn = cut  # the provider's truncated text of the turn it cut (no identity to go by)
        else:
            turn = self._agent(event.turn, "speech")
        turn.text = event.text
        turn.final = True
        if not event.as_heard and turn is cut:
            # the text the agent generated, which may run past what was played: it is what
            # the turn said when cut, and the estimate of what was heard applies to it
            self._cut_text = event.text
            if self._heard_s is not None:
                self._truncate(self._heard_s)
        return [turn]

    def _open_user(self) -> Turn:
        for turn in reversed(self.turns):
            if turn.role == "user":
                if turn.kind == "speech" and not turn.final:
                    return turn
                break
        return self._new("user", "", "speech")

    def _user_final(self, text: str) -> list[Turn]:
        last_user = next((t for t in reversed(self.turns) if t.role == "user"), None)
        # a provider that echoes typed text as a user transcript: keep one turn
        if last_user is not None and last_user.kind == "typed" and last_user.text.strip() == text.strip():
            return []
        turn = self._open_user()
        turn.text = text
        turn.final = True
        return [turn]

    def _interrupt(self, turn_id: int | None) -> list[Turn]:
        turn = self._by_key.get(((self._epoch, turn_id), "speech")) if turn_id is not None else None
        if turn is None:
            turn = next((t for t in reversed(self.turns) if t.role == "agent" and t.kind == "speech"), None)
        if turn is None or turn.interrupted:
            return []
        self._mark_cut(turn)
        return [turn]

    def _mark_cut(self, turn: Turn) -> None:
        turn.interrupted = True
        self._cut, self._cut_text, self._heard_s = turn, turn.text, None

    def _corrected(self, turn_id: int | None) -> Turn | None:
        key = ((self._epoch, turn_id), "speech")
        if turn_id is not None and key in self._by_key:
            return self._by_key[key]
        if self._cut is not None:
            return self._cut
        return next((t for t in reversed(self.turns) if t.role == "agent" and t.kind == "speech"), None)

    def _lost(self, mid_reply: bool) -> list[Turn]:
        """The connection is gone: its agent turns are over, the reply it cut is interrupted."""
        self._epoch += 1
        agent = [t for t in self._since_user() if t.role == "agent" and t.kind in AGENT_KINDS]
        cut = next((t for t in reversed(agent) if t.kind == "speech"), None) if mid_reply else None
        if cut is not None and not cut.interrupted:
            self._mark_cut(cut)
        changed = [t for t in agent if not t.final or t is cut]
        for turn in changed:
            turn.final = True
        return changed

    def _truncate(self, heard_s: float) -> list[Turn]:
        """Cut the interrupted agent turn to about what was heard, when the provider
        sends no truncated text of its own (it may still replace it later)."""
        turn = self._cut
        if turn is not None:
            self._heard_s = heard_s
        if turn is None or turn.audio_s <= 0 or not self._cut_text or turn.text != self._cut_text:
            return []  # nothing to go by, or already cut (by the provider's text or an estimate)
        spoken = self._spoken.get(turn.index)
        heard = _heard(spoken, heard_s) if spoken else None
        if heard is not None:
            if len(heard) >= len(self._cut_text.strip()):
                return []
            turn.text = heard + " …"
            return [turn]
        # no timings: the share of the audio received that was played
        fraction = min(1.0, heard_s / turn.audio_s)
        if fraction >= 0.98:
            return []
        words = self._cut_text.split()
        keep = math.ceil(len(words) * fraction)  # the word being spoken was partly heard
        turn.text = " ".join(words[:keep]) + (" …" if keep < len(words) else "")
        return [turn]


def _heard(spoken: list[tuple[float, str]], heard_s: float) -> str:
    """What the chunks said in their first ``heard_s`` seconds, to the end of the word
    being spoken (it was partly heard)."""
    said = ""
    elapsed = 0.0
    for seconds, text in spoken:
        if elapsed + seconds <= heard_s:
            said += text
            elapsed += seconds
            continue
        share = max(0.0, heard_s - elapsed) / seconds if seconds > 0 else 0.0
        cut = math.ceil(len(text) * share)
        said += text[:cut]
        rest = text[cut:]
        if said and not said[-1].isspace():
            said += rest.split(" ", 1)[0]  # finish the word being spoken
        break
    return said.strip()


class TranscriptLog:
    """Appends settled turns to a JSONL file, flushed line by line."""

    def __init__(self, path: Path, header: dict[str, Any] | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._written: dict[int, dict[str, Any]] = {}  # turn index -> the record last written
        self._write({"type": "session", "at": time.time(), **(header or {})})

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(redact(json.dumps(record, ensure_ascii=False)) + "\n")
        self._file.flush()

    def update(self, turns: list[Turn]) -> None:
        """Write the turns that became final; a settled turn that changed since it was
        written (a correction, a cut, audio that trailed its text) is written again with
        ``"revision": true``. Unchanged turns are not written twice."""
        for turn in turns:
            if not turn.final:
                continue
            record = {"type": "turn", **turn.as_record()}
            last = self._written.get(turn.index)
            if last == record:
                continue
            self._written[turn.index] = record
            self._write({**record, "revision": True} if last is not None else record)

    def end(self, closed: SessionClosed, summary: dict[str, Any] | None = None) -> None:
        extra = {"summary": summary} if summary is not None else {}
        self._write({"type": "end", "at": time.time(), "reason": closed.reason,
                     "close_code": closed.close_code, "error": closed.error, **extra})
        self._file.close()


def to_markdown(transcript: Transcript, title: str = "Conversation") -> str:
    lines = [f"# {title}", ""]
    for turn in transcript.visible:
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
