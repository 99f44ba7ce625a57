"""What a talk session came to, for the exit screen, ``/export`` and the JSONL end record.

:class:`SessionSummary` folds the session's events as they come (reply latencies,
reconnects, the end), counts the turns and cut replies from the :class:`Transcript` when asked, and
holds the files the session wrote (the JSONL transcript, WAV recordings). It knows no UI:
:meth:`SessionSummary.lines` gives plain lines a screen or a file can print.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicecli.protocol.events import Event, SessionStarted
from voicecli.session.events import Reconnected, SessionClosed, TurnLatency
from voicecli.session.transcript import Transcript


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) by linear interpolation between ranks; ``None``
    when there are no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * min(max(q, 0.0), 100.0) / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def duration_text(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    total = int(round(max(seconds, 0.0)))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass
class SessionSummary:
    """Counts and figures of one session; ``clock`` is wall time (seconds)."""

    started_at: float = field(default_factory=time.time)
    connected_at: float | None = None
    ended_at: float | None = None
    user_turns: int = 0
    agent_turns: int = 0
    interruptions: int = 0
    reconnects: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    transcript: Path | None = None
    recordings: list[Path] = field(default_factory=list)
    end_reason: str | None = None
    exit_code: int = 0

    # ---- folding -----------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        if isinstance(event, SessionStarted):
            if self.connected_at is None:
                self.connected_at = time.time()
        elif isinstance(event, TurnLatency):
            self.latencies_ms.append(event.ms)
        elif isinstance(event, Reconnected):
            self.reconnects += 1
        elif isinstance(event, SessionClosed):
            self.finish(event)

    def finish(self, closed: SessionClosed, exit_code: int | None = None) -> None:
        """The session ended (the first end wins; a later exit code may replace its code)."""
        if self.ended_at is None:
            self.ended_at = time.time()
            self.end_reason = closed.reason
            self.exit_code = closed.exit_code if closed.error else 0
        if exit_code is not None:
            self.exit_code = exit_code

    def count(self, transcript: Transcript) -> None:
        """The user's and the agent's turns that hold something, and the agent's replies that
        were cut (by the user or the provider: one each, however many events told it)."""
        turns = transcript.visible
        self.user_turns = sum(1 for t in turns if t.role == "user" and t.text.strip())
        agent = [t for t in turns if t.role == "agent" and t.kind == "speech"]
        self.agent_turns = len(agent)
        self.interruptions = sum(1 for t in agent if t.interrupted)

    def add_recording(self, path: Path) -> None:
        if path not in self.recordings:
            self.recordings.append(path)

    # ---- figures -----------------------------------------------------------------------------

    @property
    def duration_s(self) -> float:
        start = self.connected_at if self.connected_at is not None else self.started_at
        end = self.ended_at if self.ended_at is not None else time.time()
        return max(end - start, 0.0)

    @property
    def reply_p50_ms(self) -> float | None:
        return percentile(self.latencies_ms, 50)

    @property
    def reply_p95_ms(self) -> float | None:
        return percentile(self.latencies_ms, 95)

    def files(self) -> list[tuple[str, Path]]:
        """The files written, as (what, path), those that exist on disk."""
        found = [("transcript", self.transcript)] if self.transcript is not None else []
        found += [("recording", path) for path in self.recordings]
        return [(what, path) for what, path in found if path is not None and path.exists()]

    def as_record(self) -> dict[str, Any]:
        """The JSON form (the JSONL end record's ``summary``)."""
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {
            "duration_s": round(self.duration_s, 3),
            "user_turns": self.user_turns,
            "agent_turns": self.agent_turns,
            "interruptions": self.interruptions,
            "reconnects": self.reconnects,
            "reply_ms": [round(v, 1) for v in self.latencies_ms],
            "reply_p50_ms": ms(self.reply_p50_ms),
            "reply_p95_ms": ms(self.reply_p95_ms),
            "transcript": str(self.transcript) if self.transcript is not None else None,
            "recordings": [str(p) for p in self.recordings],
            "end_reason": self.end_reason,
            "exit_code": self.exit_code,
        }

    def lines(self) -> list[str]:
        """Plain lines: duration and turns, reply latency, then each file written."""
        head = (f"{duration_text(self.duration_s)} · {self.user_turns} user turn"
                f"{'' if self.user_turns == 1 else 's'} · {self.agent_turns} agent turn"
                f"{'' if self.agent_turns == 1 else 's'}")
        if self.interruptions:
            head += f" · {self.interruptions} interruption{'' if self.interruptions == 1 else 's'}"
        if self.reconnects:
            head += f" · {self.reconnects} reconnect{'' if self.reconnects == 1 else 's'}"
        out = [head]
        p50, p95 = self.reply_p50_ms, self.reply_p95_ms
        if p50 is not None and p95 is not None:
            out.append(f"reply latency p50 {p50:.0f} ms · p95 {p95:.0f} ms ({len(self.latencies_ms)} "
                       f"repl{'y' if len(self.latencies_ms) == 1 else 'ies'})")
        else:
            out.append("reply latency: no replies measured")
        for what, path in self.files():
            out.append(f"{what} saved to {path}")
        return out
